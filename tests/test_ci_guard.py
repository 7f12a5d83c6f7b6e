"""Under CI=true a missing PostgreSQL or Redis is a failure, never a silent fallback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _settings_load(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.test")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('loaded')"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"CI": "true"}, "PostgreSQL"),
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
