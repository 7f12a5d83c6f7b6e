"""Reading in parallel from one snapshot (``pgtools.snapshots.Readers``).

The parallel cases commit their data (``transaction=True``): the readers' connections are
other sessions of the test database, and see only what is committed. Inside a transaction
(the ordinary ``db`` tests), the readers read one after another on the caller's connection.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.utils import InternalError

from alliance.models import County
from pgtools.snapshots import Readers

from .factories import CountyFactory
from .fixtures_connections import sessions


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def committed_elsewhere(fn):
    """Run ``fn`` in a thread of its own (another connection, autocommit), and wait for it."""
    done = []

    def run():
        try:
            done.append(fn())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return done[0]


def pid_and_counties():
    return backend_pid(), County.objects.count()


@pytest.mark.django_db(transaction=True)
def test_reads_run_on_the_readers_connections_and_those_are_closed_afterwards():
    CountyFactory()
    before = sessions()
    main = backend_pid()
    with Readers(2) as readers:
        assert readers.parallel
        with readers.snapshot() as snapshot:
            results = snapshot.map(dict.fromkeys(range(6), pid_and_counties))
        opened = sessions() - before
    # then every read ran on a reader's connection, not the caller's, and saw the data
    pids = {pid for pid, _n in results.values()}
    assert main not in pids and pids <= opened and len(opened) <= 3  # two readers and the ahead thread
    assert {n for _pid, n in results.values()} == {1}
    # and leaving the block closed every connection the readers opened
    assert sessions(settle_to=before) == before


@pytest.mark.django_db(transaction=True)
def test_every_read_sees_the_snapshot_of_the_moment_it_was_taken():
    CountyFactory()
    with Readers(2) as readers, readers.snapshot() as snapshot:
        # a county committed by another session after the snapshot was taken, before the reads
        committed_elsewhere(lambda: CountyFactory().pk)
        results = snapshot.map(dict.fromkeys(range(4), pid_and_counties))
        # is seen by none of the reads (each on its own connection and transaction)
        assert {n for _pid, n in results.values()} == {1}
    # and by a read after the snapshot
    assert County.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_read_runs_read_only():
    def write():
        return CountyFactory()

    with (
        Readers(2) as readers,
        readers.snapshot() as snapshot,
        pytest.raises(InternalError, match="read-only transaction"),
    ):
        snapshot.map({"write": write})
    assert County.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_read_fails_the_map_after_the_others_finished():
    finished = []

    def slow():
        finished.append(County.objects.count())
        return "slow"

    def fails():
        raise ValueError("bad read")

    before = sessions()
    with Readers(2) as readers:
        with readers.snapshot() as snapshot, pytest.raises(ValueError, match="bad read"):
            snapshot.map({"fails": fails, "a": slow, "b": slow, "c": slow})
        assert finished == [0, 0, 0]
        # the readers are still usable
        with readers.snapshot() as snapshot:
            assert snapshot.map({"again": slow}) == {"again": "slow"}
    assert sessions(settle_to=before) == before
    # and the caller's connection holds no transaction
    assert not connection.in_atomic_block and connection.get_autocommit()


@pytest.mark.django_db(transaction=True)
def test_ahead_runs_in_another_thread_with_a_snapshot_of_its_own():
    main = threading.get_ident()

    def later():
        with readers.snapshot() as snapshot:
            return threading.get_ident(), snapshot.map({"n": pid_and_counties})["n"]

    CountyFactory()
    with Readers(1) as readers:
        ident, (pid, n) = readers.ahead(later).result()
    assert ident != main and pid != backend_pid() and n == 1


@pytest.mark.django_db
def test_inside_a_transaction_reads_run_one_after_another_on_the_callers_connection():
    # given a county written by this (test) transaction, not committed
    CountyFactory()
    order = []

    def read(k):
        def run():
            order.append(k)
            return pid_and_counties()

        return run

    with Readers(2) as readers:
        assert not readers.parallel
        with readers.snapshot() as snapshot:
            results = snapshot.map({k: read(k) for k in range(3)})
        # an ``ahead`` runs when its result is asked for, in the caller's thread
        deferred = readers.ahead(read("ahead"))
        assert order == [0, 1, 2]
        assert deferred.result() == (backend_pid(), 1)
        assert order == [0, 1, 2, "ahead"]
    # each read ran here and saw the uncommitted county
    assert set(results.values()) == {(backend_pid(), 1)}


@pytest.mark.django_db(transaction=True)
def test_no_readers_reads_in_one_snapshot_on_the_callers_connection():
    CountyFactory()

    def first():
        n = County.objects.count()  # the transaction's snapshot is taken here
        committed_elsewhere(lambda: CountyFactory().pk)
        return backend_pid(), n

    with Readers(0) as readers, readers.snapshot() as snapshot:
        assert connection.in_atomic_block
        results = snapshot.map({"first": first, "second": pid_and_counties})
    # both reads ran on the caller's connection, and the second did not see the county
    # committed after the first read, as it would have outside the snapshot
    assert set(results.values()) == {(backend_pid(), 1)}
    assert County.objects.count() == 2
    assert connections["default"].get_autocommit()


@pytest.mark.django_db(transaction=True)
def test_inside_atomic_the_readers_do_not_read_in_parallel():
    with transaction.atomic():
        assert not Readers(2).parallel
