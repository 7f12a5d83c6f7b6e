"""An XLSX workbook of one sheet, written as XML straight into a zip entry: a million rows pass
through in bounded memory, at the speed of compressing them (openpyxl built an object per cell,
about twenty times slower).

The workbook's parts other than the sheet are fixed (``styles.xml`` holds the formats every
report uses); the sheet is the header row in bold, centred and frozen, then the rows, each cell
an inline string (``t="inlineStr"``) or a number with its style: money ``"¥"#,##0.00``, decimals
``0.00##``, dates and times as Excel's serial numbers with a date format. Its cells' XML comes
either from Python (``cells``, for any report's rows) or from PostgreSQL (``reports.pgcopy``, for
a report that is one query); both write the same styles with the same rules (``STYLE``)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from .injection import neutralised
from .registry import Column

# Excel's serial day 0 (its 1900 date system, right for every day after 1900-02-28).
EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001  (naive: a local moment's serial)
SECONDS_PER_DAY = 86400
MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DECIMAL_FORMAT = "0.00##"
# Column kind → the cell style (its index in styles.xml's cellXfs); 1 is the header's.
STYLE = {"money": 2, "date": 3, "datetime": 4, "decimal": 5}
HEADER_STYLE = 1
WIDTHS = {"text": 18, "int": 10, "decimal": 12, "money": 16, "date": 12, "datetime": 20}
# Characters XML 1.0 does not allow (a spreadsheet cell cannot hold them): removed.
INVALID_XML = "".join(chr(c) for c in (*range(1, 9), 11, 12, *range(14, 32))) + "\ufffe\uffff"
SHEET = "xl/worksheets/sheet1.xml"
# The zip's compression: the first level of deflate is several times faster than the default
# and the sheet's XML, repetitive, shrinks about as much.
COMPRESSLEVEL = 1
# Bytes gathered before they are handed to the compressor.
FLUSH_BYTES = 1 << 20

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES_XML = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
ROOT_RELS_XML = (
    _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK_RELS_XML = (
    _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
STYLES_XML = (
    _HEAD + f"<styleSheet {_NS}>"
    '<numFmts count="4">'
    f'<numFmt numFmtId="164" formatCode={quoteattr(MONEY_FORMAT)}/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/>'
    f'<numFmt numFmtId="166" formatCode="{DATETIME_FORMAT}"/>'
    f'<numFmt numFmtId="167" formatCode="{DECIMAL_FORMAT}"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment horizontal="center"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
SHEET_END = "</sheetData></worksheet>"
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_INVALID_XML_RE = re.compile(f"[{re.escape(INVALID_XML)}]")
_TEXT_ESCAPES = {"\r": "&#13;"}


def sheet_title(title: Any) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    return _SHEET_NAME_BAD.sub(" ", str(title))[:31].strip() or "Sheet1"


def workbook_xml(title: Any) -> str:
    return (
        _HEAD + f'<workbook {_NS} xmlns:r="{_REL_NS}"><sheets>'
        f'<sheet name={quoteattr(sheet_title(title))} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def xml_text(text: str) -> str:
    """Text as an XML text node keeps it: escaped, a carriage return as a character reference
    (a parser would read a bare one as a line feed), characters XML cannot hold removed."""
    text = escape(text, _TEXT_ESCAPES)
    return _INVALID_XML_RE.sub("", text) if not text.isprintable() else text


TEXT_OPEN = '<c t="inlineStr"><is><t xml:space="preserve">'
TEXT_CLOSE = "</t></is></c>"
NUMBER_CLOSE = "</v></c>"
EMPTY = "<c/>"


def number_open(kind: str) -> str:
    style = STYLE.get(kind, 0)
    return f'<c s="{style}"><v>' if style else "<c><v>"


def text_cell(text: str, style: int = 0) -> str:
    if style:
        return f'<c s="{style}" t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}{TEXT_CLOSE}'
    return f"{TEXT_OPEN}{xml_text(text)}{TEXT_CLOSE}"


def sheet_start(columns: tuple[Column, ...], labels: list[str]) -> str:
    """The sheet up to its first row of data: the frozen header row, the columns' widths, the
    header (``labels``, already neutralised)."""
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{WIDTHS.get(c.kind, 18)}" customWidth="1"/>'
        for i, c in enumerate(columns)
    )
    header = "".join(text_cell(label, HEADER_STYLE) for label in labels)
    return (
        _HEAD + f'<worksheet {_NS} xmlns:r="{_REL_NS}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData><row r="1">{header}</row>\n'
    )


def serial(value: dt.date | dt.datetime) -> str:
    """A date or a (naive, local) moment as Excel's serial number."""
    if isinstance(value, dt.datetime):
        delta = value - EPOCH
        return repr(delta.days + (delta.seconds + delta.microseconds / 1e6) / SECONDS_PER_DAY)
    return str((value - EPOCH.date()).days)


