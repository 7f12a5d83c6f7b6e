"""A database other than PostgreSQL is always refused; under CI=true so are the demo cluster's
default and a missing Redis: a failure, never a silent fallback."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _settings_load(settings="config.settings.test", **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CI")}
    clean.update(env, DJANGO_SETTINGS_MODULE=settings)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('loaded')"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"CI": "true", "REDIS_URL": "redis://127.0.0.1:1/0"}, "DATABASE_URL must point at the test PostgreSQL"),
        ({"CI": "true", "DATABASE_URL": "sqlite:///x.db", "REDIS_URL": "redis://127.0.0.1:1/0"}, "PostgreSQL"),
        ({"CI": "true", "DATABASE_URL": "postgres://u@127.0.0.1:1/db"}, "Redis"),
    ],
)
def test_ci_refuses_to_fall_back(env, missing):
    result = _settings_load(**env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_ci_with_both_servers_configured_loads():
    result = _settings_load(CI="true", DATABASE_URL="postgres://u@127.0.0.1:1/db", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout


@pytest.mark.parametrize("settings", ["config.settings.base", "config.settings.test"])
@pytest.mark.parametrize("url", ["sqlite:///x.db", "mysql://u@127.0.0.1/db"])
def test_a_database_other_than_postgresql_is_refused(settings, url):
    # given a DATABASE_URL that is not PostgreSQL, CI or not
    # when settings load
    result = _settings_load(settings, DATABASE_URL=url)

    # then they refuse it and say what is wanted
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL must point at PostgreSQL" in result.stderr


def test_without_database_url_the_portal_uses_the_demo_cluster():
    code = "import django; django.setup(); from django.db import connection as c; print(c.settings_dict['PORT'])"
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CI")}
    result = subprocess.run(  # noqa: S603 (this interpreter, a fixed snippet)
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5433"]


def test_a_command_needing_the_stopped_demo_cluster_says_how_to_start_it():
    # given no DATABASE_URL and nothing listening on the demo port (the test run has its own
    # servers; this checks the port is free rather than assume it)
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 5433)) == 0:
            pytest.skip("something listens on 127.0.0.1:5433 (a running demo cluster?)")
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CI", "DJANGO_SETTINGS_MODULE")}

    # when a command that needs the database runs
    result = subprocess.run(
        [sys.executable, "manage.py", "showmigrations"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )

    # then it fails with one line naming `make demo` and DATABASE_URL, no traceback
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "make demo" in result.stderr and "DATABASE_URL" in result.stderr
