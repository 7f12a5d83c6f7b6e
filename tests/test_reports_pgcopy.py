"""A report that is one query is exported by PostgreSQL (``reports.pgcopy``): its CSV is byte for
byte what the Python writer makes of the same rows, its XLSX reads back (with openpyxl) cell for
cell as the Python writer's and as openpyxl's own writer's did, no cell runs as a formula, and a
large export passes through in bounded memory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import tracemalloc
import zipfile
from decimal import Decimal as D

import pytest
from django.db import connection
from django.db.models import CharField, DateField, DecimalField, F, Func, IntegerField, Value
from django.db.models.functions import Cast
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from funding import services as funding_services
from funding.models import SpendingRecord
from reports import expressions, formats, pgcopy, registry, xlsx
from reports.injection import FORMULA_STARTS, neutralised, neutralised_sql
from reports.registry import Column, Params, register

pytestmark = pytest.mark.django_db

# Payees (they become the ledger's documents) and descriptions that a writer could get wrong.
NASTY = [
    "=1+2", "+SUM(A1)", "-3+4", "@cmd", "\tx", "\rx", 'say "hi", ok', "line1\nline2", "crlf\r\nend",
    "中文，逗号,comma", " lead and trail ", "back\\slash", "ctl\x01\x08\x0b\x0c\x1fchar", "&<>'\"&amp;", "\\.",
    "''quoted", "tab\tinside", "emoji 😀", "semi;colon", "a" * 200, "vvv fff bbb", "\\N", "end\n", "=", "'already",
]  # fmt: skip
ILLEGAL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")


def params(school_year) -> Params:
    return Params(county_id=school_year.county_id, school_year_id=school_year.pk)


@pytest.fixture
def nasty_ledger(research_line, principal, bureau_staff):
    """The ledger with a spending record per nasty payee (descriptions nasty too), one of them
    reversed for a nasty reason."""
    records = [
        funding_services.spending_record_create(
            actor=principal, plan_line=research_line, date=dt.date(2025, 10, 1) + dt.timedelta(days=i),
            amount=D("1.01") * (i + 1), payee=payee, description=NASTY[-i - 1],
        )
        for i, payee in enumerate(NASTY)
    ]  # fmt: skip
    entry = records[3].ledger_entries.get()
    funding_services.entry_reverse(entry=entry, actor=bureau_staff, reason='错了, "重记"\n第二行 =A1')
    return records


def python_csv(report: registry.Report, user, p: Params) -> bytes:
    return "".join(formats._csv_text(report.columns, report.rows(user, p), None)).encode()


def copy_csv(report: registry.Report, user, p: Params) -> bytes:
    out = io.BytesIO()
    source = report.source(user, p)
    assert pgcopy.is_query(source)
    pgcopy.write_csv(source, report.columns, out)
    return out.getvalue()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_ledgers_csv_is_the_python_writers_byte_for_byte(nasty_ledger, bureau_staff, school_year, language):
    report = registry.get("ledger")
    with translation.override(language):
        python, copied = (
            python_csv(report, bureau_staff, params(school_year)),
            copy_csv(report, bureau_staff, params(school_year)),
        )
    assert copied == python
    text = copied.decode("utf-8-sig")
    # (not two empty files: every payee is there, quoted where csv quotes, a memo neutralised)
    assert text.count("\r\n") > len(NASTY) and '""hi""' in text and ",'=1+2," in text
    assert '"中文，逗号,comma"' in text and '"错了, ""重记""\n第二行 =A1"' in text


def test_a_principals_ledger_csv_is_the_python_writers(nasty_ledger, principal, school_year):
    report = registry.get("ledger")
    copied = copy_csv(report, principal, params(school_year))
    assert copied == python_csv(report, principal, params(school_year))
    assert copied.count(b"\r\n") > len(NASTY)


@pytest.fixture
def kinds_reports(nasty_ledger):
    """The same rows (every kind of column, NULLs, nasty texts) as a query and as Python rows."""
    columns = (
        Column("id", "编号", "int"), Column("at", "记录时间", "datetime"), Column("payee", "收款人"),
        Column("description", "说明"), Column("amount", "金额", "money"), Column("day", "日期", "date"),
        Column("rate", "比率", "decimal"), Column("none_n", "空数", "int"), Column("none_t", "空文本"),
        Column("none_d", "空日期", "date"), Column("code", "代码"),
    )  # fmt: skip

    def query(user, p):
        return (
            SpendingRecord.objects.annotate(
                rate=Value(D("12.5000"), output_field=DecimalField(max_digits=8, decimal_places=4)),
                none_n=Value(None, output_field=IntegerField()),
                none_t=Value(None, output_field=CharField()),
                none_d=Cast(Value(None), DateField()),
                code=F("plan_line__school__code"),
            )
            .order_by("pk")
            .values_list("pk", "recorded_at", "payee", "description", "amount", "date", "rate", "none_n",
                         "none_t", "none_d", "code")
        )  # fmt: skip

    register(code="test_kinds_query", title="样例:查询/一", columns=columns)(query)
    register(code="test_kinds_rows", title="样例:查询/一", columns=columns)(lambda u, p: iter(list(query(u, p))))
    yield registry.get("test_kinds_query"), registry.get("test_kinds_rows")
    del registry.REPORTS["test_kinds_query"], registry.REPORTS["test_kinds_rows"]


def test_every_kind_of_column_is_written_as_the_python_writer_writes_it(kinds_reports, bureau_staff, school_year):
    query, rows = kinds_reports
    copied, python = io.BytesIO(), io.BytesIO()
    formats.write_csv(query, bureau_staff, params(school_year), copied)
    formats.write_csv(rows, bureau_staff, params(school_year), python)
    assert copied.getvalue() == python.getvalue()
    got = list(csv.reader(io.StringIO(copied.getvalue().decode("utf-8-sig"), newline="")))
    assert len(got) == len(NASTY) + 1 and {r[2] for r in got[1:]} == {neutralised(t.strip()) for t in NASTY}
    assert {r[3] for r in got[1:]} == {neutralised(t) for t in NASTY}  # (descriptions as entered)
    assert got[1][5:] == ["2025-10-01", "12.5000", "", "", "", got[1][10]] and got[1][10]


def test_a_query_django_knows_empty_exports_its_header_alone(kinds_reports, bureau_staff, school_year):
    # given a report whose query has no SQL (Django knows ``pk__in=[]`` is empty)
    query, _rows = kinds_reports
    register(code="test_empty", title="样例", columns=query.columns)(lambda u, p: query.source(u, p).filter(pk__in=[]))
    try:
        empty = registry.get("test_empty")
        assert not pgcopy.is_query(empty.source(bureau_staff, params(school_year)))

        # then the CSV is its header alone, and the XLSX a sheet of its header row
        out = io.BytesIO()
        formats.write_csv(empty, bureau_staff, params(school_year), out)
        assert out.getvalue() == pgcopy.csv_header(query.columns).encode("utf-8")
        book = io.BytesIO()
        formats.write_xlsx(empty, bureau_staff, params(school_year), book)
        assert [[v for v, *_ in row] for row in cells(book.getvalue())] == [[str(c.label) for c in query.columns]]
    finally:
        del registry.REPORTS["test_empty"]


def cells(data: bytes) -> list[list[tuple]]:
    ws = load_workbook(io.BytesIO(data)).active
    return [[(c.value, c.data_type, c.number_format, bool(c.font.b)) for c in row] for row in ws.iter_rows()]


def openpyxl_reference(report: registry.Report, user, p: Params) -> bytes:
    """The sheet as the writer before ``reports.xlsx`` wrote it (openpyxl's write-only mode); a
    text with characters XML cannot hold (which openpyxl refused) without them."""
    tz = timezone.get_current_timezone()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="x")
    ws.freeze_panes = "A2"
    header = []
    for column in report.columns:
        cell = WriteOnlyCell(ws, value=neutralised(str(column.label)))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    formats_ = {"money": xlsx.MONEY_FORMAT, "date": xlsx.DATE_FORMAT, "datetime": xlsx.DATETIME_FORMAT,
                "decimal": xlsx.DECIMAL_FORMAT}  # fmt: skip
    for values in report.rows(user, p):
        row = []
        for column, value in zip(report.columns, values, strict=True):
            if isinstance(value, str):
                value = ILLEGAL.sub("", neutralised(value)) or None
            elif isinstance(value, dt.datetime):
                value = value.astimezone(tz).replace(tzinfo=None)
            if column.kind in formats_ and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = formats_[column.kind]
                value = cell
            row.append(value)
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _as_xml_reads(table: list[list[tuple]]) -> list[list[tuple]]:
    """A bare carriage return reads back as a line feed (XML's line ends): as openpyxl's file."""
    return [[(v.replace("\r\n", "\n").replace("\r", "\n") if isinstance(v, str) else v, *rest)
             for v, *rest in row] for row in table]  # fmt: skip


@pytest.mark.parametrize("code", ["ledger", "kinds"])
def test_the_xlsx_reads_back_as_the_python_writers_and_openpyxls(code, kinds_reports, bureau_staff, school_year):
    p = params(school_year)
    query, rows = kinds_reports if code == "kinds" else (registry.get("ledger"), None)
    copied = io.BytesIO()
    assert formats.write_xlsx(query, bureau_staff, p, copied) >= len(NASTY)
    got = cells(copied.getvalue())
    if rows is not None:
        python = io.BytesIO()
        formats.write_xlsx(rows, bureau_staff, p, python)
        assert got == cells(python.getvalue())
    assert _as_xml_reads(got) == _as_xml_reads(cells(openpyxl_reference(query, bureau_staff, p)))
    # the texts exactly (a carriage return kept), neutralised, without what XML cannot hold
    texts = {v for row in got[1:] for v, kind, _f, _b in row if kind == "s"}
    if code == "kinds":
        assert {ILLEGAL.sub("", neutralised(t)) for t in NASTY} <= texts
        amounts = [row[4] for row in got[1:]]
        assert all(
            v == float(D("1.01") * (i + 1)) and f == xlsx.MONEY_FORMAT for i, (v, _k, f, _b) in enumerate(amounts)
        )
        assert got[1][5][0] == dt.datetime(2025, 10, 1) and got[1][5][2] == "yyyy-mm-dd"
    assert not any(t.startswith(FORMULA_STARTS) for t in texts)
    ws = load_workbook(copied).active
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and ws["A1"].alignment.horizontal == "center"


def test_the_xlsx_keeps_a_moment_to_the_second_in_local_time(kinds_reports, bureau_staff, school_year):
    query, _rows = kinds_reports
    copied = io.BytesIO()
    formats.write_xlsx(query, bureau_staff, params(school_year), copied)
    ws = load_workbook(copied).active
    at = SpendingRecord.objects.order_by("pk").first().recorded_at
    local = at.astimezone(timezone.get_current_timezone()).replace(tzinfo=None)
    assert ws["B2"].is_date and ws["B2"].number_format == xlsx.DATETIME_FORMAT
    assert abs(ws["B2"].value - local) < dt.timedelta(milliseconds=1)


def test_the_sql_neutralises_as_python_does():
    texts = [*NASTY, "", " =x", "＝全角", "普通", "-", "+", "@", "\t", "\r", None]
    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute(f"SELECT {neutralised_sql('%(t)s::text')}", {"t": text})
            assert cursor.fetchone()[0] == (None if text is None else neutralised(text)), repr(text)


def test_a_translated_sentence_is_put_together_in_sql(lead_school):
    one = type(lead_school).objects.filter(pk=lead_school.pk)
    for template in ("第%(id)s号：%(name)s", "%(id)s", "100%% %(name)s!", "no placeholder", "%(name)s%(name)s"):
        expr = expressions.sentence(template, id=Value(7), name="name")
        got = one.annotate(x=expr).values_list("x", flat=True).get()
        assert got == template % {"id": 7, "name": lead_school.name}
    with pytest.raises(ValueError, match="placeholders"):
        expressions.sentence("%d records")


@pytest.fixture
def many_rows(lead_school):
    """A query report of ``n`` rows (one school's row repeated by ``generate_series``)."""
    columns = (Column("i", "序号", "int"), Column("name", "名称"), Column("n", "金额", "money"),
               Column("t", "文本"))  # fmt: skip

    def query(user, p):
        series = Func(Value(1), Value(p.extra["n"]), function="generate_series", output_field=IntegerField())
        return (
            type(lead_school)
            .objects.filter(pk=lead_school.pk)
            .annotate(i=series, money=Value(D("1234.56")), text=Value('=长一点的文本, "引号"' * 3))
            .values_list("i", "name", "money", "text")
        )

    register(code="test_many", title="大", columns=columns)(query)
    yield registry.get("test_many")
    del registry.REPORTS["test_many"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_large_export_passes_through_in_bounded_memory(many_rows, bureau_staff, school_year, fmt):
    n = 200_000
    p = Params(county_id=school_year.county_id, school_year_id=school_year.pk, extra={"n": n})
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            result = formats.WRITERS[fmt](many_rows, bureau_staff, p, out)
            _size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        size = out.tell()
        out.seek(0)
        if fmt == "xlsx":
            assert result == n
            with zipfile.ZipFile(out) as book, book.open(xlsx.SHEET) as sheet:
                rows, tail = 0, b""
                while chunk := sheet.read(1 << 20):
                    rows += (tail + chunk).count(b"</row>")
                    tail = chunk[-5:]
            assert rows == n + 1
            ws = load_workbook(out, read_only=True).active
            first = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
            assert first[0] == 1 and first[2] == 1234.56 and first[3].startswith("'=长一点")
        else:
            assert out.read().count(b"\r\n") == n + 1
    # the file is far bigger than what Python held at once (the rows were never all in memory)
    assert size > 2**20 if fmt == "xlsx" else size > 10 * 2**20
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB"
