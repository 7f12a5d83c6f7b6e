"""The funding API under /api/v1/, as each role reaches it."""

from decimal import Decimal

import pytest

from funding.models import FundingYear, LedgerEntry, SpendingPlan, SpendingRecord

API = "/api/v1"


def test_bureau_sets_up_and_opens_a_year(api_as, bureau_staff, school_year, alliance, other_alliance, books_ok):
    client = api_as(bureau_staff)
    # given a new funding year
    r = client.post(
        f"{API}/funding-years/",
        {"county": school_year.county_id, "school_year": school_year.pk, "base_quota": "150000.00"},
        format="json",
    )
    assert r.status_code == 201, r.data
    year_id = r.data["id"]
    assert (r.data["lead_share"], r.data["pool_share"], r.data["status"]) == ("0.7000", "0.3000", "draft")
    # when its default quotas are made and it is opened twice
    assert client.post(f"{API}/funding-years/{year_id}/default-quotas/").data == {"added": 4}
    assert client.post(f"{API}/funding-years/{year_id}/open/").data["status"] == "open"
    assert client.post(f"{API}/funding-years/{year_id}/open/").status_code == 200
    # then the accounts show derived balances and the allocation is booked once
    r = client.get(f"{API}/funding-accounts/", {"funding_year": year_id, "kind": "pool"})
    assert r.data["results"][0]["balance"] == "180000.00"
    assert LedgerEntry.objects.count() == 4
    books_ok()


def test_shares_not_adding_to_one_are_a_400(api_as, bureau_staff, school_year):
    r = api_as(bureau_staff).post(
        f"{API}/funding-years/",
        {"county": school_year.county_id, "school_year": school_year.pk, "lead_share": "0.70", "pool_share": "0.20"},
        format="json",
    )
    assert r.status_code == 400 and "pool_share" in r.data
    assert not FundingYear.objects.exists()


def test_quota_with_three_decimals_is_a_400_not_rounded(api_as, bureau_staff, funding_year, member_school):
    r = api_as(bureau_staff).post(
        f"{API}/funding-quotas/",
        {"funding_year": funding_year.pk, "school": member_school.pk, "quota": "1000.005"},
        format="json",
    )
    assert r.status_code == 400 and "quota" in r.data
    assert not funding_year.quotas.exists()


def test_quota_change_after_opening_is_refused(api_as, bureau_staff, open_year, member_school):
    quota = open_year.quotas.get(school=member_school)
    r = api_as(bureau_staff).patch(f"{API}/funding-quotas/{quota.pk}/", {"quota": "1.00"}, format="json")
    assert r.status_code == 400
    assert api_as(bureau_staff).delete(f"{API}/funding-quotas/{quota.pk}/").status_code == 400
    quota.refresh_from_db()
    assert quota.quota == Decimal("200000.00")


def test_plan_flow_through_the_api(api_as, open_year, alliance, lead_principal, bureau_staff, member_school, api):
    # given the lead principal's plan with a line
    client = api_as(lead_principal)
    r = client.post(f"{API}/spending-plans/", {"funding_year": open_year.pk, "alliance": alliance.pk}, format="json")
    assert r.status_code == 201, r.data
    plan_id = r.data["id"]
    r = client.post(
        f"{API}/plan-lines/",
        {
            "plan": plan_id,
            "school": member_school.pk,
            "category": "training",
            "amount": "20000.00",
            "notes": "暑期培训",
        },
        format="json",
    )
    assert r.status_code == 201, r.data
    line_id = r.data["id"]
    assert client.post(f"{API}/spending-plans/{plan_id}/submit/").data["status"] == "submitted"
    # the lead principal may not approve; the bureau needs a reason to send back
    assert client.post(f"{API}/spending-plans/{plan_id}/approve/").status_code == 403
    bureau = api_as(bureau_staff)
    assert bureau.post(f"{API}/spending-plans/{plan_id}/return/", {}, format="json").status_code == 400
    r = bureau.post(f"{API}/spending-plans/{plan_id}/return/", {"reason": "金额偏高"}, format="json")
    assert (r.data["status"], r.data["return_reason"]) == ("returned", "金额偏高")
    # the lead principal edits and resubmits, the bureau approves
    client = api_as(lead_principal)
    assert client.patch(f"{API}/plan-lines/{line_id}/", {"amount": "15000.00"}, format="json").status_code == 200
    client.post(f"{API}/spending-plans/{plan_id}/submit/")
    r = api_as(bureau_staff).post(f"{API}/spending-plans/{plan_id}/approve/")
    assert (r.data["status"], r.data["total"]) == ("approved", "15000.00")
    # an approved plan's lines are not editable any more
    r = api_as(lead_principal).patch(f"{API}/plan-lines/{line_id}/", {"amount": "1.00"}, format="json")
    assert r.status_code == 400
    r = api_as(lead_principal).post(f"{API}/spending-plans/{plan_id}/revise/")
    assert (r.status_code, r.data["revision"], r.data["status"]) == (201, 2, "draft")


def test_member_principal_cannot_make_a_plan(api_as, open_year, alliance, principal):
    r = api_as(principal).post(
        f"{API}/spending-plans/", {"funding_year": open_year.pk, "alliance": alliance.pk}, format="json"
    )
    assert r.status_code == 403
    assert not SpendingPlan.objects.exists()


def record(client, line, amount, **extra):
    data = {"plan_line": line.pk, "date": "2025-11-03", "amount": amount, "payee": "教研用书", **extra}
    return client.post(f"{API}/spending-records/", data, format="json")


def test_principal_records_spending(api_as, research_line, principal, books_ok):
    r = record(api_as(principal), research_line, "1200.50")
    assert r.status_code == 201, r.data
    assert (r.data["amount"], r.data["reversed"]) == ("1200.50", False)
    books_ok()


