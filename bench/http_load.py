"""The HTTP side of the API and portal benchmarks (bench/api.py, bench/portal.py): gunicorn
started on a free loopback port with the benchmark's settings, and a load of concurrent
clients (threads, one connection per request) measured as requests/s and latency percentiles.
Both sides of a comparison (the portal and its bare view) go through the same code."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, url: str, headers: dict[str, str]) -> tuple[int, float]:
    """One GET on a fresh connection: its status and how long it took (seconds)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", url, headers={**headers, "Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def _percentile(latencies: list[float], share: float) -> float:
    return latencies[min(len(latencies) - 1, int(len(latencies) * share))] if latencies else float("nan")


def load(port: int, url: str, headers: dict[str, str], clients: int, seconds: float) -> dict:
    """``clients`` threads requesting ``url`` for ``seconds``: requests/s, p95 and p99 of the
    answered requests, and how many failed (a connection error or a status other than 200)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        mine, bad = [], 0
        while time.monotonic() < stop:
            try:
                status, took = get(port, url, headers)
            except OSError:
                bad += 1
                continue
            if status != 200:
                bad += 1
            mine.append(took)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p95": _percentile(latencies, 0.95),
        "p99": _percentile(latencies, 0.99),
        "errors": errors[0],
        "n": len(latencies),
    }


def start_gunicorn(port: int, workers: int, threads: int, settings: str) -> subprocess.Popen:
    """gunicorn serving the portal with ``settings`` (the benchmark's URLconf adds the bare
    views), once its health check answers."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    cmd = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(port, "/healthz", {})
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")
