"""Opening, closing, the ledger's balances and its database guards."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from funding import metrics, services
from funding.models import Account, FundingQuota, FundingYear, LedgerEntry, LedgerLine
from funding.rounding import split
from funding.services import FundingError

from .factories import SchoolFactory
from .factories_funding import FundingQuotaFactory


def balances(year):
    return {
        (a.kind, a.alliance_id, a.school_id): a.balance
        for a in Account.objects.filter(funding_year=year).with_balance()
    }


def test_default_quotas_fund_every_school_in_an_alliance(funding_year, bureau_staff):
    # given a draft year and two alliances of two schools each, plus a school in no alliance
    SchoolFactory(county=funding_year.county)
    # when the default quotas are made, twice
    added = services.funding_quotas_default(actor=bureau_staff, funding_year=funding_year)
    again = services.funding_quotas_default(actor=bureau_staff, funding_year=funding_year)
    # then the four alliance schools get the base quota, once
    assert (added, again) == (4, 0)
    assert set(funding_year.quotas.values_list("quota", flat=True)) == {Decimal("200000.00")}


def test_opening_books_70_to_the_alliance_and_30_to_the_pool(open_year, alliance, other_alliance, books_ok):
    # given the opened year (4 schools × 200,000.00)
    b = balances(open_year)
    # then each alliance fund holds 2 × 140,000.00, the pool 4 × 60,000.00
    assert b[(Account.Kind.ALLIANCE_FUND, alliance.pk, None)] == Decimal("280000.00")
    assert b[(Account.Kind.ALLIANCE_FUND, other_alliance.pk, None)] == Decimal("280000.00")
    assert b[(Account.Kind.POOL, None, None)] == Decimal("240000.00")
    assert b[(Account.Kind.APPROPRIATION, None, None)] == Decimal("-800000.00")
    assert open_year.status == FundingYear.Status.OPEN
    assert metrics.pool_total(open_year) == Decimal("240000.00")
    assert set(metrics.pool_shares(open_year).values()) == {Decimal("60000.00")}
    books_ok(2025)


def test_opening_twice_books_nothing_twice(open_year, bureau_staff, books_ok):
    # given an open year
    entries = LedgerEntry.objects.count()
    # when it is opened again
    services.funding_year_open(actor=bureau_staff, funding_year=open_year)
    # then nothing more is booked
    assert LedgerEntry.objects.count() == entries == 4
    books_ok()


def test_allocation_natural_key_refuses_a_second_allocation(open_year, member_school, bureau_staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            funding_year=open_year, kind=LedgerEntry.Kind.ALLOCATION, school=member_school, created_by=bureau_staff
        )


def test_odd_quota_splits_to_the_fen(funded_year, bureau_staff, member_school, books_ok):
    # given an odd quota and a 2/3 split
    FundingYear.objects.filter(pk=funded_year.pk).update(lead_share=Decimal("0.6667"), pool_share=Decimal("0.3333"))
    FundingQuota.objects.filter(school=member_school).update(quota=Decimal("100000.01"))
    # when the year opens
    year = services.funding_year_open(actor=bureau_staff, funding_year=funded_year)
    # then the school's two sides are the largest-remainder split and add up to its quota
    lines = LedgerLine.objects.filter(entry__school=member_school, entry__kind="allocation")
    sides = {line.account.kind: line.amount for line in lines}
    assert [sides["alliance_fund"], sides["pool"]] == split(
        Decimal("100000.01"), [Decimal("0.6667"), Decimal("0.3333")]
    )
    assert sides["alliance_fund"] + sides["pool"] == Decimal("100000.01")
    books_ok(year.school_year.start_year)


def test_funded_school_in_no_alliance_is_a_clear_error(funded_year, bureau_staff):
    # given a funded school that is in no alliance this year
    loner = SchoolFactory(county=funded_year.county, name="孤山小学")
    FundingQuotaFactory(funding_year=funded_year, school=loner)
    # when the year is opened
    with pytest.raises(ValidationError) as err:
        services.funding_year_open(actor=bureau_staff, funding_year=funded_year)
    # then the message names the school and nothing is booked
    assert "孤山小学" in str(err.value)
    assert err.value.error_list[0].code == FundingError.NO_ALLIANCE.value
    assert not LedgerEntry.objects.exists()
    assert FundingYear.objects.get(pk=funded_year.pk).status == FundingYear.Status.DRAFT


def test_only_bureau_staff_of_the_county_open_a_year(funded_year, lead_principal, other_bureau_staff, auditor):
    for user in (lead_principal, other_bureau_staff, auditor):
        with pytest.raises(PermissionDenied):
            services.funding_year_open(actor=user, funding_year=funded_year)
    assert not LedgerEntry.objects.exists()


def test_shares_must_add_up_to_one(funding_year):
    funding_year.pool_share = Decimal("0.25")
    with pytest.raises(ValidationError) as err:
        funding_year.full_clean()
    assert "pool_share" in err.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        FundingYear.objects.filter(pk=funding_year.pk).update(pool_share=Decimal("0.25"))


def test_split_is_fixed_once_open(open_year):
    open_year.lead_share, open_year.pool_share = Decimal("0.60"), Decimal("0.40")
    with pytest.raises(ValidationError):
        open_year.full_clean()


def test_quota_cannot_change_once_open(open_year, member_school):
    quota = open_year.quotas.get(school=member_school)
    quota.quota = Decimal("1.00")
    with pytest.raises(ValidationError):
        quota.full_clean()


def test_quota_for_a_school_of_another_county_is_refused(funding_year, foreign_school):
    with pytest.raises(ValidationError) as err:
        FundingQuota(funding_year=funding_year, school=foreign_school, quota=Decimal("1.00")).full_clean()
    assert "school" in err.value.message_dict


def test_closing_returns_unspent_alliance_money(open_year, bureau_staff, research_line, principal, in_year, books_ok):
    # given 30,000.00 spent from the first alliance's 280,000.00
    services.spending_record_create(
        actor=principal, plan_line=research_line, date=in_year, amount=Decimal("30000.00"), payee="书店"
    )
    # when the year closes (twice)
    services.funding_year_close(actor=bureau_staff, funding_year=open_year)
    services.funding_year_close(actor=bureau_staff, funding_year=open_year)
    # then the funds are empty and their rest is in returned/unspent, booked once
    b = balances(open_year)
    alliance_id = research_line.plan.alliance_id
    assert b[(Account.Kind.ALLIANCE_FUND, alliance_id, None)] == 0
    assert b[(Account.Kind.RETURNED, alliance_id, None)] == Decimal("250000.00")
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.YEAR_CLOSE).count() == 1
    summary = books_ok()
    assert "returned 530000.00" in summary


def test_closed_year_refuses_changes_but_a_bureau_reversal(
    open_year, bureau_staff, research_line, principal, lead_principal, in_year, member_school, books_ok
):
    # given a spending record, then the year closed
    record = services.spending_record_create(
        actor=principal, plan_line=research_line, date=in_year, amount=Decimal("10.00"), payee="文具店"
    )
    services.funding_year_close(actor=bureau_staff, funding_year=open_year)
    entries = LedgerEntry.objects.count()
    # when anything is changed, it is refused with the closed-year message
    attempts = [
        lambda: services.spending_record_create(
            actor=principal, plan_line=research_line, date=in_year, amount=Decimal("1.00"), payee="x"
        ),
        lambda: services.spending_plan_revise(actor=lead_principal, plan=research_line.plan),
        lambda: services.awards_book(
            funding_year=open_year, awards={member_school.pk: Decimal("1.00")}, actor=bureau_staff, memo="x"
        ),
        lambda: services.funding_quotas_default(actor=bureau_staff, funding_year=open_year),
        lambda: services.funding_year_open(actor=bureau_staff, funding_year=open_year),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    assert LedgerEntry.objects.count() == entries
    # but a bureau reversal with a reason is accepted
    entry = record.ledger_entries.get()
    reversal = services.entry_reverse(entry=entry, actor=bureau_staff, reason="重复报销")
    assert reversal.reverses == entry
    books_ok()


def test_balances_equal_the_sums_of_the_entries(
    approved_plan, research_line, principal, lead_principal, bureau_staff, in_year, member_school, books_ok
):
    # given a year with spending, an award and a reversal
    services.spending_record_create(
        actor=principal, plan_line=research_line, date=in_year, amount=Decimal("1234.56"), payee="a"
    )
    rec = services.spending_record_create(
        actor=lead_principal, plan_line=research_line, date=in_year, amount=Decimal("0.01"), payee="b"
    )
    services.awards_book(
        funding_year=approved_plan.funding_year,
        awards={member_school.pk: Decimal("999.99")},
        actor=bureau_staff,
        memo="奖补",
    )
    services.entry_reverse(entry=rec.ledger_entries.get(), actor=bureau_staff, reason="录入错误")
    # then every account's derived balance is the sum of its lines, every entry sums to zero
    for account in Account.objects.with_balance():
        assert account.balance == sum((line.amount for line in account.lines.all()), Decimal(0))
    for entry in LedgerEntry.objects.all():
        assert sum((line.amount for line in entry.lines.all()), Decimal(0)) == 0
    school_spending = Account.objects.with_balance().get(kind="school_spending", school=member_school)
    assert school_spending.balance == Decimal("1234.56")
    books_ok()


# --- the database's own guards (PostgreSQL) ------------------------------------------------


def _raw_entry(cursor, year, user, kind="award"):
    cursor.execute(
        "INSERT INTO funding_ledgerentry (funding_year_id, kind, reason, memo, created_by_id, created_at)"
        " VALUES (%s, %s, '', 'raw', %s, now()) RETURNING id",
        [year.pk, kind, user.pk],
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_raw_sql_unbalanced_insert_fails_at_commit(open_year, bureau_staff):
    # given the pool account
    pool = Account.objects.get(funding_year=open_year, kind=Account.Kind.POOL)
    before = LedgerLine.objects.count()
    # when raw SQL inserts a one-sided entry and commits
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic(), connection.cursor() as cursor:
        entry_id = _raw_entry(cursor, open_year, bureau_staff)
        cursor.execute(
            "INSERT INTO funding_ledgerline (entry_id, account_id, amount) VALUES (%s, %s, 100.00)", [entry_id, pool.pk]
        )
        # the statement itself is accepted: the rule is checked at commit
    # then nothing was written
    assert LedgerLine.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_raw_sql_balanced_insert_commits(open_year, bureau_staff, member_school):
    pool = Account.objects.get(funding_year=open_year, kind=Account.Kind.POOL)
    paid = services.account_for(open_year, Account.Kind.AWARDS_PAID, school=member_school)
    with transaction.atomic(), connection.cursor() as cursor:
        entry_id = _raw_entry(cursor, open_year, bureau_staff)
        cursor.execute(
            "INSERT INTO funding_ledgerline (entry_id, account_id, amount) VALUES (%s, %s, -5.00), (%s, %s, 5.00)",
            [entry_id, pool.pk, entry_id, paid.pk],
        )
    assert LedgerLine.objects.filter(entry_id=entry_id).count() == 2


def test_raw_sql_update_of_a_posted_line_is_refused(open_year):
    line = LedgerLine.objects.filter(entry__funding_year=open_year).first()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE funding_ledgerline SET amount = amount + 1 WHERE id = %s", [line.pk])
    assert LedgerLine.objects.get(pk=line.pk).amount == line.amount


def test_raw_sql_delete_of_lines_and_entries_is_refused(open_year):
    line = LedgerLine.objects.filter(entry__funding_year=open_year).first()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM funding_ledgerline WHERE id = %s", [line.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE funding_ledgerentry SET memo = 'x' WHERE id = %s", [line.entry_id])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM funding_ledgerentry WHERE id = %s", [line.entry_id])
    assert LedgerLine.objects.filter(pk=line.pk).exists()


def test_unbalanced_entry_is_refused_when_constraints_are_checked(open_year, bureau_staff):
    # SET CONSTRAINTS ... IMMEDIATE runs the deferred check now, inside the test's transaction.
    pool = Account.objects.get(funding_year=open_year, kind=Account.Kind.POOL)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry = LedgerEntry.objects.create(funding_year=open_year, kind="award", created_by=bureau_staff)
        LedgerLine.objects.create(entry=entry, account=pool, amount=Decimal("1.00"))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
