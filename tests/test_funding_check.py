"""``manage.py ledger_check``: a summary per year, and exit 1 naming the first broken rule."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from funding import services
from funding.models import Account, FundingQuota, LedgerEntry, LedgerLine, PlanLine


@pytest.fixture
def unguarded(db):
    """Break the books as only a bug or a manual fix could: disable the balance trigger for this
    test's transaction only (DDL is transactional; the rollback at teardown restores it)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE funding_ledgerline DISABLE TRIGGER funding_ledgerline_balanced")


def run(*args):
    out = StringIO()
    call_command("ledger_check", *args, stdout=out)
    return out.getvalue()


def broken(*args):
    out = StringIO()
    with pytest.raises(CommandError) as err:
        call_command("ledger_check", *args, stdout=out)
    assert err.value.returncode == 1
    return str(err.value), out.getvalue()


def test_summary_per_year(open_year):
    out = run("--year", "2025")
    assert "quotas 800000.00, alliance funds 560000.00, pool 240000.00, spent 0.00" in out
    assert "OK: 1 funding year(s) checked" in out
    assert "OK: 0 funding year(s)" in run("--year", "1999")


def test_unbalanced_entry_is_named(unguarded, open_year, bureau_staff):
    # given a one-sided entry
    pool = Account.objects.get(kind="pool")
    entry = LedgerEntry.objects.create(funding_year=open_year, kind="award", created_by=bureau_staff)
    LedgerLine.objects.create(entry=entry, account=pool, amount=Decimal("1.00"))
    message, out = broken()
    assert f"entry_balances: entry #{entry.pk} adds up to 1.00" in message
    assert "BROKEN" in out


def test_allocation_not_matching_the_quota_is_named(open_year, member_school):
    # given a quota changed behind the services' back after opening
    FundingQuota.objects.filter(school=member_school).update(quota=Decimal("200000.01"))
    message, _out = broken("--year", "2025")
    assert "allocation_matches_quota" in message
    assert str(member_school) in message


def test_spending_over_the_plan_line_is_named(research_line, principal):
    services.spending_record_create(
        actor=principal,
        plan_line=research_line,
        date=research_line.plan.funding_year.school_year.start_date,
        amount=Decimal("100.00"),
        payee="x",
    )
    PlanLine.objects.filter(pk=research_line.pk).update(amount=Decimal("99.99"))
    message, _out = broken()
    assert "spending_within_plan_line" in message


def test_line_on_another_years_account_is_named(open_year, bureau_staff, county):
    from alliance.models import SchoolYear

    from .factories_funding import FundingYearFactory

    other_year = FundingYearFactory(
        school_year=SchoolYear.objects.create(
            county=county, start_year=2026, start_date="2026-09-01", end_date="2027-07-15"
        )
    )
    foreign = services.account_for(other_year, Account.Kind.POOL)
    pool = Account.objects.get(funding_year=open_year, kind="pool")
    entry = LedgerEntry.objects.create(funding_year=open_year, kind="award", created_by=bureau_staff)
    LedgerLine.objects.bulk_create(
        [
            LedgerLine(entry=entry, account=pool, amount=Decimal("-1.00")),
            LedgerLine(entry=entry, account=foreign, amount=Decimal("1.00")),
        ]
    )
    message, _out = broken()
    assert "line_in_its_year" in message