@pytest.mark.parametrize("amount", ["0.00", "-3.00", "10.001", "abc"])
def test_bad_spending_amounts_are_a_400(api_as, research_line, principal, amount):
    r = record(api_as(principal), research_line, amount)
    assert r.status_code == 400 and "amount" in r.data
    assert not SpendingRecord.objects.exists()


def test_spending_over_the_line_is_a_400_with_the_rest(api_as, research_line, principal):
    r = record(api_as(principal), research_line, "100000.01")
    assert r.status_code == 400
    assert "¥100,000.00" in str(r.data["amount"])  # the amounts as people read them
    assert not SpendingRecord.objects.exists()


def test_another_alliances_plan_line_is_a_400(api_as, research_line, other_school_principal):
    r = record(api_as(other_school_principal), research_line, "1.00")
    assert r.status_code == 400 and "plan_line" in r.data
    assert not SpendingRecord.objects.exists()


def test_spending_in_a_closed_year_is_a_400(api_as, research_line, principal, bureau_staff):
    assert (
        api_as(bureau_staff).post(f"{API}/funding-years/{research_line.plan.funding_year_id}/close/").status_code == 200
    )
    r = record(api_as(principal), research_line, "1.00")
    assert r.status_code == 400
    assert not SpendingRecord.objects.exists()


def test_spending_records_are_not_edited(api_as, research_line, principal):
    rec_id = record(api_as(principal), research_line, "1.00").data["id"]
    client = api_as(principal)
    assert client.patch(f"{API}/spending-records/{rec_id}/", {"amount": "2.00"}, format="json").status_code == 405
    assert client.delete(f"{API}/spending-records/{rec_id}/").status_code == 405


def test_bureau_reverses_an_entry_with_a_reason(api_as, research_line, principal, bureau_staff, books_ok):
    rec_id = record(api_as(principal), research_line, "50.00").data["id"]
    entry = LedgerEntry.objects.get(spending_record_id=rec_id)
    bureau = api_as(bureau_staff)
    assert bureau.post(f"{API}/ledger-entries/{entry.pk}/reverse/", {}, format="json").status_code == 400
    r = bureau.post(f"{API}/ledger-entries/{entry.pk}/reverse/", {"reason": "重复录入"}, format="json")
    assert (r.status_code, r.data["kind"], r.data["reverses"]) == (201, "reversal", entry.pk)
    assert api_as(principal).get(f"{API}/spending-records/{rec_id}/").data["reversed"] is True
    assert api_as(principal).post(f"{API}/ledger-entries/{entry.pk}/reverse/", {"reason": "x"}).status_code == 403
    books_ok()


def test_ledger_is_read_only_over_the_api(api_as, open_year, bureau_staff):
    entry = LedgerEntry.objects.first()
    client = api_as(bureau_staff)
    assert client.delete(f"{API}/ledger-entries/{entry.pk}/").status_code == 405
    assert client.patch(f"{API}/ledger-entries/{entry.pk}/", {"memo": "x"}, format="json").status_code == 405
    assert client.post(f"{API}/ledger-entries/", {}, format="json").status_code == 405


def test_auditor_reads_everything_and_changes_nothing(api_as, research_line, auditor, principal):
    record(api_as(principal), research_line, "10.00")
    client = api_as(auditor)
    year_id = research_line.plan.funding_year_id
    assert client.get(f"{API}/ledger-entries/").data["count"] == 5
    assert client.get(f"{API}/funding-accounts/").data["count"] > 0
    assert client.get(f"{API}/spending-records/").data["count"] == 1
    rows = client.get(f"{API}/funding-years/{year_id}/execution/").data["rows"]
    assert {r["spent"] for r in rows} == {"10.00", "0.00"}
    assert client.post(f"{API}/funding-years/{year_id}/close/").status_code == 403
    assert record(client, research_line, "1.00").status_code == 403
    assert client.patch(f"{API}/funding-years/{year_id}/", {"base_quota": "1.00"}, format="json").status_code == 403


def test_other_county_sees_nothing(api_as, research_line, other_bureau_staff):
    client = api_as(other_bureau_staff)
    for path in ("funding-years", "ledger-entries", "funding-accounts", "spending-plans", "plan-lines"):
        assert client.get(f"{API}/{path}/").data["count"] == 0, path


def test_member_principal_sees_own_school_only(api_as, research_line, principal, lead_school):
    client = api_as(principal)
    lines = client.get(f"{API}/plan-lines/").data["results"]
    assert {line["school"] for line in lines} == {research_line.school_id}
    accounts = client.get(f"{API}/funding-accounts/").data["results"]
    assert "pool" not in {a["kind"] for a in accounts}


@pytest.mark.parametrize(
    "path",
    ["funding-years", "funding-quotas", "funding-accounts", "ledger-entries", "spending-plans", "plan-lines",
     "spending-records"],
)  # fmt: skip
def test_list_endpoints_do_not_grow_queries(
    api_as, research_line, principal, bureau_staff, path, django_assert_max_num_queries
):
    record(api_as(principal), research_line, "10.00")
    record(api_as(principal), research_line, "20.00")
    client = api_as(bureau_staff)
    client.get(f"{API}/{path}/")  # warm the user's role cache path
    with django_assert_max_num_queries(8):
        r = client.get(f"{API}/{path}/")
    assert r.status_code == 200 and r.data["count"] >= 1


def test_messages_are_in_the_users_language(api_as, research_line, principal):
    client = api_as(principal)
    r = client.post(
        f"{API}/spending-records/",
        {"plan_line": research_line.pk, "date": "2025-11-03", "amount": "100000.01", "payee": "x"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "超出计划明细的批准金额" in str(r.data["amount"])
