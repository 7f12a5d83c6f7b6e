"""Writing many derived rows at once: ``sync_rows`` makes a model's rows within a scope exactly
the given ones — inserts the new, updates only the changed, deletes the rest.

The nightly evaluation writes a result per school of a province; through the ORM that is
mostly Django preparing and PostgreSQL parsing one huge statement. Here the rows go
through ``COPY`` into a temporary table and one ``INSERT … ON CONFLICT DO UPDATE … WHERE
IS DISTINCT FROM``, so a row whose figures did not change is not rewritten (a night with
no new data writes next to nothing). Caller's transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from django.db import connection, models, transaction

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = b"\\N"
# JSON as json.dumps(ensure_ascii=False, separators=(",", ":")) writes it, several times faster
# (the nightly evaluation writes a trace per school); keys that are not text become text.
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def _copy_text(text: str) -> bytes:
    """Text as a COPY field: backslash, tab, newline and carriage return escaped."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.translate(_COPY_ESCAPES)
    return text.encode()


def _copy_converter(field: models.Field) -> Callable[[Any], bytes]:
    """A function turning the field's values into COPY's text format (UTF-8)."""
    if isinstance(field, models.JSONField) and field.encoder is not None:

        def convert(value: Any) -> bytes:
            if value is None:
                return _NULL
            return _copy_text(json.dumps(value, cls=field.encoder, ensure_ascii=False, separators=(",", ":")))

    elif isinstance(field, models.JSONField):

        def convert(value: Any) -> bytes:
            if value is None:
                return _NULL
            # JSON text holds no raw tab or line break (they are escaped in strings); only its
            # backslashes need escaping for COPY.
            data = orjson.dumps(value, option=_JSON_OPTIONS)
            return data.replace(b"\\", b"\\\\") if b"\\" in data else data

    elif isinstance(field, models.CharField | models.TextField):

        def convert(value: Any) -> bytes:
            return _NULL if value is None else _copy_text(str(value))

    else:  # numbers, booleans, dates: their str() is valid input and holds no tab or newline

        def convert(value: Any) -> bytes:
            return _NULL if value is None else str(value).encode()

    return convert


class _Lines(io.RawIOBase):
    """A file that reads the COPY data line by line as psycopg2 asks for it, so the rows'
    text is never held in memory all at once."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunks, length = [self._pending], len(self._pending)
        while size < 0 or length < size:
            line = next(self._lines, None)
            if line is None:
                break
            chunks.append(line)
            length += len(line)
        data = b"".join(chunks)
        if size < 0:
            self._pending = b""
            return data
        self._pending = data[size:]
        return data[:size]


def sync_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    within: tuple[str, Iterable[Any]],
    digest: str | None = None,
) -> None:
    """Make ``model``'s rows whose ``within[0]`` is one of ``within[1]`` exactly ``rows``
    (dicts by field attname), matched on ``keys`` (a unique constraint's fields): new rows are
    inserted, rows whose ``update`` fields differ are updated, and rows not given are deleted.

    ``digest`` names a text field (32 characters) that keeps a digest of each row as written
    (its key and ``update`` fields). With it, only new rows and rows whose
    digest changed are sent at all (PostgreSQL's parsing of a province's JSON traces costs
    more than computing them), and new rows go straight into the table. The digest stands
    for what this function wrote: a row altered behind its back is corrected the next time
    its figures change, not before."""
    scope_field, scope_values = within[0], list(within[1])
    if not scope_values:
        return
    if digest is not None:
        _sync_postgresql_digest(model, rows, keys=keys, update=update, scope=(scope_field, scope_values), digest=digest)
    else:
        _sync_postgresql(model, rows, keys=keys, update=update, scope=(scope_field, scope_values))


def _copy_lines(model, fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Each row as a line of COPY's text format (the ``fields`` in order, tab-separated)."""
    converters = [(f, _copy_converter(model._meta.get_field(f))) for f in fields]
    return (b"\t".join([convert(row[f]) for f, convert in converters]) + b"\n" for row in rows)


def row_digest(line: bytes) -> str:
    """The digest ``sync_rows`` keeps of a row: of its COPY line, 32 hexadecimal characters."""
    return hashlib.blake2b(line, digest_size=16).hexdigest()


def _sync_postgresql(model, rows, *, keys, update, scope) -> None:
    opts = model._meta
    table = connection.ops.quote_name(opts.db_table)
    fields = [*keys, *[f for f in update if f not in keys]]
    columns = [connection.ops.quote_name(opts.get_field(f).column) for f in fields]
    key_columns = columns[: len(keys)]
    changed = [c for f, c in zip(fields, columns, strict=True) if f in update]
    cols = ", ".join(columns)
    lines = _copy_lines(model, fields, rows)
    scope_column = connection.ops.quote_name(opts.get_field(scope[0]).column)
    matches = " AND ".join(f"s.{c} = t.{c}" for c in key_columns)
    # Identifiers come from the model's metadata, quoted; every value is a parameter or COPY data.
    create = f"CREATE TEMPORARY TABLE sync_rows ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"  # noqa: S608
    old, new = ", ".join(f"t.{c}" for c in changed), ", ".join(f"EXCLUDED.{c}" for c in changed)
    upsert = (
        f"INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM sync_rows "  # noqa: S608
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET ({', '.join(changed)}) = ROW({new}) "
        f"WHERE ({old}) IS DISTINCT FROM ({new})"
    )
    delete = (
        f"DELETE FROM {table} AS t WHERE t.{scope_column} = ANY(%s) "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM sync_rows s WHERE {matches})"
    )
    # atomic: the temporary table lives until the commit (a savepoint inside the caller's transaction).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(create)
        if rows:
            cursor.copy_expert(f"COPY sync_rows ({cols}) FROM STDIN", _Lines(lines))
            cursor.execute(upsert)
        cursor.execute(delete, [scope[1]])
        cursor.execute("DROP TABLE sync_rows")


