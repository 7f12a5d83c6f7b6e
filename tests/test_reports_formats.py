"""The writers: CSV streamed with a BOM, XLSX as a spreadsheet a bureau opens in Excel (Chinese
headers, ¥ amounts as numbers, dates as dates, a frozen header row), and no cell that Excel
would run as a formula, in either format; every export is in the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from audit.models import AuditRecord
from reports import formats, registry
from reports.registry import Column, Params, register

pytestmark = pytest.mark.django_db

NASTY = ["=1+2", "+SUM(A1)", "-3+4", "@cmd", "\tx", "\rx", "普通"]


@pytest.fixture(scope="module", autouse=True)
def sample_report():
    """A report of every kind of cell, formula-looking text included (registered for this module)."""

    @register(
        code="test_sample",
        title="样例",
        columns=(
            Column("text", "文本"), Column("n", "数量", "int"), Column("money", "金额", "money"),
            Column("day", "日期", "date"), Column("at", "时间", "datetime"), Column("rate", "比率", "decimal"),
        ),
    )  # fmt: skip
    def sample(user, params):
        at = dt.datetime(2025, 10, 1, 1, 30, tzinfo=dt.UTC)
        return iter([(text, i, D("-1234.5") if i == 0 else D("123456.78"), dt.date(2025, 9, 1), at, D("0.5"), )
                     for i, text in enumerate(NASTY)])  # fmt: skip

    yield registry.get("test_sample")
    del registry.REPORTS["test_sample"]


def params(school_year) -> Params:
    return Params(county_id=school_year.county_id, school_year_id=school_year.pk)


def test_csv_has_a_bom_chinese_headers_and_neutralised_formulas(sample_report, bureau_staff, school_year):
    out = io.BytesIO()
    formats.write_csv(sample_report, bureau_staff, params(school_year), out)
    raw = out.getvalue()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["文本", "数量", "金额", "日期", "时间", "比率"]
    texts = [r[0] for r in rows[1:]]
    assert texts[:6] == ["'" + t for t in NASTY[:6]] and texts[6] == "普通"
    assert not any(t[0] in "=+-@\t\r" for t in texts)
    # numbers stay numbers (a negative amount is not text), the time is local (Asia/Shanghai)
    assert rows[1][2] == "-1234.5" and rows[1][3] == "2025-09-01" and rows[1][4] == "2025-10-01 09:30:00"


def test_xlsx_reads_back_with_types_formats_and_a_frozen_header(sample_report, bureau_staff, school_year):
    out = io.BytesIO()
    formats.write_xlsx(sample_report, bureau_staff, params(school_year), out)
    out.seek(0)
    ws = load_workbook(out).active
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["文本", "数量", "金额", "日期", "时间", "比率"]
    assert ws["A1"].font.b
    money, day, at = ws["C3"], ws["D3"], ws["E3"]
    assert money.value == 123456.78 and money.data_type == "n" and "¥" in money.number_format
    assert "0.00" in money.number_format
    assert ws["C2"].value == -1234.5
    assert day.value == dt.datetime(2025, 9, 1) and day.is_date and day.number_format == "yyyy-mm-dd"
    assert at.value == dt.datetime(2025, 10, 1, 9, 30) and at.is_date
    texts = [ws.cell(row=r, column=1) for r in range(2, 9)]
    assert all(c.data_type == "s" for c in texts)  # no formula cell ("f") anywhere
    # (depending on the XML parser, a carriage return may read back as a line feed)
    assert [c.value.replace("\r", "\n") for c in texts][:6] == ["'" + t.replace("\r", "\n") for t in NASTY[:6]]


def test_every_export_is_in_the_audit_trail(sample_report, bureau_staff, school_year):
    before = AuditRecord.objects.filter(action="export").count()
    formats.write_csv(sample_report, bureau_staff, params(school_year), io.BytesIO())
    formats.write_xlsx(sample_report, bureau_staff, params(school_year), io.BytesIO())
    records = AuditRecord.objects.filter(action="export").order_by("pk")
    assert records.count() == before + 2
    last = records.last()
    assert last.username == bureau_staff.username and last.object_id == "test_sample"
    assert last.after["format"] == "xlsx" and last.after["params"]["school_year_id"] == school_year.pk


def test_the_page_streams_the_csv(published, auditor):
    client = Client()
    client.force_login(auditor)
    response = client.get(f"/reports/ledger.csv?school_year={published.school_year_id}")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="ledger-' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    with translation.override("zh-hans"):
        header = [str(c.label) for c in registry.get("ledger").columns]
    got = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert got[0] == header and header[0] == "分录号"  # Chinese by default
    assert len(got) > 1


def test_the_page_sends_the_xlsx(published, auditor):
    client = Client()
    client.force_login(auditor)
    response = client.get(f"/reports/award_sheet.xlsx?school_year={published.school_year_id}")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws.freeze_panes == "A2"
    awards = [r[-1] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert round(sum(awards[:-2]) + awards[-2], 2) == awards[-1] == 240000
