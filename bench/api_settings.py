"""Settings of the API benchmark (bench/api.py): the production settings over plain HTTP on
loopback, with the bench's bare views added to the portal's URLs."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.api"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