def _sync_postgresql_digest(model, rows, *, keys, update, scope, digest) -> None:
    opts = model._meta
    q = connection.ops.quote_name
    table = q(opts.db_table)
    fields = [*keys, *[f for f in update if f not in keys]]
    columns = [q(opts.get_field(f).column) for f in fields]
    key_columns = columns[: len(keys)]
    digest_column = q(opts.get_field(digest).column)
    cols = ", ".join([*columns, digest_column])
    scope_column = q(opts.get_field(scope[0]).column)
    pk_column = q(opts.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk_column}, {', '.join(key_columns)}, {digest_column} FROM {table} "  # noqa: S608
            f"WHERE {scope_column} = ANY(%s)",
            [scope[1]],
        )
        stored = {tuple(row[1:-1]): (row[0], row[-1]) for row in cursor.fetchall()}
    new: list[bytes] = []
    changed: list[bytes] = []
    given: set[tuple] = set()
    for row, line in zip(rows, _copy_lines(model, fields, rows), strict=True):
        key = tuple(row[k] for k in keys)
        given.add(key)
        mark = row_digest(line)
        found = stored.get(key)
        if found is None or found[1] != mark:
            (new if found is None else changed).append(line[:-1] + b"\t" + mark.encode() + b"\n")
    gone = [pk for key, (pk, _mark) in stored.items() if key not in given]
    assignments = ", ".join(f"{c} = s.{c}" for c in [*columns[len(keys) :], digest_column])
    matches = " AND ".join(f"s.{c} = t.{c}" for c in key_columns)
    # Identifiers come from the model's metadata, quoted; every value is a parameter or COPY data.
    with transaction.atomic(), connection.cursor() as cursor:
        if gone:
            cursor.execute(f"DELETE FROM {table} WHERE {pk_column} = ANY(%s)", [gone])  # noqa: S608
        if changed:
            cursor.execute(
                f"CREATE TEMPORARY TABLE sync_rows ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"  # noqa: S608
            )
            cursor.copy_expert(f"COPY sync_rows ({cols}) FROM STDIN", _Lines(iter(changed)))
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM sync_rows s WHERE {matches}")  # noqa: S608
            cursor.execute("DROP TABLE sync_rows")
        if new:
            # Straight into the table: the caller keeps others from writing the scope meanwhile
            # (a row inserted behind its back fails the unique key, and the caller's transaction).
            cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN", _Lines(iter(new)))
