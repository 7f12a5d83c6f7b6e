"""Gunicorn settings for the web container (docker-compose's ``web`` service).

Everything can be overridden from the environment without rebuilding the image.
"""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# A county portal is mostly idle; a province's is not. Two per core plus one is gunicorn's rule.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Exports and the admin's bigger pages can take a while on a small machine.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes the portal down.
max_requests = 1000
max_requests_jitter = 100
# Docker's overlay filesystem can stall the workers' heartbeat files; memory does not.
SHM = "/dev/shm"  # noqa: S108 - gunicorn's documented choice for containers, not a shared temp file
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
