"""The Celery application.

Workers and beat start with ``celery -A config worker`` / ``celery -A config beat``.
Without a broker configured (the embedded default) tasks run in-process, eagerly.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
