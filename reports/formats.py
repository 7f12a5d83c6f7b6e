"""The writers every report shares: CSV (streamed, UTF-8 with a byte-order mark so that Excel
reads Chinese) and XLSX (openpyxl's write-only mode: rows go to the file as they come, so a
million rows take bounded memory). The PDF writer is ``reports.pdf``.

A text cell that begins with ``= + - @``, a tab or a carriage return would be a formula to a
spreadsheet (CSV injection): it is written with a leading quote ``'``, in both formats. Numbers
and dates are written as such, never as text. Every export is recorded in the audit trail
before its first row is written."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from audit.services import record_event

from .registry import Column, Params, Report

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = frozenset(FORMULA_STARTS)
MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DECIMAL_FORMAT = "0.00##"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)
# Rows per chunk of a streamed CSV: big enough that the response is not a million tiny writes.
CSV_CHUNK_ROWS = 2000


def neutralised(text: str) -> str:
    """Text as a spreadsheet shows it and never runs (a leading quote before a formula start)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
    buffer.write(BOM)
    writer.writerow([neutralised(str(c.label)) for c in columns])
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
    asked (and may refuse) before anything is yielded: call it before streaming."""
    rows = report.rows(user, params)
    return (text.encode("utf-8") for text in _csv_text(report.columns, rows, progress))


def write_csv(report: Report, user: Any, params: Params, out: IO[bytes], **kwargs: Any) -> int:
    """Writes the report as CSV to a binary file; records the export. Returns the bytes written."""
    chunks = csv_chunks(report, user, params, progress=kwargs.get("progress"))
    record_export(report, user, params, "csv", request=kwargs.get("request"))
    written = 0
    for chunk in chunks:
        written += out.write(chunk) or 0
    return written


# --- XLSX -----------------------------------------------------------------------------------------

NUMBER_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "decimal": DECIMAL_FORMAT}
WIDTHS = {"text": 18, "int": 10, "decimal": 12, "money": 16, "date": 12, "datetime": 20}


def _xlsx_cells(ws: Any, columns: tuple[Column, ...]) -> list[Callable[[Any], Any]]:
    tz = timezone.get_current_timezone()

    def local(value: dt.datetime) -> dt.datetime:
        return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo is not None else value

    """Per column, how a value becomes a cell. A styled column reuses one cell object: the
    write-only sheet writes each appended row out at once, so the next row may refill it."""

    def styled(number_format: str, convert: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:
        cell = WriteOnlyCell(ws)
        cell.number_format = number_format

        def fill(value: Any) -> Any:
            if value is None:
                return None
            cell.value = convert(value) if convert else value  # (a date keeps a date's format)
            return cell

        return fill

    cells: list[Callable[[Any], Any]] = []
    for column in columns:
        if column.kind == "text":
            cells.append(lambda v: "'" + v if isinstance(v, str) and v and v[0] in FORMULA_CHARS else v)
        elif column.kind == "datetime":
            cells.append(styled(DATETIME_FORMAT, local))
        elif column.kind in NUMBER_FORMATS:
            cells.append(styled(NUMBER_FORMATS[column.kind]))
        else:
            cells.append(lambda v: v)
    return cells


def write_xlsx(report: Report, user: Any, params: Params, out: IO[bytes], **kwargs: Any) -> int:
    """Writes the report as XLSX to a binary file (seekable: a zip): Chinese headers (the
    columns' labels in the current language) in bold in a frozen first row, money as numbers
    with a ¥ format and two decimals, dates as dates. Records the export. Returns the rows."""
    progress: Callable[[int], None] | None = kwargs.get("progress")
    rows = report.rows(user, params)
    record_export(report, user, params, "xlsx", request=kwargs.get("request"))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(report.title)[:31])
    ws.freeze_panes = "A2"
    for index, column in enumerate(report.columns):
        ws.column_dimensions[get_column_letter(index + 1)].width = WIDTHS.get(column.kind, 18)
    bold = Font(bold=True)
    header = []
    for column in report.columns:
        cell = WriteOnlyCell(ws, value=neutralised(str(column.label)))
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    cells = _xlsx_cells(ws, report.columns)
    count = 0
    for row in rows:
        ws.append([f(v) for f, v in zip(cells, row, strict=True)])
        count += 1
        if progress is not None and count % 5000 == 0:
            progress(count)
    wb.save(out)
    if progress is not None:
        progress(count)
    return count


WRITERS: dict[str, Callable[..., int]] = {"csv": write_csv, "xlsx": write_xlsx}
