"""Tests: the real PostgreSQL and Redis that ``make test`` starts (DATABASE_URL, REDIS_URL).

Under CI=true both must be configured; nothing falls back to the demo cluster or in-process
Celery. Under pytest-xdist each worker gets its own test database (pytest-django) and its own
Redis database number, so one worker's Celery queues and unacknowledged messages are never
another's.
"""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASE_URL_IS_DEMO, DATABASES, REDIS_URL, env

if env.bool("CI", default=False):
    if DATABASE_URL_IS_DEMO:
        raise ImproperlyConfigured("CI=true: DATABASE_URL must point at the test PostgreSQL, not the demo cluster.")
    if not REDIS_URL:
        raise ImproperlyConfigured("CI=true: REDIS_URL must point at Redis.")

_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, …
if REDIS_URL and _xdist_worker.startswith("gw"):
    # Worker gwN uses Redis database (configured + 1 + N) % 16 (Redis has 16 by default: enough
    # for up to 15 workers), so no worker shares its database with a serial run or another worker.
    _configured = REDIS_URL
    _base, _, _db = REDIS_URL.rpartition("/")
    if not _db.isdigit():
        _base, _db = REDIS_URL.rstrip("/"), "0"
    REDIS_URL = f"{_base}/{(int(_db) + 1 + int(_xdist_worker[2:])) % 16}"
    if _configured == CELERY_BROKER_URL:
        CELERY_BROKER_URL = REDIS_URL
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Tests run tasks in-process unless a test starts a real worker (tests/test_worker*.py).
CELERY_TASK_ALWAYS_EAGER = True
