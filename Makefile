# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# The demo's PostgreSQL cluster (scripts/demo-db.sh): kept in this folder between runs, on this
# loopback port (5433 is the portal's default DATABASE_URL).
DEMO_PGDATA ?= /var/tmp/portal-demo-pg
DEMO_PGPORT ?= 5433
DEMO_DB := PORTAL_DEMO_PGDATA=$(DEMO_PGDATA) PORTAL_DEMO_PGPORT=$(DEMO_PGPORT) scripts/demo-db.sh
# pytest-xdist workers for `make test` (each gets its own test database and Redis database; 0 runs
# in one process). Tests are handed out one by one (--dist load): `--dist loadgroup` would do the
# same, since pytest-xdist 3.8 cannot mark its groups on pytest 9.2's node ids, so an
# xdist_group marker has no effect here.
TEST_WORKERS ?= 2

.PHONY: setup setup-dev demo demo-inside demo-stop demo-clean test test-inside lint typecheck bench messages clean

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

## demo: install, start the demo PostgreSQL (kept in $(DEMO_PGDATA)), migrate, load the demo county,
## serve it on 127.0.0.1:$(PORT); the cluster stops with the server (Celery in-process unless REDIS_URL)
demo: setup
	DEBUG=true $(DEMO_DB) run $(MAKE) --no-print-directory demo-inside

demo-inside:
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	@echo
	@echo "  Portal (admin):  http://127.0.0.1:$(PORT)/"
	@echo "  API docs:        http://127.0.0.1:$(PORT)/api/docs/"
	@$(PY) manage.py load_demo --logins
	@echo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## demo-stop: stop the demo PostgreSQL if a killed `make demo` left it running (the data stays)
demo-stop:
	$(DEMO_DB) stop

## demo-clean: stop the demo PostgreSQL and delete its folder; the next `make demo` starts afresh
demo-clean:
	$(DEMO_DB) clean

## test: start a throwaway PostgreSQL and Redis on loopback and run every test against them
test: setup-dev
	scripts/services.sh $(MAKE) --no-print-directory test-inside

test-inside:
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -n $(TEST_WORKERS) -m "not serial" $(PYTEST_ARGS)
	@# Tests that restart a shared server run alone (exit 5, none selected by PYTEST_ARGS, is fine here:
	@# the parallel run above fails on an empty selection).
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -m serial $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

## lint: ruff check and ruff format --check
lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## typecheck: mypy with the django-stubs and djangorestframework-stubs plugins (config in pyproject.toml)
# mypy only imports the test settings (no database is opened): CI's guard, which wants the test
# run's PostgreSQL and Redis, is off for it.
typecheck: setup-dev
	CI=false $(VENV)/bin/mypy

## bench: the evaluation, API, export and portal benchmarks on a throwaway PostgreSQL (bench/evaluate.py, bench/api.py, bench/export.py, bench/portal.py)
bench: setup-dev
	scripts/services.sh $(PY) bench/evaluate.py $(BENCH_ARGS)
	scripts/services.sh $(PY) bench/api.py $(BENCH_API_ARGS)
	scripts/services.sh $(PY) bench/export.py $(BENCH_EXPORT_ARGS)
	scripts/services.sh $(PY) bench/portal.py $(BENCH_PORTAL_ARGS)

## messages: recompile the translations (needs gettext's msgfmt)
messages: setup-dev
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache
