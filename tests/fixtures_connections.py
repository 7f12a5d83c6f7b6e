"""Helpers for tests that watch the test database's connections (tests/test_snapshots.py,
tests/test_evaluation_batches.py)."""

from __future__ import annotations

import time

from django.db import connection


def sessions(settle_to: set[int] | None = None) -> set[int]:
    """The test database's other client sessions. With ``settle_to``, wait up to 5 s for them to
    become those: a closed connection's server process leaves ``pg_stat_activity`` a moment
    after the client has gone."""
    deadline = time.monotonic() + 5
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            found = {row[0] for row in cursor.fetchall()}
        if settle_to is None or found == settle_to or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
