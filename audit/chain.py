"""The hash chain over the trail, sealed in blocks (docs/adr/0005-audit-trail.md).

Seal ``n`` covers one record: hash = HMAC-SHA256(key, hash of seal n-1 ‖ the record's
canonical content), the first seal's predecessor being 64 zeros. The key is
``settings.AUDIT_CHAIN_KEY`` (else ``SECRET_KEY``): someone with only the database can alter
rows but cannot compute the hashes that would hide it.

``seal`` takes the records table in EXCLUSIVE mode, which waits for every transaction that
has inserted a record to end; so every record with an id above the last sealed one is then
committed, and none with a lower id can appear later except by a direct insert (which
``verify`` reports). It gives up after ``LOCK_TIMEOUT`` rather than stall the portal's writes
behind a long transaction; the next minute's run seals the block.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

GENESIS = "0" * 64
LOCK_TIMEOUT = "500ms"
BLOCK = 5000

# Every column, as text where its text is canonical (jsonb's output is; a time in UTC is).
# A constant: the only thing formatted into the queries below.
COLUMNS = """r.id, (r.at AT TIME ZONE 'UTC')::text, r.action, r.model, r.object_id, r.before::text,
    r.after::text, r.user_id, r.username, r.role, r.county_id, r.school_id, host(r.client_addr),
    r.source, r.db_user, r.txid"""


CHAIN_SQL = (
    f"SELECT s.seq, s.record_id, s.hash, r.id IS NOT NULL, {COLUMNS}"  # noqa: S608
    " FROM audit_auditseal s LEFT JOIN audit_auditrecord r ON r.id = s.record_id ORDER BY s.seq"
)


def _key() -> bytes:
    return (getattr(settings, "AUDIT_CHAIN_KEY", "") or settings.SECRET_KEY).encode()


def hasher() -> Callable[[str, tuple], str]:
    """``digest(previous, row)`` under the current key: the key's HMAC state is prepared once."""
    keyed = hmac.new(_key(), digestmod=hashlib.sha256)

    def digest(previous: str, row: tuple) -> str:
        h = keyed.copy()
        h.update(previous.encode())
        h.update(b"\n")
        h.update(orjson.dumps(list(row)))  # compact JSON, UTF-8: one text for one row
        return h.hexdigest()

    return digest


def _head(cursor) -> tuple[int, str, int]:
    cursor.execute("SELECT seq, hash, record_id FROM audit_auditseal ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    return (row[0], row[1], row[2]) if row else (0, GENESIS, 0)


class Busy(Exception):
    """A transaction that wrote records is still open; the next seal will cover them."""


def seal(*, block: int = BLOCK) -> int:
    """Seals every record written since the last seal; returns how many. Raises ``Busy`` if
    the records table could not be locked within ``LOCK_TIMEOUT``."""
    sealed = 0
    digest = hasher()
    while True:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                cursor.execute("LOCK TABLE audit_auditrecord IN EXCLUSIVE MODE")
                seq, previous, last_id = _head(cursor)
                cursor.execute(
                    f"SELECT {COLUMNS} FROM audit_auditrecord r WHERE r.id > %s ORDER BY r.id LIMIT %s",  # noqa: S608
                    [last_id, block],
                )
                rows = cursor.fetchall()
                if not rows:
                    return sealed
                seqs, ids, hashes = [], [], []
                for row in rows:
                    seq += 1
                    previous = digest(previous, row)
                    seqs.append(seq)
                    ids.append(row[0])
                    hashes.append(previous)
                cursor.execute(
                    "INSERT INTO audit_auditseal (seq, record_id, hash, sealed_at)"
                    " SELECT s, r, h, %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS t(s, r, h)",
                    [timezone.now(), seqs, ids, hashes],
                )
                sealed += len(seqs)
        except OperationalError as exc:
            if "lock timeout" in str(exc) or getattr(exc.__cause__, "pgcode", None) == "55P03":
                raise Busy(str(exc)) from exc
            raise


@dataclass
class Report:
    sealed: int = 0
    head: tuple[int, str] = (0, GENESIS)
    unsealed: list[int] = field(default_factory=list)
    problem: str = ""
    bad_record: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


def _chain() -> Iterator[tuple]:
    """Seals in order with their records (the columns are NULL where the record is gone),
    read from a server-side cursor: the trail may be long."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(CHAIN_SQL)
        while rows := cursor.fetchmany(2000):
            yield from rows


def verify(*, expect_head: tuple[int, str] | None = None) -> Report:
    """Walks the whole chain; the report names the first bad record, if any."""
    report = Report()
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # one snapshot for the walk and the checks after it
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        previous, expected_seq, last_id = GENESIS, 1, 0
        digest = hasher()
        for seq, record_id, stored, present, *row in _chain():
            if seq != expected_seq:
                report.problem = (
                    f"seal {expected_seq} is missing (the chain jumps to {seq}): records were deleted before"
                    f" record {record_id}"
                )
                report.bad_record = record_id
                return report
            if not present:
                report.problem = f"record {record_id} (seal {seq}) was deleted"
                report.bad_record = record_id
                return report
            if digest(previous, tuple(row)) != stored:
                report.problem = f"record {record_id} (seal {seq}) was altered, or its seal was"
                report.bad_record = record_id
                return report
            previous, expected_seq, last_id = stored, seq + 1, max(last_id, record_id)
        report.sealed = expected_seq - 1
        report.head = (report.sealed, previous)
        cursor.execute(
            "SELECT r.id FROM audit_auditrecord r WHERE NOT EXISTS"
            " (SELECT 1 FROM audit_auditseal s WHERE s.record_id = r.id) ORDER BY r.id"
        )
        unsealed = [r[0] for r in cursor.fetchall()]
        inside = [i for i in unsealed if i < last_id]
        if inside:
            report.problem = (
                f"record {inside[0]} has no seal but lies inside the sealed chain (before record {last_id}):"
                " it was inserted directly"
            )
            report.bad_record = inside[0]
            return report
        report.unsealed = unsealed
        if expect_head:
            seq, want = expect_head
            cursor.execute("SELECT hash FROM audit_auditseal WHERE seq = %s", [seq])
            got = cursor.fetchone()
            if got is None or got[0] != want:
                report.problem = f"seal {seq} is not the one noted ({want[:12]}…): the chain was cut or rewritten"
                return report
    return report
