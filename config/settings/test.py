"""Tests: the real PostgreSQL and Redis that ``make test`` starts (DATABASE_URL, REDIS_URL).

Under CI=true both must be configured; nothing falls back to SQLite or in-process Celery.
"""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env

if env.bool("CI", default=False):
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("CI=true: DATABASE_URL must point at PostgreSQL.")
    if not REDIS_URL:
        raise ImproperlyConfigured("CI=true: REDIS_URL must point at Redis.")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Tests run tasks in-process unless a test starts a real worker (tests/test_worker*.py).
CELERY_TASK_ALWAYS_EAGER = True
