"""The writers every report shares: CSV (streamed, UTF-8 with a byte-order mark so that Excel
reads Chinese) and XLSX (``reports.xlsx``: the sheet's XML written straight into the zip as rows
come, so a million rows take bounded memory). The PDF writer is ``reports.pdf``.

A report whose rows are one query (``registry.iterate``) is written by PostgreSQL instead
(``reports.pgcopy``: ``COPY`` formats its rows as the Python writers here would, byte for byte in
CSV, cell for cell in XLSX); any other report's rows are formatted here, row by row.

A text cell that begins with ``= + - @``, a tab or a carriage return would be a formula to a
spreadsheet (CSV injection): it is written with a leading quote ``'``, in both formats
(``reports.injection``). Numbers and dates are written as such, never as text. Every export is
recorded in the audit trail before its first row is written."""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from audit.services import record_event

from . import pgcopy, xlsx
from .injection import FORMULA_CHARS, neutralised
from .registry import Column, Params, Report, iterate

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)
# Rows per chunk of a streamed CSV: big enough that the response is not a million tiny writes.
CSV_CHUNK_ROWS = 2000
# A download is spooled before it is sent (a report written by PostgreSQL, an XLSX): in memory
# up to this size, then on disk.
SPOOL_BYTES = 8 * 1024 * 1024
SPOOL_CHUNK = 1 << 20
XLSX_PROGRESS_ROWS = 5000


def record_export(report: Report, user: Any, params: Params, fmt: str, *, request: Any = None) -> None:
    """The export's record in the trail (raises if it cannot be written: no unrecorded export)."""
    record_event(
        "export",
        request=request,
        user=None if request is not None else user,
        model="reports.report",
        object_id=report.code,
        detail={"report": report.code, "format": fmt, "params": dataclasses.asdict(params)},
    )


def file_name(report: Report, params: Params, fmt: str) -> str:
    from alliance.models import SchoolYear

    year = SchoolYear.objects.select_related("county").get(pk=params.school_year_id)
    parts = [report.code, year.county.code, str(year.start_year)]
    if params.term_id:
        parts.append(f"term{params.term_id}")
    if params.alliance_id:
        parts.append(f"alliance{params.alliance_id}")
    if params.school_id:
        parts.append(f"school{params.school_id}")
    return "-".join(parts) + f".{fmt}"


# --- CSV ------------------------------------------------------------------------------------------


def _csv_text(columns: tuple[Column, ...], rows: Iterable[tuple[Any, ...]], progress: Callable[[int], None] | None):
    # The per-row work is inlined (a function call per cell is most of a million rows' time):
    # text cells are neutralised, moments written in local time; numbers and dates as csv
    # writes them (Decimal to the fen, ISO dates).
    texts = [i for i, c in enumerate(columns) if c.kind == "text"]
    moments = [i for i, c in enumerate(columns) if c.kind == "datetime"]
    tz = timezone.get_current_timezone()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(pgcopy.csv_header(columns))
    count = 0
    for values in rows:
        row = list(values)
        for i in texts:
            value = row[i]
            if isinstance(value, str) and value and value[0] in FORMULA_CHARS:
                row[i] = "'" + value
        for i in moments:
            value = row[i]
            if value is not None:
                row[i] = value.astimezone(tz).isoformat(" ", "seconds")[:19]
        writer.writerow(row)
        count += 1
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress is not None:
                progress(count)
    yield buffer.getvalue()
    if progress is not None:
        progress(count)


def csv_chunks(
    report: Report, user: Any, params: Params, *, progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The report as CSV, in chunks of UTF-8 (the first begins with the BOM). The checkpoint is
    asked (and may refuse) before anything is yielded: call it before streaming. A report that
    is one query is exported by PostgreSQL into a spooled file when the first chunk is asked
    for, then sent from it."""
    source = report.source(user, params)
    if pgcopy.is_query(source):
        return _spooled_copy(source, report.columns, progress)
    return (text.encode("utf-8") for text in _csv_text(report.columns, iterate(source), progress))


def _spooled_copy(source: QuerySet, columns: tuple[Column, ...], progress: Callable[[int], None] | None):
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        pgcopy.write_csv(source, columns, spool, progress)
        spool.seek(0)
        while chunk := spool.read(SPOOL_CHUNK):
            yield chunk


def write_csv(report: Report, user: Any, params: Params, out: IO[bytes], **kwargs: Any) -> int:
    """Writes the report as CSV to a binary file; records the export. Returns the bytes written."""
    progress = kwargs.get("progress")
    source = report.source(user, params)
    record_export(report, user, params, "csv", request=kwargs.get("request"))
    if pgcopy.is_query(source):
        return pgcopy.write_csv(source, report.columns, out, progress)
    written = 0
    for text in _csv_text(report.columns, iterate(source), progress):
        written += out.write(text.encode("utf-8")) or 0
    return written


# --- XLSX -----------------------------------------------------------------------------------------


def write_xlsx(report: Report, user: Any, params: Params, out: IO[bytes], **kwargs: Any) -> int:
    """Writes the report as XLSX to a binary file (``reports.xlsx``): Chinese headers (the
    columns' labels in the current language) in bold in a frozen first row, money as numbers
    with a ¥ format and two decimals, dates as dates. Records the export. Returns the rows."""
    progress: Callable[[int], None] | None = kwargs.get("progress")
    source = report.source(user, params)
    record_export(report, user, params, "xlsx", request=kwargs.get("request"))
    with xlsx.Workbook(out, report.title) as book:
        book.start(report.columns, [neutralised(str(c.label)) for c in report.columns])
        if pgcopy.is_query(source):
            return pgcopy.write_xlsx_rows(source, report.columns, book, progress)
        row = xlsx.cells(report.columns, timezone.get_current_timezone())
        count = 0

        def rows() -> Iterator[str]:
            nonlocal count
            for values in iterate(source):
                count += 1
                yield row(count + 1, values)
                if progress is not None and count % XLSX_PROGRESS_ROWS == 0:
                    progress(count)

        for chunk in xlsx.chunks(rows()):
            book.write(chunk)
    if progress is not None:
        progress(count)
    return count


WRITERS: dict[str, Callable[..., int]] = {"csv": write_csv, "xlsx": write_xlsx}
