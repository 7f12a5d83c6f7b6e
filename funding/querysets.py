"""Domain filters of the funding models; balances and spent totals are derived here."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from alliance.querysets import ScopedQuerySet

# The plan in force: the one approved revision of an alliance's plan (what "planned" means in
# the execution figures and the evaluation's execution rate).
APPROVED_PLAN = "approved"

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))


def money_sum(expr: str, **extra) -> Coalesce:
    return Coalesce(Sum(expr, **extra), ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))


class FundingYearQuerySet(ScopedQuerySet):
    def open(self) -> FundingYearQuerySet:
        return self.filter(status="open")


class FundingQuotaQuerySet(ScopedQuerySet):
    pass


class AccountQuerySet(ScopedQuerySet):
    def with_balance(self) -> AccountQuerySet:
        """Each account's balance: the sum of its lines (never stored)."""
        return self.annotate(balance=money_sum("lines__amount"))


class LedgerEntryQuerySet(ScopedQuerySet):
    def not_reversed(self) -> LedgerEntryQuerySet:
        return self.filter(reversed_by__isnull=True)


class LedgerLineQuerySet(ScopedQuerySet):
    pass


class SpendingPlanQuerySet(ScopedQuerySet):
    def approved(self) -> SpendingPlanQuerySet:
        return self.filter(status=APPROVED_PLAN)


class SpendingRecordQuerySet(ScopedQuerySet):
    def booked(self) -> SpendingRecordQuerySet:
        """Records whose spending entry stands (not reversed): not among the (few) records with
        a reversed entry. Written as ``NOT IN`` that list rather than a ``NOT EXISTS`` through
        the entries, which PostgreSQL estimated at a handful of a province's records and ran as
        nested loops over all of them (bench/README.md). The list is read from the reversal
        entries' side (few, and estimated as few from the ``kind`` column's statistics), so
        that PostgreSQL hashes it once: read from the reversed entries' side (``reversed_by``
        not null, a join it estimated at every spending entry), it did not fit in ``work_mem``
        and was rescanned for every record, which at 200,000 schools ran for minutes."""
        from .models import LedgerEntry

        reversed_records = LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REVERSAL, reverses__spending_record__isnull=False
        ).values("reverses__spending_record_id")
        return self.exclude(pk__in=reversed_records)


class ProgrammeSpendingQuerySet(ScopedQuerySet):
    def booked(self) -> ProgrammeSpendingQuerySet:
        """Programme spending whose entry stands (not reversed), read from the (few) reversal
        entries' side as ``SpendingRecordQuerySet.booked`` does."""
        return self.exclude(pk__in=reversed_programme_spending())


def programme_line_spent() -> Coalesce:
    """A programme fund plan line's booked spending (reversed spending left out), to annotate."""
    return money_sum("spendings__amount", filter=~Q(spendings__pk__in=reversed_programme_spending()))


def reversed_programme_spending() -> QuerySet:
    """Ids of the programme spending whose entry was reversed (a subquery)."""
    from .models import LedgerEntry

    return LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.REVERSAL, reverses__programme_spending__isnull=False
    ).values("reverses__programme_spending_id")


class PlanLineQuerySet(ScopedQuerySet):
    def with_spent(self) -> PlanLineQuerySet:
        """Spent so far on each line's school and category in this alliance's plan, over every
        revision (a revised plan keeps what was already spent on the earlier revision's line)."""
        from .models import SpendingRecord

        spent = (
            SpendingRecord.objects.booked()
            .filter(
                plan_line__plan__funding_year_id=OuterRef("plan__funding_year_id"),
                plan_line__plan__alliance_id=OuterRef("plan__alliance_id"),
                plan_line__school_id=OuterRef("school_id"),
                plan_line__category=OuterRef("category"),
            )
            .order_by()
            .values("plan_line__plan__alliance_id")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return self.annotate(
            spent=Coalesce(Subquery(spent), ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))
        )

    def current(self) -> PlanLineQuerySet:
        """Lines of the approved plan in force."""
        return self.filter(plan__status=APPROVED_PLAN)
