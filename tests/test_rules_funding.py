"""Funding's rules, once each: money in plain decimals, a plan's lines locked with the plan,
quotas only in a draft year, error codes that say what happened, admin actions that report
exactly what they did (issue 12 §3–5, issue 13)."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.urls import reverse
from django.utils import translation

from funding import services
from funding.models import Category, FundingQuota, PlanLine, SpendingPlan, SpendingRecord
from funding.services import FundingError

from .factories_funding import FundingYearFactory

API = "/api/v1"


def zh(msgid):
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def codes(exc):
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


@pytest.fixture
def admin_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def action(client, model, name, pks, **extra):
    url = reverse(f"admin:funding_{model}_changelist")
    return client.post(url, {"action": name, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], **extra}, follow=True)


def said(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def draft_plan(open_year, alliance, lead_principal, member_school):
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    services.plan_line_add(
        actor=lead_principal, plan=plan, school=member_school, category=Category.CLUBS, amount=Decimal("1000.00")
    )
    return plan


# --- money in plain decimals -------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1e3", "1E+3", Decimal("1e3"), Decimal("1.00E+3"), " 1,000 ", "0x10", "1000."])
def test_money_in_anything_but_plain_decimals_is_refused(amount):
    with pytest.raises(ValidationError) as err:
        services.check_amount(amount)
    assert codes(err.value) == {FundingError.NOT_PLAIN.value}


@pytest.mark.parametrize(("amount", "code"), [(1.5, FundingError.NOT_MONEY), ("1.005", FundingError.NOT_FEN)])
def test_other_bad_money_keeps_its_code(amount, code):
    with pytest.raises(ValidationError) as err:
        services.check_amount(amount)
    assert codes(err.value) == {code.value}


@pytest.mark.parametrize("amount", ["1000", "1000.5", "1000.50", Decimal("1000.00"), Decimal("7")])
def test_plain_decimals_are_money(amount):
    assert services.check_amount(amount) == Decimal(str(amount).strip()).quantize(Decimal("0.01"))


def test_spending_of_1e3_is_refused_and_nothing_booked(research_line, principal):
    with pytest.raises(ValidationError) as err:
        services.spending_record_create(
            actor=principal, plan_line=research_line, date=dt.date(2025, 10, 1), amount="1e3", payee="书店"
        )
    assert codes(err.value) == {FundingError.NOT_PLAIN.value}
    assert not SpendingRecord.objects.exists()


def test_a_missing_payee_says_so(research_line, principal):
    with pytest.raises(ValidationError) as err:
        services.spending_record_create(
            actor=principal, plan_line=research_line, date=dt.date(2025, 10, 1), amount=Decimal("1.00"), payee=" "
        )
    assert codes(err.value) == {FundingError.NO_PAYEE.value}
    assert "payee" in err.value.message_dict


# --- an approved plan's lines cannot change ----------------------------------------------


def test_an_approved_plans_line_is_refused_alike_by_api_and_service(api_as, research_line, lead_principal):
    before = PlanLine.objects.get(pk=research_line.pk).amount
    res = api_as(lead_principal).patch(f"{API}/plan-lines/{research_line.pk}/", {"amount": "1.00"}, format="json")
    assert res.status_code == 400
    assert [str(m) for m in res.data["plan"]] == [zh("Only a draft or returned plan can be changed.")]
    with pytest.raises(ValidationError) as err:
        services.plan_line_update(actor=lead_principal, line=research_line, amount=Decimal("1.00"))
    assert codes(err.value) == {FundingError.PLAN_LOCKED.value}
    assert PlanLine.objects.get(pk=research_line.pk).amount == before


def test_a_new_line_on_an_approved_plan_is_refused(api_as, approved_plan, lead_principal, member_school):
    res = api_as(lead_principal).post(
        f"{API}/plan-lines/",
        {"plan": approved_plan.pk, "school": member_school.pk, "category": "clubs", "amount": "1.00"},
        format="json",
    )
    assert res.status_code == 400
    assert approved_plan.lines.count() == 2


def test_the_admin_shows_an_approved_plans_lines_read_only(admin_as, approved_plan, lead_principal):
    page = admin_as(lead_principal).get(reverse("admin:funding_spendingplan_change", args=[approved_plan.pk]))
    formset = page.context["inline_admin_formsets"][0]
    assert not formset.has_add_permission and not formset.has_change_permission


def test_a_line_may_not_move_to_another_plan(api_as, approved_plan, lead_principal):
    revision = services.spending_plan_revise(actor=lead_principal, plan=approved_plan)
    line = revision.lines.first()
    res = api_as(lead_principal).patch(f"{API}/plan-lines/{line.pk}/", {"plan": approved_plan.pk}, format="json")
    assert res.status_code == 400
    assert PlanLine.objects.get(pk=line.pk).plan_id == revision.pk


def test_a_line_for_a_school_outside_the_alliance_is_refused_alike(
    api_as, admin_as, draft_plan, lead_principal, other_school
):
    res = api_as(lead_principal).post(
        f"{API}/plan-lines/",
        {"plan": draft_plan.pk, "school": other_school.pk, "category": "training", "amount": "1.00"},
        format="json",
    )
    assert res.status_code == 400
    assert "school" in res.data
    assert draft_plan.lines.count() == 1


def test_only_the_lead_principal_edits_lines(draft_plan, principal):
    with pytest.raises(PermissionDenied):
        services.plan_line_update(actor=principal, line=draft_plan.lines.get(), notes="x")


# --- a submitted plan is the one that passed the fund check ------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_line_edit_waits_for_a_submission_and_is_then_refused(
    open_year, alliance, lead_principal, member_school, books_ok
):
    # given a draft plan within the fund (280,000.00)
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    line = services.plan_line_add(
        actor=lead_principal, plan=plan, school=member_school, category=Category.CLUBS, amount=Decimal("1000.00")
    )
    submitting = threading.Event()
    results: dict[str, str] = {}

    def submit():
        # the submission holds its locks (plan row, then lines) while it checks the fund
        try:
            with transaction.atomic():
                services.spending_plan_submit(actor=lead_principal, plan=plan)
                submitting.set()
                time.sleep(1.0)
            results["submit"] = "ok"
        finally:
            connections.close_all()

    def edit():
        try:
            submitting.wait(timeout=10)
            services.plan_line_update(actor=lead_principal, line=line, amount=Decimal("999999.00"))
            results["edit"] = "ok"
        except ValidationError as exc:
            results["edit"] = ",".join(sorted(codes(exc)))
        finally:
            connections.close_all()

    # when a line edit over the fund comes in while the plan is being submitted
    threads = [threading.Thread(target=submit), threading.Thread(target=edit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then the edit waited for the submission and was refused: what was stored is what was checked
    assert results == {"submit": "ok", "edit": FundingError.PLAN_LOCKED.value}
    stored = SpendingPlan.objects.get(pk=plan.pk)
    assert stored.status == SpendingPlan.Status.SUBMITTED
    assert PlanLine.objects.get(pk=line.pk).amount == Decimal("1000.00")


@pytest.mark.django_db(transaction=True)
def test_a_submission_racing_a_line_edit_never_stores_a_plan_over_its_fund(
    open_year, alliance, lead_principal, member_school
):
    # given a draft plan just within the fund
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    line = services.plan_line_add(
        actor=lead_principal, plan=plan, school=member_school, category=Category.CLUBS, amount=Decimal("280000.00")
    )
    other = services.plan_line_add(
        actor=lead_principal, plan=plan, school=member_school, category=Category.TRAINING, amount=Decimal("0.01")
    )
    services.plan_line_update(actor=lead_principal, line=line, amount=Decimal("279999.99"))
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def run(name, fn):
        try:
            barrier.wait(timeout=10)
            fn()
            results[name] = "ok"
        except ValidationError as exc:
            results[name] = ",".join(sorted(codes(exc)))
        finally:
            connections.close_all()

    # when the submission and an edit taking the plan past its fund run at the same moment
    threads = [
        threading.Thread(
            target=run, args=("submit", lambda: services.spending_plan_submit(actor=lead_principal, plan=plan))
        ),
        threading.Thread(
            target=run,
            args=("edit", lambda: services.plan_line_update(actor=lead_principal, line=other, amount=Decimal("5.00"))),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then exactly one went through, and a submitted plan is within the fund
    stored = SpendingPlan.objects.get(pk=plan.pk)
    total = sum(PlanLine.objects.filter(plan=plan).values_list("amount", flat=True))
    if stored.status == SpendingPlan.Status.SUBMITTED:
        assert results == {"submit": "ok", "edit": FundingError.PLAN_LOCKED.value}
        assert total == Decimal("280000.00")
    else:
        assert results == {"edit": "ok", "submit": FundingError.OVER_FUND.value}
        assert total == Decimal("280004.99")


# --- quotas only in a draft year ---------------------------------------------------------


def test_a_quota_of_an_open_year_is_refused_alike(api_as, open_year, bureau_staff):
    quota = open_year.quotas.first()
    client = api_as(bureau_staff)
    deleted = client.delete(f"{API}/funding-quotas/{quota.pk}/")
    patched = client.patch(f"{API}/funding-quotas/{quota.pk}/", {"quota": "1.00"}, format="json")
    message = zh("Quotas can only be changed while the funding year is a draft.")
    assert (deleted.status_code, patched.status_code) == (400, 400)
    assert message in str(deleted.data) and message in str(patched.data)
    with pytest.raises(ValidationError) as err:
        services.funding_quota_delete(actor=bureau_staff, funding_quota=quota)
    assert codes(err.value) == {FundingError.YEAR_NOT_DRAFT.value}
    assert FundingQuota.objects.filter(pk=quota.pk, quota=quota.quota).exists()


def test_quotas_of_a_draft_year_are_the_bureaus(api_as, funded_year, bureau_staff, principal, lead_school):
    quota = funded_year.quotas.get(school=lead_school)
    res = api_as(bureau_staff).patch(f"{API}/funding-quotas/{quota.pk}/", {"quota": "150000.00"}, format="json")
    assert res.status_code == 200, res.data
    assert res.data["quota"] == "150000.00"
    with pytest.raises(PermissionDenied):
        services.funding_quota_update(actor=principal, funding_quota=quota, quota=Decimal("1.00"))


# --- admin actions say what they did ----------------------------------------------------


def test_default_quotas_for_a_year_without_alliances_says_so(admin_as, bureau_staff, county):
    empty = FundingYearFactory(school_year__county=county, school_year__start_year=2030)
    res = action(admin_as(bureau_staff), "fundingyear", "default_quotas", [empty.pk])
    messages = said(res)
    with translation.override("zh-hans"):
        expected = translation.gettext("%(year)s: made quotas for 0 schools: the year has no alliances.") % {
            "year": empty
        }
        tally = translation.gettext("Done for %(done)s of %(count)s selected row.") % {"done": 0, "count": 1}
    assert expected in messages
    assert tally in messages
    assert not FundingQuota.objects.filter(funding_year=empty).exists()


def test_opening_an_open_year_says_so(admin_as, open_year, bureau_staff):
    res = action(admin_as(bureau_staff), "fundingyear", "open_years", [open_year.pk])
    with translation.override("zh-hans"):
        expected = translation.gettext("%(year)s was already open: nothing was booked again.") % {"year": open_year}
    assert expected in said(res)


def test_a_refused_row_is_counted_out(admin_as, funding_year, open_year, bureau_staff):
    # given a draft year without quotas (refused) and an open year (nothing to do)
    empty = FundingYearFactory(school_year__county=funding_year.county, school_year__start_year=2031)
    res = action(admin_as(bureau_staff), "fundingyear", "open_years", [empty.pk, open_year.pk])
    with translation.override("zh-hans"):
        tally = translation.ngettext(
            "Done for %(done)s of %(count)s selected row.", "Done for %(done)s of %(count)s selected rows.", 2
        ) % {"done": 0, "count": 2}
    assert tally in said(res)


def test_the_admin_refuses_a_base_quota_in_exponent_notation(admin_as, funding_year, bureau_staff):
    url = reverse("admin:funding_fundingyear_change", args=[funding_year.pk])
    res = admin_as(bureau_staff).post(
        url,
        {
            "county": funding_year.county_id, "school_year": funding_year.school_year_id, "base_quota": "2e5",
            "lead_share": "0.70", "pool_share": "0.30",
            "quotas-TOTAL_FORMS": "0", "quotas-INITIAL_FORMS": "0", "quotas-MIN_NUM_FORMS": "0",
            "quotas-MAX_NUM_FORMS": "1000",
        },
    )  # fmt: skip
    assert res.status_code == 200
    errors = res.context["adminform"].form.errors
    assert [str(m) for m in errors["base_quota"]] == [zh("Enter the amount as a plain decimal number, e.g. 1000.00.")]
