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


class ProgrammeLineSpent(Coalesce):
    """``programme_line_spent``'s annotation (an aggregate over a join, so a GROUP BY of the
    page's query); a list read as values (``alliance.listing``) asks ``for_page`` instead: the
    same sum for a page's lines by one grouped query over their booked spending."""

    page_keys = ("pk",)

    def for_page(self, keys: list[tuple]) -> dict[tuple, Decimal]:
        from .models import ProgrammeSpending

        if not keys:
            return {}
        totals = (
            ProgrammeSpending.objects.booked()
            .filter(line_id__in=sorted({pk for (pk,) in keys}))
            .order_by()
            .values_list("line_id")
            .annotate(total=Sum("amount"))
        )
        found = {(line,): total for line, total in totals}
        return {key: found.get(key, ZERO.value) for key in keys}


def programme_line_spent() -> Coalesce:
    """A programme fund plan line's booked spending (reversed spending left out), to annotate."""
    spent = Sum("spendings__amount", filter=~Q(spendings__pk__in=reversed_programme_spending()))
    return ProgrammeLineSpent(spent, ZERO, output_field=MONEY)


def reversed_programme_spending() -> QuerySet:
    """Ids of the programme spending whose entry was reversed (a subquery)."""
    from .models import LedgerEntry

    return LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.REVERSAL, reverses__programme_spending__isnull=False
    ).values("reverses__programme_spending_id")


# What a plan line's ``spent`` adds up: the booked spending records of the lines with the same
# funding year, alliance, school and category (the line's own and its earlier revisions'), as
# (the line's value key, the record's) pairs.
_SPENT_KEYS = (
    ("plan__funding_year_id", "plan_line__plan__funding_year_id"),
    ("plan__alliance_id", "plan_line__plan__alliance_id"),
    ("school_id", "plan_line__school_id"),
    ("category", "plan_line__category"),
)
MONEY = DecimalField(max_digits=14, decimal_places=2)


class LineSpent(Coalesce):
    """``PlanLineQuerySet.with_spent``'s annotation: in SQL a correlated subquery per line. A
    list read as values (``alliance.listing``) asks ``for_page`` instead: the spent of a page's
    lines by one grouped query over the same booked records (a correlated subquery per line cost
    0.02 ms each, 1.5 ms for a spending plans page's 80 lines; bench/README.md)."""

    page_keys = tuple(line for line, _ in _SPENT_KEYS)

    def for_page(self, keys: list[tuple]) -> dict[tuple, Decimal]:
        """Spent per line key (``page_keys``' values), for the given keys (zero where none)."""
        from .models import SpendingRecord

        if not keys:
            return {}
        records = [record for _, record in _SPENT_KEYS]
        totals = (
            SpendingRecord.objects.booked()
            .filter(**{f"{record}__in": sorted({k[i] for k in keys}) for i, record in enumerate(records)})
            .order_by()
            .values_list(*records)
            .annotate(total=Sum("amount"))
        )
        found = {tuple(row[:-1]): row[-1] for row in totals}
        return {key: found.get(key, ZERO.value) for key in keys}


class PlanLineQuerySet(ScopedQuerySet):
    def with_spent(self) -> PlanLineQuerySet:
        """Spent so far on each line's school and category in this alliance's plan, over every
        revision (a revised plan keeps what was already spent on the earlier revision's line)."""
        from .models import SpendingRecord

        spent = (
            SpendingRecord.objects.booked()
            .filter(**{record: OuterRef(line) for line, record in _SPENT_KEYS})
            .order_by()
            .values("plan_line__plan__alliance_id")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return self.annotate(spent=LineSpent(Subquery(spent), ZERO, output_field=MONEY))

    def current(self) -> PlanLineQuerySet:
        """Lines of the approved plan in force."""
        return self.filter(plan__status=APPROVED_PLAN)
