"""The PDF documents: amounts in capital numerals, each school's award notice (its text holds the
school's name and the award in 大写), the county's yearly summary, who may export them, the
trail's record of every export, and a renderer that fetches nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditRecord
from evaluation.models import SchoolResult
from reports import pdf
from reports.capitals import capitals
from reports.registry import Params
from staffing.models import Exchange

from .factories_staffing import ExchangeFactory

# --- 大写金额 ----------------------------------------------------------------------------------

CAPITALS = [
    ("123456.78", "壹拾贰万叁仟肆佰伍拾陆元柒角捌分"),  # the example
    ("0.05", "伍分"),
    ("0.50", "伍角"),
    ("0.00", "零元整"),
    ("1.00", "壹元整"),
    ("10.00", "壹拾元整"),
    ("15.00", "壹拾伍元整"),
    ("110.00", "壹佰壹拾元整"),
    ("100000.00", "壹拾万元整"),
    ("20000.00", "贰万元整"),
    ("1000001.01", "壹佰万零壹元零壹分"),
    ("100010000.00", "壹亿零壹万元整"),
    ("100000000.00", "壹亿元整"),
    ("10000001.00", "壹仟万零壹元整"),
    # the payment rules' own examples (where they allow two forms, the one with 零)
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("107000.53", "壹拾万零柒仟元零伍角叁分"),
    ("101010.10", "壹拾万零壹仟零壹拾元零壹角"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("amount", "expected"), CAPITALS)
def test_capital_numerals_as_an_accountant_writes_them(amount, expected):
    assert capitals(D(amount)) == expected


def test_whole_yuan_as_an_int_and_a_decimal_without_places_read_the_same():
    assert capitals(70000) == capitals(D("70000")) == capitals(D("70000.00")) == "柒万元整"


@pytest.mark.parametrize("amount", [D("-0.01"), D("-100.00"), D("1.005"), D("1E+12"), D("NaN"), 1.5, "10.00", True])
def test_what_is_not_an_amount_to_the_fen_is_refused(amount):
    with pytest.raises(ValueError):
        capitals(amount)


# --- PDFs --------------------------------------------------------------------------------------


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def fonts_of(data: bytes) -> set[str]:
    """The fonts' names without their subset prefix and punctuation: "NotoSansCJKSC"."""
    return {
        str(font.get_object()["/BaseFont"]).split("+")[-1].replace("-", "")
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def params(published):
    return Params(county_id=published.county_id, school_year_id=published.school_year_id)


def booked_awards(period) -> dict[str, D]:
    publication = period.publications.get()
    codes = dict(SchoolResult.objects.filter(period=period).values_list("school_id", "school__code"))
    return {codes[int(s)]: D(a) for s, a in publication.awards.items()}


def test_the_notices_have_a_page_per_school_with_its_name_and_award_in_capitals(published, params, auditor):
    # given the published year, its awards as booked
    awards = booked_awards(published)
    results = SchoolResult.objects.filter(period=published).select_related("school").order_by("school__code")
    assert any(a > 0 for a in awards.values())
    out = io.BytesIO()
    # when the auditor exports the notices
    count = pdf.write_award_notices(auditor, params, out)
    # then one page per school, each with the school's name, its award as ¥ and in 大写
    pages = pages_of(out.getvalue())
    assert count == len(pages) == len(results) == 4
    for page, result in zip(pages, results, strict=True):
        award = awards.get(result.school.code, D("0.00"))
        text = squeeze(page)
        assert result.school.name in text
        assert capitals(award) in text
        assert f"¥{award:,.2f}" in text
        assert str(result.final_score) in text
    # and its text is set in Noto Sans CJK, nothing else
    assert {f.removesuffix("Bold") for f in fonts_of(out.getvalue())} == {"NotoSansCJKSC"}


def test_a_principal_gets_only_its_own_schools_notice(published, principal, member_school, other_school):
    own = Params(county_id=published.county_id, school_year_id=published.school_year_id, school_id=member_school.pk)
    out = io.BytesIO()
    assert pdf.write_award_notices(principal, own, out) == 1
    text = squeeze(text_of(out.getvalue()))
    assert member_school.name in text
    assert other_school.name not in text
    for school in (other_school, None):
        other = Params(
            county_id=published.county_id, school_year_id=published.school_year_id, school_id=school and school.pk
        )
        with pytest.raises(PermissionDenied):
            pdf.write_award_notices(principal, other, io.BytesIO())


def test_assessors_and_other_counties_get_no_notice_nor_summary(published, params, assessor, other_bureau_staff):
    for user in (assessor, other_bureau_staff):
        with pytest.raises(PermissionDenied):
            pdf.write_award_notices(user, params, io.BytesIO())
        with pytest.raises(PermissionDenied):
            pdf.write_county_summary(user, params, io.BytesIO())


def test_there_is_no_notice_before_publication(year_period, bureau_staff):
    params = Params(county_id=year_period.county_id, school_year_id=year_period.school_year_id)
    with pytest.raises(ValidationError):
        pdf.write_award_notices(bureau_staff, params, io.BytesIO())


def test_every_pdf_export_is_recorded_in_the_trail(published, params, auditor):
    before = AuditRecord.objects.filter(action="export").count()
    pdf.write_award_notices(auditor, params, io.BytesIO())
    pdf.write_county_summary(auditor, params, io.BytesIO())
    records = list(AuditRecord.objects.filter(action="export").order_by("id"))[before:]
    assert [(r.username, r.after["report"], r.after["format"]) for r in records] == [
        ("auditor", "award_notices", "pdf"),
        ("auditor", "county_summary", "pdf"),
    ]
    assert records[0].model == "evaluation.evaluationperiod"
    assert records[0].object_id == str(published.pk)
    codes = SchoolResult.objects.filter(period=published).values_list("school__code", flat=True)
    assert records[0].after["schools"] == sorted(codes)


def test_the_summary_holds_the_years_totals_and_its_charts(
    published, params, bureau_staff, lead_teacher, teacher, member_school, lead_school
):
    # given the published year, and exchanges: two that count and a cancelled one
    done = Exchange.Status.COMPLETED
    ExchangeFactory(teacher=lead_teacher, status=done, hosts=[member_school])
    ExchangeFactory(
        teacher=teacher, kind=Exchange.Kind.SHADOWING, status=done, hosts=[lead_school], end_date=dt.date(2025, 9, 30)
    )
    ExchangeFactory(
        teacher=teacher,
        status=Exchange.Status.CANCELLED,
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 4, 30),
        hosts=[lead_school],
    )
    year = published.school_year
    figures = pdf.county_summary(bureau_staff, params)
    # then the exchanges are counted by kind, with the evaluation's teacher-days
    assert {r["kind"]: r["n"] for r in figures["exchanges"]} == {
        str(Exchange.Kind.DISPATCHED.label): 1,
        str(Exchange.Kind.SHADOWING.label): 1,
    }
    assert figures["exchange_totals"]["days"] == Exchange.objects.all().teacher_days(year.start_date, year.end_date)
    assert figures["exchange_totals"]["days"] == 142 + 30
    awards = booked_awards(published)
    # then its award total is the publication's, and the pool splits into awards and remainder
    assert figures["award_total"] == sum(awards.values())
    assert figures["award_total"] + figures["remainder"] == figures["pool"] == D("240000.00")
    assert figures["schools_scored"] == 4
    # when it is drawn
    out = io.BytesIO()
    pdf.write_county_summary(bureau_staff, params, out)
    data = out.getvalue()
    text = squeeze(text_of(data))
    # then the text holds the county, the quotas and the award total, and the charts are drawn
    assert published.county.name in text
    assert f"¥{figures['money']['quotas']:,.2f}" in text
    assert f"¥{figures['award_total']:,.2f}" in text
    assert data.startswith(b"%PDF-")


