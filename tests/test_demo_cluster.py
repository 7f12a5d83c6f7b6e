"""The demo's PostgreSQL cluster (scripts/demo-db.sh, what ``make demo`` runs on): it keeps its
data across a stop and a start, and stops when the command it runs ends.

Each test gets its own folder and port (PORTAL_DEMO_PGDATA, PORTAL_DEMO_PGPORT), never the real
demo's. The folder is made under /tmp and opened to other users, because as root the cluster
runs as the postgres user, who cannot enter pytest's own (private) temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "demo-db.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster():
    folder = Path(tempfile.mkdtemp(prefix="portal-demo-test-", dir="/tmp"))
    folder.chmod(0o755)
    port = free_port()
    env = {**os.environ, "PORTAL_DEMO_PGDATA": str(folder / "pg"), "PORTAL_DEMO_PGPORT": str(port)}
    env.pop("DATABASE_URL", None)

    class Cluster:
        def __init__(self) -> None:
            self.folder = folder / "pg"
            self.port = port

        def run(self, *args: str) -> subprocess.CompletedProcess:
            return subprocess.run(  # noqa: S603 (the project's own script, fixed arguments)
                [str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
            )

        def connect(self):
            return psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="portal", connect_timeout=5)

    c = Cluster()
    yield c
    c.run("stop")
    shutil.rmtree(folder, ignore_errors=True)


def test_the_demo_cluster_keeps_its_data_across_a_stop_and_a_start(cluster):
    # given a new cluster, started: it says where its data lives, and has the database `portal`
    started = cluster.run("start")
    assert started.returncode == 0, started.stderr
    assert f"demo database folder: {cluster.folder}" in started.stderr
    assert cluster.run("status").stdout.startswith("running")
    with cluster.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
    conn.close()

    # when it is stopped and started again
    stopped = cluster.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    status = cluster.run("status")
    assert status.returncode == 3 and status.stdout.startswith("stopped")
    restarted = cluster.run("start")
    assert restarted.returncode == 0, restarted.stderr

    # then it reuses the folder (no new cluster) and the row is still there
    assert "creating a new PostgreSQL cluster" not in restarted.stderr
    conn = cluster.connect()
    with conn.cursor() as cur:
        cur.execute("SELECT note FROM kept")
        assert cur.fetchall() == [("still here",)]
    conn.close()
    assert cluster.run("stop").returncode == 0


def test_run_exports_the_database_url_and_stops_the_cluster_when_the_command_ends(cluster):
    # when a command runs against the cluster and fails
    code = "import os, sys; print(os.environ['DATABASE_URL']); sys.exit(7)"
    result = cluster.run("run", sys.executable, "-c", code)

    # then it saw the cluster's URL, its exit status is kept, and the cluster is stopped again
    assert result.returncode == 7, result.stderr
    assert result.stdout.strip() == f"postgres://postgres@127.0.0.1:{cluster.port}/portal"
    assert "stopping PostgreSQL" in result.stderr
    assert cluster.run("status").stdout.startswith("stopped")

    # and clean removes the folder
    assert cluster.run("clean").returncode == 0
    assert not cluster.folder.exists()


def test_a_port_taken_by_another_program_is_named(cluster):
    # given something else listening on the demo port
    with socket.socket() as other:
        other.bind(("127.0.0.1", cluster.port))
        other.listen()

        # when the cluster starts, then it refuses and says how to pick another port
        result = cluster.run("start")
    assert result.returncode != 0
    assert f"127.0.0.1:{cluster.port} is taken" in result.stderr
    assert "DEMO_PGPORT" in result.stderr
