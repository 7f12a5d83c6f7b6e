"""Reading an uploaded spreadsheet, which nobody vouches for, into rows of text and numbers.

An XLSX is a zip of XML parts. Before openpyxl sees it: the name and the first bytes must agree
(``PK\\x03\\x04`` for XLSX; a CSV is text, no zip and no NUL bytes), the members' unpacked sizes
(as the zip's directory declares them, and again as they are read) and their compression ratios
are bounded, and no XML part may declare a DTD (an XLSX never does; entity expansion, the
"billion laughs", needs one). openpyxl then parses in read-only mode with defusedxml installed,
which it uses for the workbook's parts. Formulas are never evaluated: a cell holding ``=1+1``
is read as the text ``=1+1`` (``data_only=False``) and stored as that text.

Row numbers are the spreadsheet's: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # unpacked / packed, per member: real sheets compress 5–20 times
MAX_MEMBERS = 200
MAX_ROWS = 10_000  # a county has at most a few hundred schools, a few thousand teachers
MAX_COLUMNS = 50
ZIP_MAGIC = b"PK\x03\x04"
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
CHUNK = 64 * 1024


@dataclass
class Table:
    """The header (as written) and the data rows, each with its row number."""

    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    sheet: str = ""


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def file_kind(data: bytes, name: str) -> str:
    """ "xlsx" or "csv", judged by the name and the content together."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "xlsx":
        if not data.startswith(ZIP_MAGIC):
            raise _refuse(_("The file is named .xlsx but its content is not an XLSX workbook."), "bad_magic")
        return "xlsx"
    if extension == "csv":
        if data.startswith(ZIP_MAGIC) or b"\x00" in data[:CHUNK]:
            raise _refuse(_("The file is named .csv but its content is not text."), "bad_magic")
        return "csv"
    raise _refuse(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."), "bad_type")


def check_zip(data: bytes) -> None:
    """Refuse a zip that would unpack to too much, or whose XML declares a DTD; reads each
    member in chunks and stops at the bound, so a bomb costs at most the bound."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _refuse(_("The workbook is damaged and cannot be read."), "bad_zip") from exc
    too_big = _refuse(_("The workbook unpacks to more than %(mb)d MB.") % {"mb": MAX_UNPACKED_BYTES >> 20}, "too_big")
    if len(members) > MAX_MEMBERS:
        raise _refuse(_("The workbook has too many parts."), "too_many_parts")
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise too_big
    for member in members:
        if member.file_size > MAX_RATIO * max(member.compress_size, 1) and member.file_size > CHUNK:
            raise too_big
    total = 0
    with archive:
        # Every member, whatever its name: [Content_Types].xml may declare any part name XML.
        for member in members:
            try:
                with archive.open(member) as part:
                    tail = b""
                    while chunk := part.read(CHUNK):
                        total += len(chunk)
                        if total > MAX_UNPACKED_BYTES:  # a directory that lies about sizes
                            raise too_big
                        window = tail + chunk
                        if any(marker in window for marker in DTD_MARKERS):
                            raise _refuse(
                                _("The workbook declares XML entities, which a spreadsheet never needs."), "dtd"
                            )
                        tail = chunk[-16:]
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
                raise _refuse(_("The workbook is damaged and cannot be read."), "bad_zip") from exc


def _cells(values: Iterable[Any]) -> list[Any]:
    row = []
    for value in values:
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, dt.datetime) and value.time() == dt.time(0):
            value = value.date()
        row.append(value)
    while row and row[-1] in (None, ""):
        row.pop()
    return row


def _table(rows: Iterator[Iterable[Any]], sheet: str = "") -> Table:
    header: list[str] | None = None
    table = Table(header=[], sheet=sheet)
    for number, values in enumerate(rows, start=1):
        row = _cells(values)
        if header is None:
            header = [("" if v is None else str(v)) for v in row]
            if len(header) > MAX_COLUMNS:
                raise _refuse(_("The sheet has more than %(n)d columns.") % {"n": MAX_COLUMNS}, "too_wide")
            table.header = header
            continue
        if not row:
            continue
        if len(table.rows) >= MAX_ROWS:
            raise _refuse(_("The file has more than %(n)d rows; split it.") % {"n": MAX_ROWS}, "too_many_rows")
        table.rows.append((number, row[:MAX_COLUMNS]))
    if header is None:
        raise _refuse(_("The file is empty."), "empty")
    return table


def _sheet_name(names: list[str], wanted: tuple[str, ...]) -> str:
    for name in names:
        if name.strip().lower() in {w.lower() for w in wanted}:
            return name
    if len(names) == 1:
        return names[0]
    raise _refuse(
        _("The workbook has no sheet named %(wanted)s (it has: %(found)s).")
        % {"wanted": " / ".join(wanted), "found": "、".join(names)},
        "wrong_sheet",
    )


def read_xlsx(data: bytes, sheet_names: tuple[str, ...]) -> Table:
    import openpyxl  # defusedxml is installed: openpyxl uses it for the workbook's parts

    check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign zip
        raise _refuse(_("The file is not a workbook Excel can open (.xlsx)."), "bad_xlsx") from exc
    try:
        name = _sheet_name(workbook.sheetnames, sheet_names)
        sheet = workbook[name]
        declared = getattr(sheet, "max_row", None)
        if isinstance(declared, int) and declared > MAX_ROWS + 1:
            raise _refuse(_("The file has more than %(n)d rows; split it.") % {"n": MAX_ROWS}, "too_many_rows")
        return _table(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), sheet=name)
    finally:
        workbook.close()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030 (what Chinese Excel saves "CSV" as)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _refuse(_("The CSV file is neither UTF-8 nor GB18030 text."), "bad_encoding") from exc


def read_csv(data: bytes) -> Table:
    text = decode_text(data)
    try:
        return _table(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _refuse(_("The CSV file cannot be read: %(error)s") % {"error": exc}, "bad_csv") from exc


def read_table(data: bytes, name: str, *, sheet_names: tuple[str, ...]) -> Table:
    """The file's rows, or a ``ValidationError`` saying in one sentence why it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(_("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES >> 20}, "too_large")
    if file_kind(data, name) == "xlsx":
        return read_xlsx(data, sheet_names)
    return read_csv(data)