def test_the_renderer_fetches_no_url():
    from weasyprint.urls import FatalURLFetchingError

    html = '<html><body><p>x</p><img src="http://127.0.0.1:9/logo.png"></body></html>'
    with pytest.raises(FatalURLFetchingError):
        pdf.render(html)
    css = '<html><head><link rel="stylesheet" href="https://example.invalid/a.css"></head><body>x</body></html>'
    with pytest.raises(FatalURLFetchingError):
        pdf.render(css)


# --- the downloads (reports.pdf_urls, under /reports/pdf/) ------------------------------------


def _get(client, user, name, school_year, **query):
    client.force_login(user)
    return client.get(reverse(f"reports_pdf:{name}", args=[school_year.pk]), query)


def test_the_downloads_by_role(published, client, auditor, bureau_staff, principal, lead_principal, assessor):
    year = published.school_year
    member, other = principal.school, lead_principal.school
    cases = [
        (auditor, "award_notices", {}, 200),
        (bureau_staff, "county_summary", {}, 200),
        (principal, "award_notices", {}, 200),  # its own school's
        (principal, "award_notices", {"school": member.pk}, 200),
        (principal, "award_notices", {"school": other.pk}, 404),  # a school it cannot read
        (lead_principal, "award_notices", {"school": member.pk}, 403),  # it reads the member, not its notice
        (principal, "county_summary", {}, 403),
        (assessor, "award_notices", {}, 403),
    ]
    for user, name, query, status in cases:
        response = _get(client, user, name, year, **query)
        assert response.status_code == status, (user.username, name, query)
        if status == 200:
            assert response["Content-Type"] == "application/pdf"
            assert response.content.startswith(b"%PDF-")
    response = _get(client, principal, "award_notices", year)
    text = squeeze(text_of(response.content))
    assert member.name in text and other.name not in text


def test_another_countys_year_is_not_found_and_the_refusal_recorded(published, client, other_bureau_staff):
    response = _get(client, other_bureau_staff, "award_notices", published.school_year)
    assert response.status_code == 404
    refused = AuditRecord.objects.filter(action="refused", username=other_bureau_staff.username).get()
    assert refused.object_id == str(published.school_year.pk)


def test_a_download_is_recorded_with_the_requests_address(published, client, auditor):
    response = _get(client, auditor, "county_summary", published.school_year)
    assert response.status_code == 200
    record = AuditRecord.objects.filter(action="export", after__report="county_summary").get()
    assert record.username == "auditor"
    assert record.client_addr == "127.0.0.1"
    assert record.source.startswith("GET /reports/pdf/")
