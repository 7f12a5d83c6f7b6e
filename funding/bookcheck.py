"""The rules ``manage.py ledger_check`` verifies, in the order it reports them.

Plain ORM queries, so the check runs on SQLite (where no trigger guards the books) as well
as on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.db.models import F, Q, QuerySet

from .metrics import year_summary
from .models import (
    Account,
    FundingYear,
    LedgerEntry,
    LedgerLine,
    PlanLine,
    ProgrammeFund,
    ProgrammeFundLine,
    ProgrammeSpending,
    SpendingRecord,
)
from .querysets import money_sum, programme_line_spent
from .rounding import split


class Rule(StrEnum):
    ENTRY_BALANCES = "entry_balances"
    LINE_IN_YEAR = "line_in_its_year"
    ALLOCATION_MATCHES_QUOTA = "allocation_matches_quota"
    ACCOUNT_BALANCE = "account_balance_equals_lines"
    FUND_NOT_NEGATIVE = "fund_not_negative"
    RECORD_BOOKED = "spending_record_booked"
    SPENDING_WITHIN_PLAN = "spending_within_plan_line"
    PROGRAMME_ALLOCATION = "programme_allocation_matches_fund"
    PROGRAMME_PLAN_WITHIN_FUND = "programme_plan_within_fund"
    PROGRAMME_SPENDING_BOOKED = "programme_spending_booked"
    PROGRAMME_SPENDING_WITHIN_LINE = "programme_spending_within_line"


@dataclass(frozen=True)
class Problem:
    rule: Rule
    detail: str

    def __str__(self) -> str:
        return f"{self.rule.value}: {self.detail}"


def check_year(year: FundingYear) -> list[Problem]:
    problems: list[Problem] = []

    unbalanced = (
        LedgerEntry.objects.filter(funding_year=year)
        .annotate(total=money_sum("lines__amount"))
        .exclude(total=0)
        .order_by("pk")
    )
    problems += [Problem(Rule.ENTRY_BALANCES, f"entry #{e.pk} adds up to {e.total}") for e in unbalanced]

    strays = LedgerLine.objects.filter(entry__funding_year=year).exclude(account__funding_year=F("entry__funding_year"))
    problems += [Problem(Rule.LINE_IN_YEAR, f"line #{line.pk} books to another year's account") for line in strays]

    if not year.is_draft:
        booked: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for school_id, kind, amount in LedgerLine.objects.filter(
            entry__funding_year=year, entry__kind=LedgerEntry.Kind.ALLOCATION
        ).values_list("entry__school_id", "account__kind", "amount"):
            booked[school_id][kind] += amount
        for quota in year.quotas.select_related("school").order_by("school__code"):
            sides = booked.pop(quota.school_id, {})
            lead, pool = split(quota.quota, [year.lead_share, year.pool_share])
            got = (sides.get(Account.Kind.ALLIANCE_FUND, 0), sides.get(Account.Kind.POOL, 0))
            if got != (lead, pool) or -sides.get(Account.Kind.APPROPRIATION, 0) != quota.quota:
                problems.append(
                    Problem(
                        Rule.ALLOCATION_MATCHES_QUOTA,
                        f"{quota.school}: quota {quota.quota}, booked {got[0]} + {got[1]}, expected {lead} + {pool}",
                    )
                )
        for school_id in booked:
            problems.append(Problem(Rule.ALLOCATION_MATCHES_QUOTA, f"school #{school_id} is allocated without a quota"))

    by_lines: dict[int, Decimal] = defaultdict(Decimal)
    for account_id, amount in LedgerLine.objects.filter(account__funding_year=year).values_list("account_id", "amount"):
        by_lines[account_id] += amount
    for account in Account.objects.filter(funding_year=year).with_balance().order_by("pk"):
        if account.balance != by_lines.get(account.pk, Decimal(0)):
            problems.append(
                Problem(Rule.ACCOUNT_BALANCE, f"{account}: balance {account.balance}, lines {by_lines[account.pk]}")
            )
        funds = (Account.Kind.ALLIANCE_FUND, Account.Kind.POOL, Account.Kind.PROGRAMME_FUND)
        if account.kind in funds and account.balance < 0:
            problems.append(Problem(Rule.FUND_NOT_NEGATIVE, f"{account} is overdrawn: {account.balance}"))

    problems += _booked_once(
        SpendingRecord.objects.booked().filter(plan_line__plan__funding_year=year),
        LedgerEntry.Kind.SPENDING,
        Rule.RECORD_BOOKED,
        "record",
    )

    over = (
        PlanLine.objects.filter(plan__funding_year=year, plan__status="approved")
        .with_spent()
        .filter(spent__gt=F("amount"))
        .select_related("school", "plan__alliance")
    )
    for line in over:
        problems.append(
            Problem(Rule.SPENDING_WITHIN_PLAN, f"{line.plan.alliance} · {line}: spent {line.spent} > {line.amount}")
        )
    problems += check_programme_funds(year)
    return problems


def _booked_once(spendings: QuerySet, kind: str, rule: Rule, label: str) -> list[Problem]:
    """Each spending (a 70/30 record or a programme spending) booked once, with its amount."""
    spendings = spendings.annotate(
        booked=money_sum(
            "ledger_entries__lines__amount",
            filter=Q(ledger_entries__kind=kind, ledger_entries__lines__amount__gt=0),
        )
    ).order_by("pk")
    return [
        Problem(rule, f"{label} #{record.pk} of {record.amount} booked {record.booked}")
        for record in spendings
        if record.booked != record.amount
    ]


def check_programme_funds(year: FundingYear) -> list[Problem]:
    """The programme funds of the year (seed 002's working funds): each open year's fund booked
    once, split to the fen by its own share; its plan within its working part; each spending
    booked once with its amount, and what stands of it (not reversed) within its plan line."""
    problems: list[Problem] = []
    booked: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for fund_id, kind, amount in LedgerLine.objects.filter(
        entry__funding_year=year, entry__kind=LedgerEntry.Kind.PROGRAMME_ALLOCATION
    ).values_list("entry__programme_fund_id", "account__kind", "amount"):
        booked[fund_id][kind] += amount
    funds = ProgrammeFund.objects.filter(funding_year=year).select_related("helper_school", "programme")
    for fund in funds.order_by("pk"):
        sides = booked.pop(fund.pk, None)
        if sides is None:
            if not year.is_draft:
                problems.append(Problem(Rule.PROGRAMME_ALLOCATION, f"{fund}: {fund.amount} is not booked"))
            continue
        spend, held = split(fund.amount, [fund.spend_share, 1 - fund.spend_share])
        got = (sides.get(Account.Kind.PROGRAMME_FUND, 0), sides.get(Account.Kind.PROGRAMME_RESERVE, 0))
        if got != (spend, held) or -sides.get(Account.Kind.PROGRAMME_APPROPRIATION, 0) != fund.amount:
            problems.append(
                Problem(
                    Rule.PROGRAMME_ALLOCATION,
                    f"{fund}: amount {fund.amount}, booked {got[0]} + {got[1]}, expected {spend} + {held}",
                )
            )
        planned = ProgrammeFundLine.objects.filter(fund=fund).aggregate(total=money_sum("amount"))["total"]
        if planned > got[0]:
            problems.append(Problem(Rule.PROGRAMME_PLAN_WITHIN_FUND, f"{fund}: planned {planned} > {got[0]}"))
    for fund_id in booked:
        problems.append(Problem(Rule.PROGRAMME_ALLOCATION, f"programme fund #{fund_id} is booked twice or elsewhere"))

    problems += _booked_once(
        ProgrammeSpending.objects.filter(line__fund__funding_year=year),
        LedgerEntry.Kind.PROGRAMME_SPENDING,
        Rule.PROGRAMME_SPENDING_BOOKED,
        "programme spending",
    )
    lines = (
        ProgrammeFundLine.objects.filter(fund__funding_year=year)
        .annotate(spent=programme_line_spent())
        .filter(spent__gt=F("amount"))
        .order_by("pk")
    )
    for line in lines:
        problems.append(Problem(Rule.PROGRAMME_SPENDING_WITHIN_LINE, f"{line}: spent {line.spent} > {line.amount}"))
    return problems


def summary_line(year: FundingYear) -> str:
    s = year_summary(year)
    return (
        f"{year.county} {year.school_year} [{year.status}]: quotas {s['quotas']}, "
        f"alliance funds {s['alliance_funds']}, "
        f"pool {s['pool']}, spent {s['spent']}, awarded {s['awarded']}, returned {s['returned']}, "
        f"balance: funds {s['fund_balance']}, pool {s['pool_balance']}"
    )
