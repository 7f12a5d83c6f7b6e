"""A report that is one query is exported by PostgreSQL: the per-row work (formatting, quoting,
neutralising, the XLSX cells' XML) is done by ``COPY (SELECT … FROM (the report's query)) TO
STDOUT``, and Python only passes the bytes on (and, for XLSX, compresses them).

Such a report's function returns a ``values_list`` QuerySet, one value per column in the columns'
order, built as its rows are (from what the user may read, the checkpoint asked). Its SQL
(``query.sql_with_params()``) is wrapped: its columns are renamed ``c0, c1, …`` and each is
formatted by its column's kind, as the Python writers format a row (``reports.formats`` for CSV,
``reports.xlsx`` for XLSX; tests/test_reports_pgcopy.py compares them byte for byte and cell by
cell):

- CSV: COPY's own CSV quoting is Python's ``csv`` module's minimal quoting once an empty text is
  written as NULL (COPY quotes an empty text, ``""``; Python does not); the lines end in CRLF as
  Python's do (COPY ends them in LF: the ends are replaced, a line at a time where a quoted value
  holds a line feed). Moments in local time to the second, dates ISO.
- XLSX: a ``<row>`` per row, as text (``COPY … TO STDOUT`` in text format): the XML is escaped in
  SQL, a tab, line feed, carriage return and backslash written as character references and the
  control characters COPY would escape removed, so that COPY's text format escapes nothing; the
  other characters XML cannot hold are removed from each chunk (``xlsx.drop_invalid``).

Memory stays bounded: COPY hands its rows over one at a time, and they are passed on in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import IO, Any, TypeGuard

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from . import xlsx
from .injection import neutralised, neutralised_sql
from .registry import Column

BOM = "\ufeff"
# Rows passed on at once, and how often the progress is told.
CHUNK_ROWS = 2000
PROGRESS_ROWS = 10000
# Excel's serial number of 1970-01-01 (``xlsx.EPOCH`` + 25,569 days).
UNIX_EPOCH_SERIAL = 25569


def is_query(rows: Any) -> TypeGuard[QuerySet]:
    """Whether a report's rows are one query (a ``values_list`` QuerySet) PostgreSQL can export.
    A query Django knows to be empty (``none()``, ``pk__in=[]``) has no SQL: the Python writers
    write its header alone."""
    if not isinstance(rows, QuerySet):
        return False
    try:
        rows.query.sql_with_params()
    except EmptyResultSet:
        return False
    return True


def _inner(queryset: QuerySet, width: int) -> tuple[str, tuple[Any, ...]]:
    fields = getattr(queryset, "_fields", None)
    if fields is None or len(fields) != width:
        raise ValueError(f"a report's query must be a values_list of its {width} columns")
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _names(width: int) -> str:
    return ", ".join(f"c{i}" for i in range(width))


def csv_sql(queryset: QuerySet, columns: tuple[Column, ...]) -> tuple[str, tuple[Any, ...]]:
    """The report's rows formatted as the CSV writer formats them, one column each."""
    inner, params = _inner(queryset, len(columns))
    tz = timezone.get_current_timezone_name()
    select, extra = [], []
    for i, column in enumerate(columns):
        c = f"q.c{i}"
        if column.kind == "text":
            select.append(neutralised_sql(f"NULLIF({c}::text, '')"))
        elif column.kind == "datetime":
            # (psycopg2 keeps the session's DateStyle ISO: a timestamp's text is YYYY-MM-DD HH:MM:SS)
            select.append(f"date_trunc('second', {c} AT TIME ZONE %s)::text")
            extra.append(tz)
        elif column.kind == "date":
            select.append(f"{c}::date::text")
        else:
            select.append(c)
    # (the SQL is the report's query's, its parameters are mogrified; what is put around it is ours)
    sql = f"SELECT {', '.join(select)} FROM ({inner}) AS q({_names(len(columns))})"  # noqa: S608
    return sql, (*extra, *params)


# XML's escapes, character references for what COPY's text format would escape, and the
# characters XML cannot hold that COPY would escape removed (the others are removed from the
# chunks, ``xlsx.drop_invalid``: faster than ``translate`` on every cell).
_XML_ESCAPES = (
    (r"'&'", "&amp;"), (r"'<'", "&lt;"), (r"'>'", "&gt;"), (r"E'\r'", "&#13;"), (r"E'\n'", "&#10;"),
    (r"E'\t'", "&#9;"), (r"E'\\'", "&#92;"), (r"E'\x08'", ""), (r"E'\x0b'", ""), (r"E'\x0c'", ""),
)  # fmt: skip


