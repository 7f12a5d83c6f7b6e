"""A real Celery worker in a subprocess, for the tests that need the real broker.

``make test`` exports REDIS_URL and DATABASE_URL; the worker gets the same Redis and the test
database that pytest-django created (its NAME differs from the configured one), so rows the
test commits (``django_db(transaction=True)``) are what the worker reads, and what it writes
is what the test sees.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")


def wait_for(predicate: Callable[[], object], timeout: float, what: str, log: Callable[[], str] = lambda: "") -> object:
    """Poll ``predicate`` every 0.1 s until it returns something truthy; fail with ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n--- worker log ---\n{log()}")
        time.sleep(0.1)


def worker_database_url() -> str:
    """DATABASE_URL of the database the tests run on (pytest-django's ``test_…`` copy)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """``celery -A config worker --pool=solo`` consuming ``queue`` (a comma-separated list may
    name several); output goes to ``log_path``. ``pool="prefork"`` gives a main process and one
    child; ``beat=True`` embeds beat (its schedule in a file beside the log, so the tests' beat
    never touches django-celery-beat's table); ``env`` adds or overrides environment variables.
    The worker leads a process group of its own, so ``kill_all`` reaches every process of it."""

    def __init__(
        self,
        queue: str,
        log_path: Path,
        *,
        visibility_timeout: int | None = None,
        pool: str = "solo",
        beat: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        extra_env = env
        self.queue = queue
        self.log_path = log_path
        self.name = f"{queue.replace(',', '+')}-{uuid.uuid4().hex[:6]}@localhost"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": worker_database_url(),
            "CONN_MAX_AGE": "0",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.REDIS_URL,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        if visibility_timeout is not None:
            env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        env.update(extra_env or {})
        cmd = [
            str(CELERY),
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
            "-n",
            self.name,
            "--loglevel=INFO",
        ]
        if beat:
            cmd += ["-B", "--scheduler", "celery.beat:PersistentScheduler", "-s", str(log_path.with_suffix(".beat"))]
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(  # noqa: S603 (our own virtualenv's celery, fixed arguments)
            cmd, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 25) -> Worker:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited with {self.process.returncode}\n{self.log()}")
            return " ready." in self.log()

        wait_for(ready, timeout, f"worker {self.name} to be ready", self.log)
        return self

    def wait_log(self, text: str, timeout: float = 60) -> str:
        # Generous: Redis redelivers an unacknowledged task only when the worker's restore timer
        # fires (every 10 s), and under `make test -n 2` the task then shares both cores.
        wait_for(lambda: text in self.log(), timeout, f"{text!r} in the log of {self.name}", self.log)
        return self.log()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no cleanup (a crashed machine or the OOM killer)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def children(self) -> list[int]:
        """The pids of the main process's children (a prefork pool's processes)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def kill_all(self) -> list[int]:
        """SIGKILL to the main process and its children at once (the whole process group): a
        machine gone, or the OOM killer taking both. Returns the pids killed."""
        pids = [self.pid, *self.children()]
        os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(Exception):
            self._log.close()
