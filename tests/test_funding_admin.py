"""Funding in the admin, as bureau staff and principals reach it."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from funding import services
from funding.models import FundingYear, LedgerEntry, PlanLine, SpendingPlan


@pytest.fixture
def admin_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def action(client, model, name, pks, **extra):
    url = reverse(f"admin:funding_{model}_changelist")
    return client.post(url, {"action": name, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], **extra}, follow=True)


def test_bureau_opens_and_closes_a_year_by_action(admin_as, funded_year, bureau_staff, books_ok):
    client = admin_as(bureau_staff)
    action(client, "fundingyear", "open_years", [funded_year.pk])
    assert FundingYear.objects.get(pk=funded_year.pk).status == "open"
    action(client, "fundingyear", "open_years", [funded_year.pk])
    assert LedgerEntry.objects.count() == 4
    action(client, "fundingyear", "close_years", [funded_year.pk])
    assert FundingYear.objects.get(pk=funded_year.pk).status == "closed"
    books_ok()


def test_refusal_is_a_message_not_an_error(admin_as, funding_year, bureau_staff):
    r = action(admin_as(bureau_staff), "fundingyear", "open_years", [funding_year.pk])
    assert r.status_code == 200
    assert FundingYear.objects.get(pk=funding_year.pk).status == "draft"
    assert any("no funded schools" in str(m) or "没有" in str(m) for m in r.context["messages"])


def test_reversal_asks_for_a_reason(admin_as, research_line, principal, bureau_staff, books_ok):
    record = services.spending_record_create(
        actor=principal, plan_line=research_line, date=research_line.plan.funding_year.school_year.start_date,
        amount=Decimal("88.00"), payee="x",
    )  # fmt: skip
    entry = record.ledger_entries.get()
    client = admin_as(bureau_staff)
    r = action(client, "ledgerentry", "reverse_entries", [entry.pk])
    assert r.status_code == 200 and "reason" in r.content.decode()
    assert not LedgerEntry.objects.filter(reverses=entry).exists()
    action(client, "ledgerentry", "reverse_entries", [entry.pk], apply="1", reason="票据有误")
    assert LedgerEntry.objects.get(reverses=entry).reason == "票据有误"
    books_ok()


def test_ledger_is_browsable_but_read_only(admin_as, open_year, bureau_staff):
    client = admin_as(bureau_staff)
    entry = LedgerEntry.objects.first()
    assert client.get(reverse("admin:funding_ledgerentry_changelist")).status_code == 200
    url = reverse("admin:funding_ledgerentry_change", args=[entry.pk])
    r = client.get(url)
    assert r.status_code == 200 and "200000.00" in r.content.decode().replace(",", "")
    assert client.post(url, {"memo": "x"}).status_code == 403
    assert client.get(reverse("admin:funding_ledgerentry_delete", args=[entry.pk])).status_code == 403
    assert client.get(reverse("admin:funding_account_changelist")).status_code == 200


def test_bureau_approves_and_returns_plans(admin_as, open_year, alliance, lead_principal, bureau_staff, member_school):
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    PlanLine.objects.create(plan=plan, school=member_school, category="clubs", amount=Decimal("10.00"))
    services.spending_plan_submit(actor=lead_principal, plan=plan)
    client = admin_as(bureau_staff)
    action(client, "spendingplan", "return_plans", [plan.pk], apply="1", reason="补充说明")
    assert SpendingPlan.objects.get(pk=plan.pk).status == "returned"
    services.spending_plan_submit(actor=lead_principal, plan=plan)
    action(client, "spendingplan", "approve_plans", [plan.pk])
    assert SpendingPlan.objects.get(pk=plan.pk).status == "approved"


def test_principal_sees_no_pool_and_cannot_reverse(admin_as, open_year, principal):
    client = admin_as(principal)
    r = client.get(reverse("admin:funding_account_changelist"))
    assert r.status_code == 200
    kinds = {a.kind for a in r.context["cl"].result_list}
    assert "pool" not in kinds and kinds <= {"alliance_fund", "school_spending", "awards_paid", "returned"}
    r = client.get(reverse("admin:funding_ledgerentry_changelist"))
    assert "reverse_entries" not in r.content.decode()


def test_changelists_do_not_grow_queries(
    admin_as, research_line, principal, bureau_staff, django_assert_max_num_queries
):
    client = admin_as(bureau_staff)
    for model in ("fundingyear", "account", "ledgerentry", "spendingplan", "spendingrecord"):
        url = reverse(f"admin:funding_{model}_changelist")
        client.get(url)
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200
