"""Each report's rows add up to what the ledger, the plan, the exchanges, the activities and the
evaluation say: the reports are views of the same figures, never a second computation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db.models import Q

from alliance.models import Membership
from audit.models import AuditRecord
from evaluation.models import SchoolResult
from funding import services as funding_services
from funding.bookcheck import check_year
from funding.metrics import execution_report, year_summary
from funding.models import Account, LedgerLine, SpendingRecord
from reports import registry
from reports.registry import Params
from staffing.models import Activity, Exchange

from .factories import TermFactory
from .factories_staffing import ActivityFactory, ExchangeFactory, TeacherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(published, approved_plan, research_line, principal, lead_principal, member_school, lead_school,
          other_school, teacher, bureau_staff):  # fmt: skip
    """The published year, the first alliance's plan with one booked spending record, exchanges
    of every status and activities of both sides."""
    funding_services.spending_record_create(
        actor=principal, plan_line=research_line, date=dt.date(2025, 10, 20), amount=D("12345.67"), payee="新华书店"
    )
    ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal, status=Exchange.Status.APPROVED)
    ExchangeFactory(
        teacher=TeacherFactory(school=lead_school), hosts=[member_school], logged_by=lead_principal,
        status=Exchange.Status.COMPLETED, start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 6, 30),
    )  # fmt: skip
    ExchangeFactory(
        teacher=TeacherFactory(school=other_school), hosts=[lead_school], logged_by=bureau_staff,
        status=Exchange.Status.PLANNED, start_date=dt.date(2026, 2, 1), end_date=dt.date(2026, 2, 20),
    )  # fmt: skip
    ActivityFactory(host_school=lead_school, schools=[member_school], person_times=40)
    ActivityFactory(host_school=other_school, person_times=25, date=dt.date(2026, 4, 1))
    return published


def params(period, **kwargs) -> Params:
    return Params(county_id=period.county_id, school_year_id=period.school_year_id, **kwargs)


def rows(code, user, p) -> list[tuple]:
    return list(registry.get(code).rows(user, p))


def column(code, key) -> int:
    return [c.key for c in registry.get(code).columns].index(key)


def test_every_report_is_registered_with_typed_columns():
    assert set(registry.REPORTS) >= {"ledger", "balances", "execution", "exchanges", "exchange_totals",
                                     "activities", "results", "award_sheet", "audit"}  # fmt: skip
    for report in registry.REPORTS.values():
        assert report.columns and all(c.kind in ("text", "int", "decimal", "money", "date", "datetime")
                                      for c in report.columns)  # fmt: skip


def test_the_ledger_report_has_every_line_and_its_document(world, auditor):
    # when the auditor runs the ledger of the year
    got = rows("ledger", auditor, params(world))
    # then every line of the year is there, once, and the lines add up to zero
    lines = LedgerLine.objects.filter(entry__funding_year__school_year=world.school_year)
    assert len(got) == lines.count()
    amount = column("ledger", "amount")
    assert sum(r[amount] for r in got) == D("0.00")
    documents = {r[column("ledger", "document")] for r in got}
    record = SpendingRecord.objects.get()
    assert f"#{record.pk}" in " ".join(documents) and any("新华书店" in d for d in documents)
    assert {r[column("ledger", "booked_by")] for r in got} >= {"bureau", "principal"}


def test_the_balances_equal_the_ledger_checks_balances(world, auditor, open_year):
    # given books that the ledger check finds balanced
    assert check_year(open_year) == []
    # when the auditor runs the balances
    got = rows("balances", auditor, params(world))
    # then each account's balance is its balance in the books, and the totals are year_summary's
    balance = column("balances", "balance")
    expected = sorted(Account.objects.filter(funding_year=open_year).with_balance().values_list("balance", flat=True))
    assert sorted(r[balance] for r in got) == expected
    summary = year_summary(open_year)
    kinds = dict(Account.Kind.choices)
    by_kind: dict[str, D] = {}
    for r in got:
        by_kind[r[0]] = by_kind.get(r[0], D("0")) + r[balance]
    assert by_kind[str(kinds["alliance_fund"])] == summary["fund_balance"]
    assert by_kind[str(kinds["pool"])] == summary["pool_balance"]
    assert by_kind[str(kinds["school_spending"])] == summary["spent"] == D("12345.67")
    # debits less credits is the balance on every row
    assert all(r[3] - r[4] == r[5] for r in got)


def test_the_execution_report_equals_the_plan_and_the_spending(world, auditor, open_year):
    got = rows("execution", auditor, params(world))
    detail = [r for r in got if r[1]]
    expected = execution_report(open_year)
    assert len(detail) == len(expected)
    assert sum(r[4] for r in detail) == sum(r["planned"] for r in expected) == D("150000.00")
    assert sum(r[5] for r in detail) == D("12345.67")
    # each alliance's total row adds up its lines, with its rate in percent
    total = next(r for r in got if not r[1])
    assert total[4] == D("150000.00") and total[5] == D("12345.67") and total[6] == D("8.23")


def test_the_exchange_register_and_its_totals_count_teacher_days_as_the_evaluation(world, auditor, school_year):
    got = rows("exchanges", auditor, params(world))
    assert len(got) == 3
    days = column("exchanges", "teacher_days")
    expected = Exchange.objects.all().teacher_days(school_year.start_date, school_year.end_date)
    assert sum(r[days] for r in got) == expected > 0
    # the totals by school and kind hold the counted exchanges and the same teacher-days
    totals = rows("exchange_totals", auditor, params(world))
    assert sum(r[4] for r in totals) == expected
    assert sum(r[3] for r in totals) == 2  # the planned one does not count


def test_a_term_narrows_the_register_to_its_days(world, auditor, school_year):
    term = TermFactory(school_year=school_year, number=2, start_date=dt.date(2026, 2, 1),
                       end_date=dt.date(2026, 7, 15))  # fmt: skip
    got = rows("exchanges", auditor, params(world, term_id=term.pk))
    assert len(got) == 2  # the autumn posting ends before the term
    days = column("exchanges", "teacher_days")
    assert sum(r[days] for r in got) == Exchange.objects.all().teacher_days(term.start_date, term.end_date)


def test_the_activity_register_holds_the_person_times(world, auditor):
    got = rows("activities", auditor, params(world))
    person_times = column("activities", "person_times")
    assert sum(r[person_times] for r in got) == sum(Activity.objects.values_list("person_times", flat=True)) == 65


def test_the_results_report_has_every_indicators_value_and_points(world, auditor):
    got = rows("results", auditor, params(world))
    results = SchoolResult.objects.filter(period=world)
    indicators = len(results[0].trace["indicators"])
    assert len(got) == results.count() * indicators
    points = column("results", "points")
    for result in results:
        mine = [r for r in got if r[column("results", "school_code")] == result.school.code]
        assert sum(r[points] for r in mine) == result.own_total
        assert {r[column("results", "final_score")] for r in mine} == {result.final_score}
    assert all(r[column("results", "raw_value")] is not None for r in got)


def test_the_award_sheet_adds_up_to_the_published_pool_to_the_fen(world, auditor, open_year):
    got = rows("award_sheet", auditor, params(world))
    award = column("award_sheet", "award")
    schools = [r for r in got if r[column("award_sheet", "school_code")]]
    remainder, pool = got[-2][award], got[-1][award]
    publication = world.publications.get()
    assert sum(r[award] for r in schools) == sum(D(a) for a in publication.awards.values())
    assert sum(r[award] for r in schools) + remainder == pool
    assert pool == year_summary(open_year)["pool"] == D("240000.00")
    # the calculation is there: each school's quota and exact amount from its trace
    assert all(r[column("award_sheet", "quota")] == D("200000.00") for r in schools)
    assert all(abs(r[column("award_sheet", "exact_amount")] - r[award]) < D("0.01") for r in schools)


def test_the_audit_extract_holds_the_countys_records(world, auditor, county):
    got = rows("audit", auditor, params(world))
    assert len(got) == AuditRecord.objects.filter(county_id=county.pk).count() > 0


def test_a_principal_gets_its_own_schools_rows_only(world, principal, member_school, other_school):
    # given the member principal of school A, asking for every school
    p = params(world)
    # then each report it may run holds school A's rows only
    ledger = rows("ledger", principal, p)
    mine = LedgerLine.objects.visible_to(principal).filter(
        Q(account__school=member_school) | Q(entry__school=member_school)
    )
    assert len(ledger) == mine.count() > 0
    assert other_school.name not in {r[column("ledger", "owner")] for r in ledger}
    assert {r[0] for r in rows("balances", principal, p)} <= {str(Account.Kind.SCHOOL_SPENDING.label),
                                                              str(Account.Kind.AWARDS_PAID.label)}  # fmt: skip
    results = rows("results", principal, p)
    assert {r[column("results", "school_code")] for r in results} == {member_school.code}
    exchanges = rows("exchanges", principal, p)
    members = set(Membership.objects.filter(school=member_school).values_list("school__code", flat=True))
    assert exchanges and all(r[2] in members or member_school.name in r[4] for r in exchanges)
    activities = rows("activities", principal, p)
    assert len(activities) == 1
