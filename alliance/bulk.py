"""Writing many derived rows at once: ``sync_rows`` makes a model's rows within a scope exactly
the given ones — inserts the new, updates only the changed, deletes the rest.

The nightly evaluation writes a result per school of a province; through the ORM that is
mostly Django preparing and PostgreSQL parsing one huge statement. On PostgreSQL the rows go
through ``COPY`` into a temporary table and one ``INSERT … ON CONFLICT DO UPDATE … WHERE
IS DISTINCT FROM``, so a row whose figures did not change is not rewritten (a night with
no new data writes next to nothing). Elsewhere (SQLite, the demo) ``bulk_create`` with
``update_conflicts`` does the same. Caller's transaction.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_converter(field: models.Field):
    """A function turning the field's values into COPY's text format."""
    if isinstance(field, models.JSONField):

        def convert(value: Any) -> str:
            if value is None:
                return r"\N"
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_COPY_ESCAPES)

    elif isinstance(field, models.CharField | models.TextField):

        def convert(value: Any) -> str:
            return r"\N" if value is None else str(value).translate(_COPY_ESCAPES)

    else:  # numbers, booleans, dates: their str() is valid input and holds no tab or newline

        def convert(value: Any) -> str:
            return r"\N" if value is None else str(value)

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
) -> None:
    """Make ``model``'s rows whose ``within[0]`` is one of ``within[1]`` exactly ``rows``
    (dicts by field attname), matched on ``keys`` (a unique constraint's fields): new rows are
    inserted, rows whose ``update`` fields differ are updated, and rows not given are deleted."""
    scope_field, scope_values = within[0], list(within[1])
    if not scope_values:
        return
    if connection.vendor == "postgresql":
        _sync_postgresql(model, rows, keys=keys, update=update, scope=(scope_field, scope_values))
    else:
        _sync_portable(model, rows, keys=keys, update=update, scope=(scope_field, scope_values))


def _sync_postgresql(model, rows, *, keys, update, scope) -> None:
    opts = model._meta
    table = connection.ops.quote_name(opts.db_table)
    fields = [*keys, *[f for f in update if f not in keys]]
    columns = [connection.ops.quote_name(opts.get_field(f).column) for f in fields]
    key_columns = columns[: len(keys)]
    changed = [c for f, c in zip(fields, columns, strict=True) if f in update]
    cols = ", ".join(columns)
    converters = [(f, _copy_converter(opts.get_field(f))) for f in fields]
    lines = (("\t".join([convert(row[f]) for f, convert in converters]) + "\n").encode() for row in rows)
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


def _sync_portable(model, rows, *, keys, update, scope) -> None:
    if rows:
        model.objects.bulk_create(
            [model(**row) for row in rows],
            update_conflicts=True,
            unique_fields=[model._meta.get_field(k).name for k in keys],
            update_fields=[model._meta.get_field(f).name for f in update],
        )
    # What is kept, by the scope's value: delete the scope's other rows.
    scope_field = scope[0]
    rest = [k for k in keys if k != scope_field]
    kept: dict[Any, list[tuple]] = defaultdict(list)
    for row in rows:
        kept[row[scope_field]].append(tuple(row[k] for k in rest))
    for value in scope[1]:
        stale = model.objects.filter(**{scope_field: value})
        if len(rest) == 1:
            stale = stale.exclude(**{f"{rest[0]}__in": [k[0] for k in kept.get(value, [])]})
        else:
            for k in kept.get(value, []):
                stale = stale.exclude(Q(**dict(zip(rest, k, strict=True))))
        stale.delete()
