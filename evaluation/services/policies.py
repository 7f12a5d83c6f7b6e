"""Award policies: how a county's 30 % pool of a school year is divided. The bureau of the
county sets them; once the year's awards are proposed or published a policy is settled and no
longer changes (``AwardPolicy.clean`` and ``delete`` refuse it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from alliance import access
from funding.metrics import pool_allocations
from funding.models import Account, FundingYear, LedgerLine
from funding.rounding import FEN

from ..awards import PolicyParams
from ..compute import the_period_pool
from ..models import AwardPolicy, EvaluationPeriod

POLICY_FIELDS = ("kind", "tier_coefficients", "pass_threshold", "fill_pool", "period_shares")


@dataclass(frozen=True)
class PeriodPool:
    """A period's part of its school year's pool: the year's pool as the ledger allocated it,
    what the period may pay under the policy (``awards.period_pool``) and what the ledger has
    paid from the pool so far (awards less their reversals, every period of the year)."""

    funding_year: FundingYear
    year_pool: Decimal
    period_pool: Decimal
    paid: Decimal


def period_pool_of(period: EvaluationPeriod) -> PeriodPool | None:
    """The period's pool figures (``None``: its school year has no funding year)."""
    year = FundingYear.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id).first()
    if year is None:
        return None
    pools, _shares = pool_allocations([year.pk])
    year_pool = pools[year.pk].quantize(FEN)
    policy = PolicyParams.from_policy(
        AwardPolicy.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id)
        .order_by("pk")
        .first()
    )
    paid = LedgerLine.objects.filter(
        entry__funding_year=year, account__funding_year=year, account__kind=Account.Kind.AWARDS_PAID
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    return PeriodPool(year, year_pool, the_period_pool(period, year_pool, policy), paid.quantize(FEN))


def award_policy_create(*, actor: Any, county: Any, school_year: Any, **fields: Any) -> AwardPolicy:
    access.require_bureau_of(actor, county.pk)
    with transaction.atomic():
        policy = AwardPolicy(county=county, school_year=school_year, **fields)
        policy.full_clean()
        policy.save()
        return policy


def award_policy_update(*, actor: Any, policy: AwardPolicy, **fields: Any) -> AwardPolicy:
    access.require_bureau_of(actor, policy.county_id)
    with transaction.atomic():
        policy = AwardPolicy.objects.select_for_update().get(pk=policy.pk)
        for key, value in fields.items():
            if key not in (*POLICY_FIELDS, "county", "school_year"):
                raise ValueError(key)
            setattr(policy, key, value)
        access.require_bureau_of(actor, policy.county_id)
        policy.full_clean()
        policy.save()
        return policy


def award_policy_delete(*, actor: Any, policy: AwardPolicy) -> None:
    access.require_bureau_of(actor, policy.county_id)
    with transaction.atomic():
        AwardPolicy.objects.select_for_update().get(pk=policy.pk).delete()
