"""A database that blinks: while the test PostgreSQL cluster restarts under a few clients, the
portal answers 200 or 503 with Retry-After (JSON under /api/, a short page elsewhere), never a
500, and it recovers by itself."""

from __future__ import annotations

import http.client
import os
import shlex
import subprocess
import threading
import time
from collections import Counter
from urllib.parse import urlparse

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from config.middleware import DatabaseUnavailableMiddleware

CLIENTS = 4
SECONDS = 12


def _pg_ctl(*args: str) -> subprocess.CompletedProcess:
    runas = shlex.split(os.environ.get("PG_RUNAS_CMD", ""))
    data = os.environ["PGDATA"]
    # With its log file, as services.sh started it: the server must not hold our pipes open.
    cmd = [*runas, f"{os.environ['PGBIN']}/pg_ctl", "-D", data, "-l", f"{data}/server.log", *args]
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)  # noqa: S603


needs_cluster = pytest.mark.skipif(
    not (os.environ.get("PGDATA") and os.environ.get("PGBIN")), reason="needs scripts/services.sh's cluster"
)


def _get(base: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@needs_cluster
@pytest.mark.serial  # restarts the cluster every worker's test database lives on
@pytest.mark.django_db(transaction=True)
def test_a_restarting_database_is_a_503_never_a_500(live_server, bureau_staff, member_school):
    token = Token.objects.create(user=bureau_staff)
    browser = Client()
    browser.force_login(bureau_staff)
    session = browser.cookies["sessionid"].value
    # Two kinds of client: the API with a token, the admin's pages with a session.
    kinds = [
        ("/api/v1/schools/", {"Authorization": f"Token {token.key}"}),
        ("/admin/alliance/school/", {"Cookie": f"sessionid={session}"}),
    ]
    seen: Counter = Counter()
    bad: list[tuple] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(n: int) -> None:
        path, headers = kinds[n % len(kinds)]
        while not stop.is_set():
            try:
                status, head, body = _get(live_server.url, path, headers)
            except OSError as exc:  # the web server itself must stay up
                with lock:
                    bad.append((path, "connection", repr(exc)))
                continue
            with lock:
                seen[(path, status)] += 1
                if status == 503:
                    ok = head.get("retry-after") and (
                        head["content-type"].startswith("application/json")
                        if path.startswith("/api/")
                        else head["content-type"].startswith("text/html")
                    )
                    if not ok:
                        bad.append((path, status, head))
                elif status != 200:
                    bad.append((path, status, body[:300]))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        # when the cluster restarts (fast: every connection is cut), twice
        for _ in range(2):
            restarted = _pg_ctl("restart", "-m", "fast", "-w", "-t", "60")
            assert restarted.returncode == 0, restarted.stderr
            time.sleep(2)
        # keep the clients going until the portal has had time to recover
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline and seen[(kinds[0][0], 200)] == 0:
            time.sleep(0.2)
        before = sum(seen.values())
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        connection.close()
    # then nothing but 200 and 503 with Retry-After was answered
    assert bad == [], bad[:5]
    assert {status for _, status in seen} <= {200, 503}, seen
    assert sum(seen.values()) > before  # still answering after the restarts
    # and the portal recovered: both kinds answer 200 again
    for path, headers in kinds:
        status, _, _ = _get(live_server.url, path, headers)
        assert status == 200, path
    print("answers:", dict(seen))


@pytest.mark.django_db  # the 503 path closes the broken connection, which needs database access allowed
def test_the_middleware_turns_a_database_error_into_a_503():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    api = middleware.process_exception(RequestFactory().get("/api/v1/schools/"), OperationalError("gone"))
    assert api.status_code == 503 and api["Retry-After"] and api["Content-Type"].startswith("application/json")
    page = middleware.process_exception(RequestFactory().get("/login/"), OperationalError("gone"))
    assert page.status_code == 503 and page["Retry-After"] and page["Content-Type"].startswith("text/html")
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("other")) is None
