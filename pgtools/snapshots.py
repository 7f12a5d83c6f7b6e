"""Reading in parallel from one snapshot: several connections, one consistent view.

The nightly evaluation reads a batch's inputs with a dozen independent GROUP BY queries. On
one connection they run one after another, while the database server's other cores are idle
and Python waits. ``Readers`` runs such reads on a few threads, each with a connection of its
own, all in the snapshot of one ``REPEATABLE READ`` transaction that the coordinating
connection exports (``pg_export_snapshot``, as ``pg_dump --jobs`` shares its snapshot). The
reads together see the database as it was at one instant, which one connection in ``READ
COMMITTED`` does not give: there each statement sees the data as of its own start.

    with Readers(2) as readers:
        with readers.snapshot() as snapshot:
            results = snapshot.map({"a": read_a, "b": read_b})
        later = readers.ahead(read_next_batch)  # read meanwhile on a thread of its own
        ...
        later.result()

Parallel reading needs a calling connection that holds no transaction: other connections
cannot see a transaction's uncommitted writes. Otherwise (inside ``atomic``, a test's
transaction, ``Readers(0)``) ``snapshot()`` reads one after another on the caller's
connection (in one ``REPEATABLE READ`` transaction where it can open one) and
``ahead`` runs in the caller's thread when its result is asked for. The results are the same
either way; only the time differs.

A read run by ``map`` must only read (its transaction is ``READ ONLY``) and must not share
unguarded mutable state with another read of the same ``map``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction

K = TypeVar("K")
V = TypeVar("V")

REPEATABLE_READ_ONLY = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def can_read_in_parallel(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether other connections would see what this thread's connection sees."""
    return not connections[using].in_atomic_block


class Snapshot:
    """Reads in one snapshot: ``map`` runs them on the readers' threads (``id`` is the exported
    snapshot), or one after another in the caller's thread (``id`` is None)."""

    def __init__(self, readers: Readers | None, snapshot_id: str | None):
        self.readers = readers
        self.id = snapshot_id

    def map(self, reads: Mapping[K, Callable[[], V]]) -> dict[K, V]:
        """Each read's result, under its key. Every read has finished when this returns or
        raises (a failed read's error, the first in the order given, once all are done)."""
        if self.readers is None or self.id is None:
            return {key: read() for key, read in reads.items()}
        pool = self.readers._pool
        assert pool is not None  # a snapshot is exported only for readers in parallel
        submit, in_snapshot = pool.submit, self.readers._in_snapshot
        futures = {key: submit(in_snapshot, self.id, read) for key, read in reads.items()}
        # The exporting transaction must stay open until every read has imported its snapshot,
        # and nothing may still read after this returns: wait for all, then report a failure.
        wait(futures.values())
        return {key: future.result() for key, future in futures.items()}


class Deferred(Generic[V]):
    """``fn(*args)``, run when its ``result()`` is first asked for (``Readers.ahead`` in order)."""

    def __init__(self, fn: Callable[..., V], *args: Any):
        self._call: Callable[[], V] | None = lambda: fn(*args)
        self._value: V | None = None

    def result(self) -> V:
        if self._call is not None:
            call, self._call = self._call, None
            self._value = call()
        return self._value  # type: ignore[return-value]


class Readers:
    """``count`` reader threads with a connection each, and one more thread for ``ahead``;
    every connection is closed on ``close()`` (or leaving the ``with`` block)."""

    def __init__(self, count: int, using: str = DEFAULT_DB_ALIAS):
        self.using = using
        self.parallel = count > 0 and can_read_in_parallel(using)
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(count, "reader", initializer=self._register) if self.parallel else None
        self._ahead = ThreadPoolExecutor(1, "reader-ahead", initializer=self._register) if self.parallel else None

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _register(self) -> None:
        # A thread's connection is closed by ``close()`` from the thread that made the readers.
        conn = connections[self.using]
        conn.inc_thread_sharing()
        with self._lock:
            self._connections.append(conn)

    def close(self) -> None:
        for executor in (self._ahead, self._pool):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            conn.close()
            conn.dec_thread_sharing()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """This thread's connection in a ``REPEATABLE READ, READ ONLY`` transaction for the
        block; the ``Snapshot`` yielded runs reads in it."""
        conn = connections[self.using]
        if not can_read_in_parallel(self.using):
            yield Snapshot(None, None)  # inside a transaction: as it stands
            return
        with transaction.atomic(using=self.using):
            snapshot_id = None
            with conn.cursor() as cursor:
                cursor.execute(REPEATABLE_READ_ONLY)
                if self.parallel:
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot_id = cursor.fetchone()[0]
            yield Snapshot(self, snapshot_id)

    def ahead(self, fn: Callable[..., V], *args: Any) -> Future[V] | Deferred[V]:
        """``fn(*args)`` on the readers' coordinating thread (its connection holds no
        transaction, so ``fn`` can take a snapshot of its own) while the caller goes on; its
        ``result()`` waits for it. When the readers do not read in parallel, ``fn`` runs in
        the caller's thread when ``result()`` is first asked for."""
        if self._ahead is not None:
            return self._ahead.submit(fn, *args)
        return Deferred(fn, *args)

    def _in_snapshot(self, snapshot_id: str, read: Callable[[], V]) -> V:
        with transaction.atomic(using=self.using):
            with connections[self.using].cursor() as cursor:
                cursor.execute(REPEATABLE_READ_ONLY)
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])
            return read()
