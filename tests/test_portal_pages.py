"""The portal's pages through the test client: each role's landing, the principal's home and its
query count, exchanges, spending with a receipt, the assessor's grid, the bureau's overview and
the school's result page. Access per page and role is in test_portal_access.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from alliance.models import Pairing, PairingTask
from evaluation import services as evaluation_services
from evaluation.models import Appeal, Indicator, IndicatorValue, SchoolResult
from funding.models import LedgerEntry, SpendingRecord
from portal.templatetags.portal_format import choice_labels
from staffing.models import Exchange

from .factories import PairingFactory, PairingTaskFactory
from .factories_staffing import ActivityFactory, ExchangeFactory, MentorPairFactory, TeacherFactory
from .fixtures_portal import PDF, PNG, signed_in

PASSWORD = "pw-for-tests-123"  # UserFactory's

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_exchange(principal, teacher, lead_school):
    """A planned exchange out of school A, to the lead school."""
    return ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal)


# --- signing in: each role lands on its own home --------------------------------------------


@pytest.mark.parametrize(
    ("who", "template", "marker"),
    [
        ("principal", "portal/school_home.html", "东山小学"),
        ("lead_principal", "portal/school_home.html", "实验小学"),
        ("assessor", "portal/assessor_home.html", "东山小学"),
        ("bureau_staff", "portal/overview.html", 'href="/admin/"'),
        ("auditor", "reports/index.html", 'href="/overview/"'),
    ],
)
def test_each_role_lands_on_its_own_home_after_signing_in(request, who, template, marker):
    # given a user of the role
    user = request.getfixturevalue(who)
    client = Client()

    # when they sign in at /login/
    response = client.post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)

    # then they land on "/" with their role's page (auditors: the reports page, one hop on), their
    # name and a sign-out form
    assert response.redirect_chain == [("/", 302)] + ([("/reports/", 302)] if who == "auditor" else [])
    assert template in [t.name for t in response.templates]
    page = response.content.decode()
    assert marker in page
    assert user.username in page
    assert 'action="/logout/"' in page and 'method="post"' in page
    assert '<meta name="viewport"' in page


def test_the_pages_speak_chinese_by_default_and_english_on_request(principal):
    client = signed_in(principal)
    assert "校联体与结对" in client.get("/").content.decode()
    assert "Alliance and pairings" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_signing_out_ends_the_session(principal):
    client = signed_in(principal)
    response = client.post("/logout/")
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_the_admin_lives_at_admin(bureau_staff):
    assert signed_in(bureau_staff).get("/admin/").status_code == 200
    assert Client().get("/admin/").status_code == 302


def test_a_user_without_a_role_is_told_so(county):
    from .factories import UserFactory

    user = UserFactory(username="norole", county=county)
    response = signed_in(user).get("/")
    assert response.status_code == 403
    assert "portal/no_role.html" in [t.name for t in response.templates]


# --- the member principal's home -----------------------------------------------------------


def _home_rows(n, *, principal, teacher, member_school, lead_school, alliance):
    """n of each row the home lists, around school A."""
    pairing = Pairing.objects.filter(alliance=alliance).first() or PairingFactory(
        alliance=alliance, helper_school=lead_school, helped_school=member_school
    )
    lead_teacher = TeacherFactory(school=lead_school)
    for i in range(n):
        PairingTaskFactory(pairing=pairing, title=f"任务{i}", due_date=dt.date(2025, 11, 1) + dt.timedelta(days=i))
        t = TeacherFactory(school=member_school, name=f"王{i}")
        ExchangeFactory(
            teacher=t,
            hosts=[lead_school],
            logged_by=principal,
            start_date=dt.date(2025, 9, 1) + dt.timedelta(days=i),
            end_date=dt.date(2025, 12, 1),
        )
        lt = TeacherFactory(school=lead_school, name=f"李{i}")
        ExchangeFactory(teacher=lt, hosts=[member_school], logged_by=principal)
        MentorPairFactory(mentor=lead_teacher, mentee=t)
        ActivityFactory(host_school=member_school, schools=[lead_school], title=f"活动{i}")


def test_the_home_shows_the_schools_year(
    principal, teacher, member_school, lead_school, alliance, research_line, proposed
):
    # given a pairing with an open task, an exchange each way, a mentor pair, an activity, an
    # approved plan line for school A and a proposed result
    _home_rows(
        1, principal=principal, teacher=teacher, member_school=member_school, lead_school=lead_school, alliance=alliance
    )
    PairingTask.objects.update(title="制定帮扶计划")

    # when the principal opens the home page
    page = signed_in(principal).get("/").content.decode()

    # then every part is there, money written as yuan
    assert "实验校联体" in page
    assert "实验小学 → 东山小学" in page
    assert "制定帮扶计划" in page
    assert "王0" in page and "李0" in page
    assert "活动0" in page
    assert "¥100,000.00" in page
    assert "¥0.00" in page
    result = SchoolResult.objects.get(period=proposed, school=member_school)
    assert f"/result/{result.pk}/" in page
    assert str(result.final_score) in page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_are_what_get_display_shows_in_the_current_language(language):
    # the home reads its rows as values and labels them from a dict built once per language
    shown = {}
    with translation.override(language):
        labels = choice_labels(Exchange, "status")
        for value in Exchange.Status.values:
            shown[value] = Exchange(status=value).get_status_display()
    assert labels == shown
    with translation.override("zh-hans" if language == "en" else "en"):
        assert choice_labels(Exchange, "status") != labels


def test_the_homes_queries_do_not_grow_with_its_rows(
    django_assert_max_num_queries, principal, teacher, member_school, lead_school, alliance, research_line, proposed
):
    rows = {
        "principal": principal,
        "teacher": teacher,
        "member_school": member_school,
        "lead_school": lead_school,
        "alliance": alliance,
    }
    client = signed_in(principal)
    # given one row of each kind: count the queries of the page
    _home_rows(1, **rows)
    client.get("/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/").status_code == 200

    # when there are many more of each
    _home_rows(12, **rows)
    # then the page makes no more queries than with one
    with django_assert_max_num_queries(len(one)):
        page = client.get("/").content.decode()
    assert "王11" in page and "活动11" in page


# --- exchanges ----------------------------------------------------------------------------


def exchange_data(teacher, hosts, **overrides):
    data = {
        "kind": "dispatched",
        "teacher": teacher.pk,
        "host_schools": [h.pk for h in hosts],
        "subject": "math",
        "class_count": "2",
        "classes": "三(1)班",
        "weekly_periods": "8",
        "start_date": "2025-10-01",
        "end_date": "2026-01-15",
    }
    return {**data, **overrides}


def test_an_exchange_ending_before_it_starts_shows_the_error_beside_the_end_date(principal, teacher, lead_school):
    client = signed_in(principal)
    # when the principal logs an exchange that ends before it starts
    response = client.post("/exchanges/", exchange_data(teacher, [lead_school], end_date="2025-09-01"))

    # then the form comes back with the service's message beside the end date, nothing saved
    assert response.status_code == 400
    form = response.context["form"]
    assert "end_date" in form.errors
    assert 'id="errors-end_date"' in response.content.decode()
    assert not Exchange.objects.exists()

    # when corrected, then it is logged from the school and listed
    response = client.post("/exchanges/", exchange_data(teacher, [lead_school]))
    assert response.status_code == 302
    exchange = Exchange.objects.get()
    assert exchange.origin_school == principal.school
    assert exchange.logged_by == principal
    assert list(exchange.host_schools.all()) == [lead_school]
    page = client.get("/exchanges/").content.decode()
    assert "王老师" in page and f"/exchanges/{exchange.pk}/" in page


def test_host_rules_land_beside_the_host_field(principal, teacher, lead_school, other_school):
    response = signed_in(principal).post("/exchanges/", exchange_data(teacher, [lead_school, other_school]))
    assert response.status_code == 400
    assert "host_schools" in response.context["form"].errors


def test_an_exchange_is_edited_while_still_editable(principal, a_exchange):
    client = signed_in(principal)
    url = f"/exchanges/{a_exchange.pk}/"
    assert client.get(url).status_code == 200
    response = client.post(
        url, exchange_data(a_exchange.teacher, [a_exchange.host_schools.get()], end_date="2026-01-10")
    )
    assert response.status_code == 302
    a_exchange.refresh_from_db()
    assert a_exchange.end_date == dt.date(2026, 1, 10)

    # and an edit that breaks a rule shows it beside the field
    response = client.post(
        url, exchange_data(a_exchange.teacher, [a_exchange.host_schools.get()], end_date="2025-01-01")
    )
    assert response.status_code == 400 and "end_date" in response.context["form"].errors

    # once completed it is no longer editable
    Exchange.objects.filter(pk=a_exchange.pk).update(status=Exchange.Status.COMPLETED)
    assert client.get(url).status_code == 404
    assert f'href="{url}"' not in client.get("/exchanges/").content.decode()


def test_another_schools_exchange_is_a_404(other_school_principal, a_exchange):
    client = signed_in(other_school_principal)
    assert client.get(f"/exchanges/{a_exchange.pk}/").status_code == 404
    assert client.post(f"/exchanges/{a_exchange.pk}/", {}).status_code == 404


# --- spending -----------------------------------------------------------------------------


def spending_data(line, receipt, **overrides):
    data = {
        "plan_line": line.pk,
        "date": "2025-10-15",
        "amount": "1234.56",
        "payee": "新华书店",
        "description": "教研用书",
        "receipt": receipt,
    }
    return {**data, **overrides}


def test_spending_with_a_pdf_receipt_is_recorded(principal, research_line):
    client = signed_in(principal)
    response = client.post("/spending/", spending_data(research_line, SimpleUploadedFile("发票.pdf", PDF)))
    assert response.status_code == 302
    record = SpendingRecord.objects.get()
    assert record.amount == Decimal("1234.56")
    assert record.receipt.name.endswith(".pdf")
    assert LedgerEntry.objects.filter(spending_record=record).exists()
    page = client.get("/spending/").content.decode()
    assert "¥1,234.56" in page and "新华书店" in page


def test_a_png_receipt_is_accepted(principal, research_line):
    response = signed_in(principal).post("/spending/", spending_data(research_line, SimpleUploadedFile("r.png", PNG)))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "receipt",
    [
        pytest.param(
            lambda: SimpleUploadedFile("发票.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"), id="exe-named-pdf"
        ),
        pytest.param(lambda: SimpleUploadedFile("r.txt", b"hello", "text/plain"), id="text"),
        pytest.param(lambda: SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024)), id="over-10MB"),
        pytest.param(lambda: "", id="missing"),
    ],
)
def test_bad_receipts_are_refused_and_nothing_is_written(principal, research_line, receipt):
    entries = LedgerEntry.objects.count()
    response = signed_in(principal).post("/spending/", spending_data(research_line, receipt()))
    assert response.status_code == 400
    assert "receipt" in response.context["form"].errors
    assert 'id="errors-receipt"' in response.content.decode()
    assert not SpendingRecord.objects.exists()
    assert LedgerEntry.objects.count() == entries


def test_spending_past_the_line_shows_the_services_error_beside_the_amount(principal, research_line):
    response = signed_in(principal).post(
        "/spending/", spending_data(research_line, SimpleUploadedFile("r.pdf", PDF), amount="100000.01")
    )
    assert response.status_code == 400
    assert "amount" in response.context["form"].errors
    assert not SpendingRecord.objects.exists()


def test_another_schools_line_cannot_be_chosen(other_school_principal, research_line):
    response = signed_in(other_school_principal).post(
        "/spending/", spending_data(research_line, SimpleUploadedFile("r.pdf", PDF))
    )
    assert response.status_code == 400
    assert "plan_line" in response.context["form"].errors
    assert not SpendingRecord.objects.exists()


# --- the assessor's grid ------------------------------------------------------------------


def cell(school, rubric, code):
    return f"v{school.pk}_{rubric.dimensions.get().indicators.get(code=code).pk}"


def test_the_grid_lists_the_assigned_schools_and_the_entered_indicators(assessor, year_period, simple_rubric):
    page = signed_in(assessor).get(f"/assess/{year_period.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "东山小学" in text and "西岭小学" not in text
    assert "quality" in text and "care" in text
    assert "0–100" in text
    assert page.context["missing"] == 2


def test_one_bad_value_keeps_the_whole_school_unsaved_and_shows_the_error_at_its_cell(
    assessor, year_period, simple_rubric, member_school
):
    client = signed_in(assessor)
    url = f"/assess/{year_period.pk}/{member_school.pk}/"
    quality, care = cell(member_school, simple_rubric, "quality"), cell(member_school, simple_rubric, "care")

    # when one value is out of range
    response = client.post(url, {quality: "150", care: "60"})

    # then nothing of the school is saved and the error is at that cell, the other value kept in its box
    assert response.status_code == 400
    assert not IndicatorValue.objects.exists()
    row = response.context["rows"][0]
    errors = {c["name"]: c["errors"] for c in row["cells"]}
    assert errors[quality] and not errors[care]
    assert 'value="60"' in response.content.decode()

    # when corrected, both are saved and nothing is missing
    response = client.post(url, {quality: "90", care: "60"})
    assert response.status_code == 302
    assert IndicatorValue.objects.count() == 2
    assert signed_in(assessor).get(f"/assess/{year_period.pk}/").context["missing"] == 0


def test_an_unassigned_school_is_a_404(assessor, year_period, simple_rubric, other_school):
    url = f"/assess/{year_period.pk}/{other_school.pk}/"
    assert signed_in(assessor).post(url, {}).status_code == 404


def test_the_grid_of_a_period_under_notice_is_a_404(assessor, proposed):
    assert signed_in(assessor).get(f"/assess/{proposed.pk}/").status_code == 404


# --- the bureau's overview ----------------------------------------------------------------


def test_the_overview_counts_what_waits_and_draws_the_county(
    bureau_staff, principal, a_exchange, proposed, simple_rubric, research_line
):
    # given a planned exchange, a proposed period with results, an approved plan, an open appeal
    evaluation_services.appeal_file(
        actor=principal,
        period=proposed,
        indicator=Indicator.objects.get(dimension__rubric=simple_rubric, code="quality"),
        reason="分数有误",
    )

    # when bureau staff open the overview
    response = signed_in(bureau_staff).get("/")

    # then the to-do counts and the charts are there
    assert response.status_code == 200
    todo = response.context["todo"]
    assert todo == {"exchanges": 1, "plans": 0, "appeals": 1, "notices": 0}
    page = response.content.decode()
    assert page.count("<svg") >= 3
    assert "实验校联体" in page and "城南校联体" in page
    assert 'href="/admin/"' in page


# --- the school's result ------------------------------------------------------------------


def test_the_result_page_shows_totals_dimensions_and_every_indicator(principal, proposed, member_school):
    client = signed_in(principal)
    response = client.get("/result/", follow=True)
    result = SchoolResult.objects.get(period=proposed, school=member_school)
    assert response.redirect_chain == [(f"/result/{result.pk}/", 302)]
    page = response.content.decode()
    assert str(result.final_score) in page and "<svg" in page
    assert "quality" in page and "care" in page
    assert "full points from 100" in page or "满分" in page
    assert "File the appeal" in page or "提交申诉" in page


def test_an_appeal_is_filed_per_indicator_during_the_notice(principal, proposed, member_school):
    client = signed_in(principal)
    result = SchoolResult.objects.get(period=proposed, school=member_school)
    url = f"/result/{result.pk}/appeal/"
    # without a reason: the service's message beside the reason
    response = client.post(url, {"indicator": "quality", "reason": ""})
    assert response.status_code == 400
    assert response.context["appeal_form"].errors["reason"]
    assert not Appeal.objects.exists()
    # with one: filed
    assert client.post(url, {"indicator": "quality", "reason": "分数有误"}).status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.school == member_school and appeal.indicator.code == "quality"


def test_another_schools_result_is_a_404(other_school_principal, proposed, member_school):
    result = SchoolResult.objects.get(period=proposed, school=member_school)
    client = signed_in(other_school_principal)
    assert client.get(f"/result/{result.pk}/").status_code == 404
    assert client.post(f"/result/{result.pk}/appeal/", {"indicator": "quality", "reason": "x"}).status_code == 404
    assert not Appeal.objects.exists()


# --- money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.56"), "¥1,234.56"),
        (Decimal("1234567.5"), "¥1,234,567.50"),
        (Decimal("0"), "¥0.00"),
        (Decimal("-12.3"), "-¥12.30"),
        ("200000.00", "¥200,000.00"),
        (7, "¥7.00"),
        (None, "—"),
    ],
)
def test_yuan_writes_money_to_the_fen(value, shown):
    from alliance.formatting import yuan

    assert yuan(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [("50.0000", "50"), ("12.5000", "12.5"), (Decimal("100"), "100"), (None, "—")]
)
def test_plain_number_drops_trailing_zeros(value, shown):
    from alliance.formatting import plain_number

    assert plain_number(value) == shown


def test_yuan_refuses_a_float():
    from alliance.formatting import yuan

    with pytest.raises(TypeError):
        yuan(1.5)


# --- the lead principal: the alliance side by side, and its plan --------------------------------


def test_the_alliance_page_shows_the_schools_side_by_side(lead_principal, approved_plan, teacher, lead_school):
    ExchangeFactory(teacher=teacher, hosts=[lead_school])
    response = signed_in(lead_principal).get("/alliance/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "实验小学" in page and "东山小学" in page
    assert "¥100,000.00" in page and "¥50,000.00" in page
    columns = response.context["views"][0]["columns"]
    assert [(c["school"].name, c["out"], c["in"]) for c in columns] == [("实验小学", 0, 1), ("东山小学", 1, 0)]


def plan_cell(school, category):
    return f"c{school.pk}_{category}"


def test_the_lead_principal_builds_and_submits_the_plan(
    lead_principal, open_year, alliance, lead_school, member_school
):
    from funding.models import PlanLine, SpendingPlan

    client = signed_in(lead_principal)
    url = f"/plan/{alliance.pk}/"
    # given no plan yet: starting one makes revision 1
    assert "action" in client.get(url).content.decode()
    assert client.post(url, {"action": "start"}).status_code == 302
    plan = SpendingPlan.objects.get(alliance=alliance)

    # when one cell is not an amount, then nothing is kept and the error is at that cell
    data = {plan_cell(member_school, "teaching_research"): "1,000.00", plan_cell(lead_school, "training"): "abc"}
    response = client.post(url, {"action": "save", **data})
    assert response.status_code == 400
    assert not PlanLine.objects.exists()
    cells = {c["name"]: c["errors"] for row in response.context["rows"] for c in row["cells"]}
    assert cells[plan_cell(lead_school, "training")] and not cells[plan_cell(member_school, "teaching_research")]

    # when over the fund, saving keeps the lines and submitting is refused with the service's message
    data[plan_cell(lead_school, "training")] = "279000.01"
    response = client.post(url, {"action": "submit", **data})
    assert response.status_code == 400
    assert response.context["general_errors"]
    plan.refresh_from_db()
    assert plan.status == SpendingPlan.Status.DRAFT
    assert PlanLine.objects.count() == 2

    # when within the fund, it is submitted; an emptied cell removes its line
    data[plan_cell(lead_school, "training")] = ""
    assert client.post(url, {"action": "submit", **data}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == SpendingPlan.Status.SUBMITTED
    assert list(PlanLine.objects.values_list("school", "category", "amount")) == [
        (member_school.pk, "teaching_research", Decimal("1000.00"))
    ]


def test_another_alliances_plan_is_a_404(county, other_lead_school, other_alliance, open_year, alliance):
    from alliance.access import Role

    from .factories import UserFactory

    other_lead = UserFactory(username="lead_b", county=county, school=other_lead_school, role=Role.LEAD_PRINCIPAL)
    assert signed_in(other_lead).get(f"/plan/{alliance.pk}/").status_code == 404
    assert signed_in(other_lead).get(f"/plan/{other_alliance.pk}/").status_code == 200


@pytest.mark.parametrize("who, path", [("bureau_staff", "/"), ("lead_principal", "/alliance/")])
def test_the_overview_and_the_alliance_page_do_not_grow_with_rows(
    request,
    django_assert_max_num_queries,
    who,
    path,
    principal,
    teacher,
    member_school,
    lead_school,
    alliance,
    approved_plan,
):
    client = signed_in(request.getfixturevalue(who))
    rows = {
        "principal": principal,
        "teacher": teacher,
        "member_school": member_school,
        "lead_school": lead_school,
        "alliance": alliance,
    }
    _home_rows(1, **rows)
    Exchange.objects.update(status=Exchange.Status.APPROVED)
    client.get(path)
    with CaptureQueriesContext(connection) as one:
        assert client.get(path).status_code == 200
    _home_rows(10, **rows)
    Exchange.objects.update(status=Exchange.Status.APPROVED)
    with django_assert_max_num_queries(len(one)):
        assert client.get(path).status_code == 200


def test_the_auditors_reports_page_downloads_the_award_sheet(auditor, proposed):
    client = signed_in(auditor)
    page = client.get("/", follow=True).content.decode()
    # the page's form posts the admin's export action for the period
    assert 'action="/admin/evaluation/evaluationperiod/"' in page
    assert f'name="_selected_action" value="{proposed.pk}"' in page
    response = client.post(
        "/admin/evaluation/evaluationperiod/", {"action": "export_awards", "_selected_action": [proposed.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