def cells(columns: tuple[Column, ...], tz: dt.tzinfo) -> Callable[[int, tuple], str]:
    """How a row of Python values becomes a ``<row>`` (row ``n``, 1 being the header's): per
    column kind, as ``reports.pgcopy`` writes it in SQL. The cells are written in order,
    without their references (optional in SpreadsheetML), ``<c/>`` for no value."""

    def number(kind: str) -> Callable[[Any], str]:
        head = number_open(kind)
        return lambda v: f"{head}{v}{NUMBER_CLOSE}"

    moment_style = number_open("datetime")

    def moment(v: dt.datetime) -> str:
        local = v.astimezone(tz).replace(tzinfo=None) if v.tzinfo is not None else v
        return f"{moment_style}{serial(local)}{NUMBER_CLOSE}"

    day_style = number_open("date")

    def day(v: dt.date) -> str:
        return moment(v) if isinstance(v, dt.datetime) else f"{day_style}{serial(v)}{NUMBER_CLOSE}"

    plain = number("int")

    def text(v: Any) -> str:
        if not isinstance(v, str):
            return plain(v) if isinstance(v, int | Decimal) else text_cell(str(v))
        return text_cell(neutralised(v)) if v else EMPTY

    writers = [
        text if c.kind == "text" else moment if c.kind == "datetime" else day if c.kind == "date" else number(c.kind)
        for c in columns
    ]

    def row(n: int, values: tuple) -> str:
        body = "".join(EMPTY if v is None else w(v) for w, v in zip(writers, values, strict=True))
        return f'<row r="{n}">{body}</row>\n'

    return row


class Workbook:
    """The workbook being written to ``out`` (a binary file; a zip is written with seeks where
    the file allows them, with data descriptors where it does not). Use as a context manager:
    ``write`` the sheet's XML (bytes or text) after ``start``; leaving closes the sheet and
    writes the fixed parts."""

    def __init__(self, out: IO[bytes], title: Any) -> None:
        self.zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL)
        self.title = title
        self.sheet: IO[bytes] | None = None

    def __enter__(self) -> Workbook:
        return self

    def start(self, columns: tuple[Column, ...], labels: list[str]) -> None:
        self.sheet = self.zip.open(SHEET, "w", force_zip64=True)
        self.sheet.write(sheet_start(columns, labels).encode())

    def write(self, data: bytes) -> None:
        assert self.sheet is not None
        self.sheet.write(data)

    def __exit__(self, exc_type: Any, *_exc: Any) -> None:
        try:
            if exc_type is None:
                assert self.sheet is not None
                self.sheet.write(SHEET_END.encode())
                self.sheet.close()
                for name, body in (
                    ("[Content_Types].xml", CONTENT_TYPES_XML),
                    ("_rels/.rels", ROOT_RELS_XML),
                    ("xl/workbook.xml", workbook_xml(self.title)),
                    ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS_XML),
                    ("xl/styles.xml", STYLES_XML),
                ):
                    self.zip.writestr(name, body)
        finally:
            if self.sheet is not None and exc_type is not None:
                self.sheet.close()
            self.zip.close()


_CONTROL_BYTES = bytes(c for c in range(1, 32) if c not in (9, 10, 13))
_NONCHARACTERS = ("\ufffe".encode(), "\uffff".encode())


def drop_invalid(data: bytes) -> bytes:
    """UTF-8 without the characters XML cannot hold (a control byte is never part of another
    character's UTF-8)."""
    data = data.translate(None, _CONTROL_BYTES)
    for char in _NONCHARACTERS:
        if char in data:
            data = data.replace(char, b"")
    return data


def chunks(rows: Iterator[str], size: int = FLUSH_BYTES) -> Iterator[bytes]:
    """Rows' XML gathered into chunks of about ``size`` bytes (encoded)."""
    buffer: list[str] = []
    length = 0
    for row in rows:
        buffer.append(row)
        length += len(row)
        if length >= size:
            yield "".join(buffer).encode()
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer).encode()
