"""Settings of the portal benchmark (bench/portal.py): the API benchmark's (production settings
over plain HTTP on loopback), with the portal bench's bare views added to the portal's URLs and
the static files collected under bench/out/ (the pages name them through whitenoise's manifest)."""

from pathlib import Path

from bench.api_settings import *  # noqa: F403

ROOT_URLCONF = "bench.portal"
STATIC_ROOT = Path(__file__).resolve().parent / "out" / "static"
# A page's error is printed with its traceback (the bench stops on a page that does not answer 200).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
    "root": {"level": "ERROR"},
}
