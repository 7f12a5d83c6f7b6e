"""Execution and pool figures of a funding year, each one aggregate query, for the evaluation
(computed indicators, award preview), the admin and the API.

"Planned" is the approved plan in force (one revision per alliance); "spent" is every booked
spending record of the alliance's plan, whichever revision's line it was recorded on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from pgtools.querysets import AnyOf, tuples

from .models import Account, FundingYear, LedgerEntry, LedgerLine, PlanLine, SpendingRecord
from .querysets import APPROVED_PLAN, ZERO, money_sum
from .rounding import FEN

RATE = Decimal("0.0001")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def _rate(spent: Decimal, planned: Decimal) -> Decimal:
    return (spent / planned).quantize(RATE, rounding=ROUND_HALF_UP) if planned else Decimal("0.0000")


def _spent_by(funding_year: FundingYear, *keys: str) -> Coalesce:
    """Booked spending of the year matching the outer plan line on ``keys``."""
    match = {f"plan_line__{k}": OuterRef(k) for k in keys}
    spent = (
        SpendingRecord.objects.booked()
        .filter(plan_line__plan__funding_year=funding_year, **match)
        .order_by()
        .values(*[f"plan_line__{k}" for k in keys])
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(spent, output_field=MONEY), ZERO, output_field=MONEY)


def _planned_vs_spent(funding_year: FundingYear, *keys: str):
    return (
        PlanLine.objects.filter(plan__funding_year=funding_year, plan__status=APPROVED_PLAN)
        .order_by()
        .values(*keys)
        .annotate(planned=Sum("amount"), spent=_spent_by(funding_year, *keys))
        .order_by(*keys)
    )


def execution_rates(funding_year: FundingYear) -> dict[int, Decimal]:
    """Per school id with approved plan lines: spent ÷ planned, to four decimals."""
    return {row["school"]: _rate(row["spent"], row["planned"]) for row in _planned_vs_spent(funding_year, "school")}


def planned_and_spent(funding_year: FundingYear) -> dict[int, tuple[Decimal, Decimal]]:
    """Per school id with approved plan lines: (planned, spent), for a caller that states the
    rate in its own unit (the evaluation's percentage) and must round only once."""
    return {row["school"]: (row["planned"], row["spent"]) for row in _planned_vs_spent(funding_year, "school")}


def planned_and_spent_by_school(
    school_year_ids: Iterable[int], school_ids: Iterable[int]
) -> dict[int, tuple[Decimal, Decimal]]:
    """``planned_and_spent`` of the funding years of some school years, for some schools, in
    two grouped queries (the evaluation's window: many counties at once). A school's figures
    are those of its own county's funding year."""
    school_ids = list(school_ids)
    years = list(FundingYear.objects.filter(school_year_id__in=list(school_year_ids)).values_list("pk", flat=True))
    planned = tuples(
        PlanLine.objects.filter(
            AnyOf("school_id", school_ids), plan__funding_year_id__in=years, plan__status=APPROVED_PLAN
        )
        .order_by()
        .values("school")
        .annotate(total=Sum("amount"))
        .values_list("school", "total")
    )
    spent = dict(
        tuples(
            SpendingRecord.objects.booked()
            .filter(AnyOf("plan_line__school_id", school_ids), plan_line__plan__funding_year_id__in=years)
            .order_by()
            .values("plan_line__school")
            .annotate(total=Sum("amount"))
            .values_list("plan_line__school", "total")
        )
    )
    return {school: (total, spent.get(school, Decimal("0.00"))) for school, total in planned}


def alliance_execution_rates(funding_year: FundingYear) -> dict[int, Decimal]:
    """Per alliance id with an approved plan: spent ÷ planned, to four decimals."""
    return {
        row["plan__alliance"]: _rate(row["spent"], row["planned"])
        for row in _planned_vs_spent(funding_year, "plan__alliance")
    }


def execution_report(funding_year: FundingYear) -> list[dict]:
    """Plan vs spent per alliance, school and category, with the rate (one query)."""
    rows = _planned_vs_spent(funding_year, "plan__alliance", "school", "category").values(
        "plan__alliance", "plan__alliance__name", "school", "school__name", "category", "planned", "spent"
    )
    return [
        {
            "alliance": row["plan__alliance"],
            "alliance_name": row["plan__alliance__name"],
            "school": row["school"],
            "school_name": row["school__name"],
            "category": row["category"],
            "planned": row["planned"],
            "spent": row["spent"],
            "rate": _rate(row["spent"], row["planned"]),
        }
        for row in rows
    ]


def pool_shares(funding_year: FundingYear) -> dict[int, Decimal]:
    """Per funded school id: the pool share of its quota, as booked at opening."""
    rows = (
        LedgerLine.objects.filter(
            entry__funding_year=funding_year,
            entry__kind=LedgerEntry.Kind.ALLOCATION,
            account__kind=Account.Kind.POOL,
        )
        .order_by()
        .values("entry__school")
        .annotate(total=Sum("amount"))
    )
    return {row["entry__school"]: Decimal(row["total"]).quantize(FEN) for row in rows}


def pool_total(funding_year: FundingYear) -> Decimal:
    """The pool as booked at opening (before any award)."""
    return (
        LedgerLine.objects.filter(
            entry__funding_year=funding_year, entry__kind=LedgerEntry.Kind.ALLOCATION, account__kind=Account.Kind.POOL
        )
        .aggregate(total=money_sum("amount"))["total"]
        .quantize(FEN)
    )


def year_summary(funding_year: FundingYear) -> dict[str, Decimal]:
    """The year's totals in one query: quotas, what went to alliance funds and the pool,
    spent, awarded, returned, and the balances of the funds and the pool."""
    alloc = Q(entry__kind=LedgerEntry.Kind.ALLOCATION)
    lines = LedgerLine.objects.filter(entry__funding_year=funding_year)
    totals = lines.aggregate(
        quotas=money_sum("amount", filter=alloc & Q(account__kind=Account.Kind.APPROPRIATION)),
        alliance_funds=money_sum("amount", filter=alloc & Q(account__kind=Account.Kind.ALLIANCE_FUND)),
        pool=money_sum("amount", filter=alloc & Q(account__kind=Account.Kind.POOL)),
        spent=money_sum("amount", filter=Q(account__kind=Account.Kind.SCHOOL_SPENDING)),
        awarded=money_sum("amount", filter=Q(account__kind=Account.Kind.AWARDS_PAID)),
        returned=money_sum("amount", filter=Q(account__kind=Account.Kind.RETURNED)),
        fund_balance=money_sum("amount", filter=Q(account__kind=Account.Kind.ALLIANCE_FUND)),
        pool_balance=money_sum("amount", filter=Q(account__kind=Account.Kind.POOL)),
    )
    totals["quotas"] = -totals["quotas"]
    # SQLite returns sums without their scale; the summary prints fen everywhere.
    return {key: Decimal(value).quantize(FEN) for key, value in totals.items()}


def pool_allocations(funding_year_ids: Iterable[int]) -> tuple[dict[int, Decimal], dict[int, dict[int, Decimal]]]:
    """What was allocated to the pool accounts of some funding years, in one grouped query:
    funding year → its pool (to the fen), and funding year → school → the school's share of
    it (allocations that name a school)."""
    year_ids = list(funding_year_ids)
    pools: dict[int, Decimal] = defaultdict(lambda: Decimal(0))
    shares: dict[int, dict[int, Decimal]] = defaultdict(dict)
    # Naming the accounts' years as well lets PostgreSQL start from those few accounts and
    # their lines' index instead of every ledger line of the country.
    pool_lines = LedgerLine.objects.filter(
        entry__funding_year_id__in=year_ids,
        entry__kind=LedgerEntry.Kind.ALLOCATION,
        account__funding_year_id__in=year_ids,
        account__kind=Account.Kind.POOL,
    ).order_by()
    for fy, school, total in tuples(
        pool_lines.values_list("entry__funding_year_id", "entry__school_id").annotate(total=Sum("amount"))
    ):
        total = Decimal(total).quantize(FEN)
        pools[fy] += total
        if school is not None:
            shares[fy][school] = total
    return pools, shares