def _xml(expr: str) -> str:
    """A text expression escaped as an XML text node (as ``xlsx.xml_text``), with no character
    left that COPY's text format would escape."""
    for literal, ref in _XML_ESCAPES:
        expr = f"replace({expr}, {literal}, '{ref}')"
    return expr


def xlsx_sql(queryset: QuerySet, columns: tuple[Column, ...]) -> tuple[str, tuple[Any, ...]]:
    """The report's rows as the sheet's ``<row>`` elements (row 2 onwards), one text column;
    the cells as ``xlsx.cells`` writes them (in order, without references, ``<c/>`` for none)."""
    inner, params = _inner(queryset, len(columns))
    tz = timezone.get_current_timezone_name()
    cells, extra = [], []
    for i, column in enumerate(columns):
        c = f"q.c{i}"
        if column.kind == "text":
            text = _xml(neutralised_sql(f"NULLIF({c}::text, '')"))
            cells.append(f"'{xlsx.TEXT_OPEN}' || {text} || '{xlsx.TEXT_CLOSE}'")
            continue
        if column.kind == "datetime":
            value = f"round(extract(epoch FROM ({c} AT TIME ZONE %s)) / 86400 + {UNIX_EPOCH_SERIAL}, 10)"
            extra.append(tz)
        elif column.kind == "date":
            value = f"({c} - DATE '1899-12-30')"
        else:
            value = c
        cells.append(f"'{xlsx.number_open(column.kind)}' || {value} || '{xlsx.NUMBER_CLOSE}'")
    names = _names(len(columns))
    row = ", ".join(f"COALESCE({cell}, '{xlsx.EMPTY}')" for cell in cells)
    sql = f"SELECT concat('<row r=\"', row_number() OVER () + 1, '\">', {row}, '</row>') FROM ({inner}) AS q({names})"  # noqa: S608
    return sql, (*extra, *params)


class _Rows:
    """What COPY writes to (a row per call), passed on in chunks of ``CHUNK_ROWS``."""

    def __init__(self, flush: Callable[[list[bytes]], None], progress: Callable[[int], None] | None) -> None:
        self.flush, self.progress = flush, progress
        self.rows: list[bytes] = []
        self.count = 0

    def write(self, data: bytes) -> None:
        self.rows.append(data)
        if len(self.rows) >= CHUNK_ROWS:
            self.done()

    def done(self) -> None:
        if self.rows:
            self.flush(self.rows)
            before = self.count
            self.count += len(self.rows)
            self.rows = []
            if self.progress is not None and self.count // PROGRESS_ROWS != before // PROGRESS_ROWS:
                self.progress(self.count)


def _copy(sql: str, params: tuple[Any, ...], options: str, sink: _Rows) -> int:
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH ({options})", sink)
    sink.done()
    if sink.progress is not None:
        sink.progress(sink.count)
    return sink.count


def _crlf(rows: list[bytes]) -> bytes:
    """COPY's CSV lines with CRLF ends: at once unless a quoted value holds a line feed."""
    data = b"".join(rows)
    if data.count(b"\n") == len(rows):
        return data.replace(b"\n", b"\r\n")
    return b"".join(row[:-1] + b"\r\n" for row in rows)


def csv_header(columns: tuple[Column, ...]) -> str:
    """The BOM and the header line (the labels neutralised), for either CSV writer."""
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer).writerow([neutralised(str(c.label)) for c in columns])
    return buffer.getvalue()


def write_csv(
    queryset: QuerySet, columns: tuple[Column, ...], out: IO[bytes], progress: Callable[[int], None] | None = None
) -> int:
    """The query's rows as the report's CSV (with the BOM and the header) to ``out``; returns
    the bytes written."""
    written = out.write(csv_header(columns).encode()) or 0

    def flush(rows: list[bytes]) -> None:
        nonlocal written
        written += out.write(_crlf(rows)) or 0

    sql, params = csv_sql(queryset, columns)
    _copy(sql, params, "FORMAT csv", _Rows(flush, progress))
    return written


def write_xlsx_rows(
    queryset: QuerySet,
    columns: tuple[Column, ...],
    workbook: xlsx.Workbook,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The query's rows into the workbook's sheet (its header already written); returns the rows."""
    sql, params = xlsx_sql(queryset, columns)
    return _copy(
        sql, params, "FORMAT text", _Rows(lambda rows: workbook.write(xlsx.drop_invalid(b"".join(rows))), progress)
    )
