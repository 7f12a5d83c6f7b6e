"""Spending plans and spending records: the plan's limits, the line's limits, and bad input."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from funding import metrics, services
from funding.models import Category, LedgerEntry, PlanLine, SpendingPlan, SpendingRecord
from funding.services import FundingError


def all_codes(exc):
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


def codes(err):
    return all_codes(err.value)


def spend(user, line, amount, date=dt.date(2025, 10, 15)):
    return services.spending_record_create(actor=user, plan_line=line, date=date, amount=amount, payee="新华书店")


# --- plans ---------------------------------------------------------------------------------


def test_plan_over_the_alliance_fund_is_refused(open_year, alliance, lead_principal, member_school):
    # given a plan of 280,000.01 against a fund of 280,000.00
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    PlanLine.objects.create(plan=plan, school=member_school, category=Category.CLUBS, amount=Decimal("280000.01"))
    # when it is submitted
    with pytest.raises(ValidationError) as err:
        services.spending_plan_submit(actor=lead_principal, plan=plan)
    # then it is refused and stays a draft
    assert codes(err) == {FundingError.OVER_FUND.value}
    assert SpendingPlan.objects.get(pk=plan.pk).status == SpendingPlan.Status.DRAFT


def test_plan_is_the_lead_principals(open_year, alliance, principal, other_school_principal):
    for user in (principal, other_school_principal):
        with pytest.raises(PermissionDenied):
            services.spending_plan_create(actor=user, funding_year=open_year, alliance=alliance)
    assert not SpendingPlan.objects.exists()


def test_plan_line_for_a_school_outside_the_alliance_is_refused(open_year, alliance, lead_principal, other_school):
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    line = PlanLine(plan=plan, school=other_school, category=Category.CLUBS, amount=Decimal("1.00"))
    with pytest.raises(ValidationError) as err:
        line.full_clean()
    assert "school" in err.value.message_dict


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-1.00"), Decimal("1.001")])
def test_plan_line_bad_amounts_are_refused(open_year, alliance, lead_principal, member_school, amount):
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    with pytest.raises(ValidationError) as err:
        PlanLine(plan=plan, school=member_school, category=Category.CLUBS, amount=amount).full_clean()
    assert "amount" in err.value.message_dict


def test_returned_plan_is_revised_and_resubmitted(open_year, alliance, lead_principal, bureau_staff, member_school):
    # given a submitted plan
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    PlanLine.objects.create(plan=plan, school=member_school, category=Category.TRAINING, amount=Decimal("10.00"))
    services.spending_plan_submit(actor=lead_principal, plan=plan)
    # when the bureau sends it back without and then with a reason
    with pytest.raises(ValidationError):
        services.spending_plan_return(actor=bureau_staff, plan=plan, reason="  ")
    plan = services.spending_plan_return(actor=bureau_staff, plan=plan, reason="请细化培训内容")
    # then the lead principal may edit and resubmit it, and the bureau approve it
    assert plan.status == SpendingPlan.Status.RETURNED and plan.return_reason == "请细化培训内容"
    PlanLine(plan=plan, school=member_school, category=Category.CLUBS, amount=Decimal("5.00")).full_clean()
    services.spending_plan_submit(actor=lead_principal, plan=plan)
    with pytest.raises(PermissionDenied):
        services.spending_plan_approve(actor=lead_principal, plan=plan)
    assert services.spending_plan_approve(actor=bureau_staff, plan=plan).status == SpendingPlan.Status.APPROVED


def test_revision_after_approval_keeps_history_and_spending(
    approved_plan, research_line, principal, lead_principal, bureau_staff, books_ok
):
    # given 60,000.00 spent on the research line of revision 1
    spend(principal, research_line, Decimal("60000.00"))
    # when the lead principal revises the plan
    rev2 = services.spending_plan_revise(actor=lead_principal, plan=approved_plan)
    # then revision 1 stays in force until revision 2 is approved
    assert (rev2.revision, rev2.status, rev2.previous_id) == (2, SpendingPlan.Status.DRAFT, approved_plan.pk)
    line2 = rev2.lines.get(school=research_line.school, category=research_line.category)
    # a revision below what is already spent is refused at approval
    PlanLine.objects.filter(pk=line2.pk).update(amount=Decimal("50000.00"))
    services.spending_plan_submit(actor=lead_principal, plan=rev2)
    with pytest.raises(ValidationError) as err:
        services.spending_plan_approve(actor=bureau_staff, plan=rev2)
    assert codes(err) == {FundingError.BELOW_SPENT.value}
    services.spending_plan_return(actor=bureau_staff, plan=rev2, reason="低于已支出")
    PlanLine.objects.filter(pk=line2.pk).update(amount=Decimal("70000.00"))
    services.spending_plan_submit(actor=lead_principal, plan=rev2)
    services.spending_plan_approve(actor=bureau_staff, plan=rev2)
    # and then revision 1 is kept as superseded; the 60,000.00 counts against the new line
    assert SpendingPlan.objects.get(pk=approved_plan.pk).status == SpendingPlan.Status.SUPERSEDED
    with pytest.raises(ValidationError):
        spend(principal, research_line, Decimal("1.00"))  # old revision's line is no longer in force
    with pytest.raises(ValidationError) as err:
        spend(principal, line2, Decimal("10000.01"))
    assert all_codes(err.value) == {FundingError.OVER_LINE.value}
    spend(principal, line2, Decimal("10000.00"))
    assert metrics.execution_rates(approved_plan.funding_year)[research_line.school_id] == Decimal("1.0000")
    books_ok()


# --- spending records ----------------------------------------------------------------------


def test_spending_books_alliance_fund_to_school_spending(research_line, principal, books_ok):
    record = spend(principal, research_line, Decimal("2500.50"))
    entry = record.ledger_entries.get()
    assert entry.kind == LedgerEntry.Kind.SPENDING
    assert sorted((line.account.kind, line.amount) for line in entry.lines.all()) == [
        ("alliance_fund", Decimal("-2500.50")),
        ("school_spending", Decimal("2500.50")),
    ]
    books_ok()


def test_lead_principal_may_record_on_behalf_of_a_member(research_line, lead_principal):
    assert spend(lead_principal, research_line, Decimal("1.00")).recorded_by == lead_principal


def test_spending_over_the_plan_line_is_refused(research_line, principal, books_ok):
    spend(principal, research_line, Decimal("99999.99"))
    with pytest.raises(ValidationError) as err:
        spend(principal, research_line, Decimal("0.02"))
    assert "amount" in err.value.message_dict
    assert "0.01" in str(err.value)  # what is left
    assert SpendingRecord.objects.count() == 1
    spend(principal, research_line, Decimal("0.01"))
    books_ok()


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Decimal("0"), FundingError.NOT_POSITIVE),
        (Decimal("-5.00"), FundingError.NOT_POSITIVE),
        (Decimal("1.005"), FundingError.NOT_FEN),
        (1.5, FundingError.NOT_MONEY),
        (Decimal("NaN"), FundingError.NOT_MONEY),
    ],
)
def test_bad_amounts_are_refused_and_nothing_written(research_line, principal, amount, code):
    with pytest.raises(ValidationError) as err:
        spend(principal, research_line, amount)
    assert all_codes(err.value) == {code.value}
    assert not SpendingRecord.objects.exists()
    assert not LedgerEntry.objects.filter(kind="spending").exists()


def test_another_alliances_plan_line_is_refused(research_line, other_school_principal):
    with pytest.raises(ValidationError) as err:
        spend(other_school_principal, research_line, Decimal("1.00"))
    assert all_codes(err.value) == {FundingError.NOT_YOUR_LINE.value}
    assert not SpendingRecord.objects.exists()


def test_member_principal_cannot_spend_on_another_schools_line(approved_plan, principal, lead_school):
    lead_line = approved_plan.lines.get(school=lead_school)
    with pytest.raises(ValidationError):
        spend(principal, lead_line, Decimal("1.00"))


def test_spending_outside_the_school_year_is_refused(research_line, principal):
    with pytest.raises(ValidationError) as err:
        spend(principal, research_line, Decimal("1.00"), date=dt.date(2027, 1, 1))
    assert "date" in err.value.message_dict


def test_spending_on_a_plan_not_yet_approved_is_refused(open_year, alliance, lead_principal, member_school):
    plan = services.spending_plan_create(actor=lead_principal, funding_year=open_year, alliance=alliance)
    line = PlanLine.objects.create(plan=plan, school=member_school, category=Category.OTHER, amount=Decimal("9.00"))
    with pytest.raises(ValidationError):
        spend(lead_principal, line, Decimal("1.00"))


def test_reversed_spending_frees_the_line(research_line, principal, bureau_staff, books_ok):
    record = spend(principal, research_line, Decimal("100000.00"))
    with pytest.raises(ValidationError):
        services.entry_reverse(entry=record.ledger_entries.get(), actor=bureau_staff, reason="")
    services.entry_reverse(entry=record.ledger_entries.get(), actor=bureau_staff, reason="发票作废")
    with pytest.raises(ValidationError):
        services.entry_reverse(entry=record.ledger_entries.get(), actor=bureau_staff, reason="again")
    spend(principal, research_line, Decimal("100000.00"))
    books_ok()


@pytest.mark.django_db(transaction=True)
def test_concurrent_overspending_lets_exactly_one_through(research_line, principal, lead_principal, books_ok):
    # given a line of 100,000.00 with 40,000.00 left
    spend(principal, research_line, Decimal("60000.00"))
    barrier = threading.Barrier(2)
    results: list[str] = []

    def submit(user):
        try:
            barrier.wait(timeout=10)
            spend(user, research_line, Decimal("30000.00"))
            results.append("ok")
        except ValidationError as exc:
            results.append("refused:" + ",".join(sorted(all_codes(exc))))
        finally:
            connections.close_all()

    # when two people each record 30,000.00 at the same moment, on their own connections
    threads = [threading.Thread(target=submit, args=(u,)) for u in (principal, lead_principal)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # then exactly one succeeds and the line is not overspent
    assert sorted(results) == ["ok", f"refused:{FundingError.OVER_LINE.value}"]
    assert services.spent_on(research_line) == Decimal("90000.00")
    books_ok()


# --- awards --------------------------------------------------------------------------------


def test_awards_are_paid_from_the_pool(open_year, bureau_staff, member_school, lead_school, books_ok):
    entry = services.awards_book(
        funding_year=open_year,
        awards={member_school.pk: Decimal("100000.00"), lead_school.pk: Decimal("0.00")},
        actor=bureau_staff,
        memo="2025 差额奖补",
    )
    assert {(line.account.kind, line.amount) for line in entry.lines.all()} == {
        ("awards_paid", Decimal("100000.00")),
        ("pool", Decimal("-100000.00")),
    }
    books_ok()


@pytest.mark.parametrize(
    ("amount", "code"),
    [(Decimal("240000.01"), FundingError.OVER_POOL), (Decimal("1.001"), FundingError.NOT_FEN)],
)
def test_awards_over_the_pool_or_not_in_fen_are_refused(open_year, bureau_staff, member_school, amount, code):
    with pytest.raises(ValidationError) as err:
        services.awards_book(funding_year=open_year, awards={member_school.pk: amount}, actor=bureau_staff, memo="")
    assert all_codes(err.value) == {code.value}
    assert not LedgerEntry.objects.filter(kind="award").exists()


def test_awards_to_a_school_outside_the_funding_year_are_refused(open_year, bureau_staff, foreign_school):
    with pytest.raises(ValidationError) as err:
        services.awards_book(
            funding_year=open_year, awards={foreign_school.pk: Decimal("1.00")}, actor=bureau_staff, memo=""
        )
    assert all_codes(err.value) == {FundingError.NOT_FUNDED.value}


def test_awards_need_an_open_year_and_the_bureau(funded_year, bureau_staff, principal, member_school):
    with pytest.raises(ValidationError):
        services.awards_book(
            funding_year=funded_year, awards={member_school.pk: Decimal("1.00")}, actor=bureau_staff, memo=""
        )
    with pytest.raises(PermissionDenied):
        services.awards_book(
            funding_year=funded_year, awards={member_school.pk: Decimal("1.00")}, actor=principal, memo=""
        )


def test_allocations_cannot_be_reversed(open_year, bureau_staff):
    with pytest.raises(ValidationError) as err:
        services.entry_reverse(entry=LedgerEntry.objects.first(), actor=bureau_staff, reason="x")
    assert all_codes(err.value) == {FundingError.NOT_REVERSIBLE.value}


# --- metrics -------------------------------------------------------------------------------


def test_execution_rates_and_report(approved_plan, research_line, principal, lead_school, django_assert_num_queries):
    spend(principal, research_line, Decimal("25000.00"))
    year = approved_plan.funding_year
    with django_assert_num_queries(1):
        rates = metrics.execution_rates(year)
    assert rates == {research_line.school_id: Decimal("0.2500"), lead_school.pk: Decimal("0.0000")}
    with django_assert_num_queries(1):
        assert metrics.alliance_execution_rates(year) == {approved_plan.alliance_id: Decimal("0.1667")}
    with django_assert_num_queries(1):
        report = metrics.execution_report(year)
    assert {(r["school"], r["category"], r["planned"], r["spent"], r["rate"]) for r in report} == {
        (research_line.school_id, "teaching_research", Decimal("100000.00"), Decimal("25000.00"), Decimal("0.2500")),
        (lead_school.pk, "training", Decimal("50000.00"), Decimal("0.00"), Decimal("0.0000")),
    }
