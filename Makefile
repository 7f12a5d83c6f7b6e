# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: setup setup-dev demo test test-inside lint bench messages clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## setup: create .venv and install the runtime requirements
setup: $(VENV)/.runtime

setup-dev: $(VENV)/.dev

## demo: install, migrate, load the demo county and serve it on 127.0.0.1:$(PORT) (SQLite, in-process Celery)
demo: setup
	DEBUG=true $(PY) manage.py migrate --no-input
	DEBUG=true $(PY) manage.py load_demo
	@echo
	@echo "  Portal (admin):  http://127.0.0.1:$(PORT)/"
	@echo "  API docs:        http://127.0.0.1:$(PORT)/api/docs/"
	@DEBUG=true $(PY) manage.py load_demo --logins
	@echo
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

## test: start a throwaway PostgreSQL and Redis on loopback and run every test against them
test: setup-dev
	scripts/services.sh $(MAKE) --no-print-directory test-inside

test-inside:
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest $(PYTEST_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## bench: the evaluation benchmark and the API benchmark on a throwaway PostgreSQL (bench/evaluate.py, bench/api.py)
bench: setup-dev
	scripts/services.sh $(PY) bench/evaluate.py $(BENCH_ARGS)
	scripts/services.sh $(PY) bench/api.py $(BENCH_API_ARGS)

## messages: recompile the translations (needs gettext's msgfmt)
messages: setup-dev
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
