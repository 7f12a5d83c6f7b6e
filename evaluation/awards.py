"""Dividing the 30 % pool into differential awards (差额奖补).

Policies (``AwardPolicy.Kind``):

- proportional: each eligible school's weight is final score × quota;
- tiers: each eligible school's weight is the coefficient of its grade × its 30 % share.

Eligible = not under the pass threshold (when one is set) and, for tiers, a non-zero
coefficient. The pool is divided by ``funding.rounding.split`` (largest remainder), so the
awards add up to the pool to the fen; with tiers and ``fill_pool`` off a school gets its
coefficient × share (scaled down only when that would exceed the pool) and the rest of the
pool is a remainder that stays in the pool.

Which periods pay (``PolicyParams.period_shares``): a year's pool is paid once, by the
periods its policy names, each at most its share of the pool (``period_pool``; by default the
school-year period pays it all and term periods score and warn and pay nothing). The shares
add up to at most 1 and the period pools are one largest-remainder split of the pool, so the
periods of a year together never pay more than the pool. Publishing checks it against the
ledger as well (``services.publishing``).

The convention anyone can recompute: a school's weight is its final score *as published*
(rounded half-up to 0.01, ``scoring``) × its quota; the period pool is divided in proportion
to the weights by the largest remainder, so the awards add up to it to the fen.

Monotonic: the weight per yuan of quota grows with the score (proportional: it *is* the
score; tiers: the coefficients may not fall from a better grade to a worse one, which
``PolicyParams.validate`` enforces), so before rounding a higher score never earns less per
yuan of quota; rounding moves each award by less than one fen.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from funding.rounding import FEN, from_fen, split, to_fen

from .scoring import HUNDRED, ZERO, as_decimal

GRADES = ("excellent", "good", "pass", "fail")
DEFAULT_COEFFICIENTS = {"excellent": Decimal("1.2"), "good": Decimal("1.0"), "pass": Decimal("0.8"), "fail": ZERO}
# The periods a policy may name: the school year's two terms and the school year itself.
PERIOD_KEYS = ("term1", "term2", "year")
DEFAULT_PERIOD_SHARES = {"year": Decimal(1)}
ONE = Decimal(1)


def period_key(kind: str, term_number: int | None) -> str:
    """``year`` for a school-year period, ``term1``/``term2`` for a term period."""
    return "year" if kind == "year" else f"term{term_number}"


def parse_period_shares(raw: Any) -> dict[str, Decimal]:
    """The policy's shares per period key; empty means the school-year period pays it all."""
    if raw in (None, "", {}):
        return dict(DEFAULT_PERIOD_SHARES)
    if not isinstance(raw, Mapping) or not set(raw) <= set(PERIOD_KEYS):
        raise ValidationError(_("Shares of the pool are given per period: term1, term2, year."))
    try:
        shares = {k: as_decimal(raw[k]) for k in PERIOD_KEYS if k in raw}
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if any(not (ZERO <= v <= ONE) for v in shares.values()):
        raise ValidationError(_("A period's share of the pool lies between 0 and 1."))
    if sum(shares.values(), ZERO) > ONE:
        raise ValidationError(_("The periods' shares of the pool add up to more than 1."))
    return shares


def period_pools(pool: Decimal, shares: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """What each period may pay from the pool: one largest-remainder split of the pool by the
    shares (and the share nobody pays), so the period pools never add up to more than the pool
    and a 30 % / 70 % policy pays exactly the pool."""
    keys = [k for k in PERIOD_KEYS if shares.get(k, ZERO) > 0]
    unpaid = ONE - sum((shares[k] for k in keys), ZERO)
    weights, _denominator = _whole_numbers([shares[k] for k in keys] + [unpaid])
    parts = split(pool, weights) if any(weights) else [ZERO] * len(weights)
    return {k: parts[i] for i, k in enumerate(keys)}


def period_pool(pool: Decimal, shares: Mapping[str, Decimal], key: str) -> Decimal:
    """The period's pool (``period_pools``); zero for a period the policy does not name."""
    return period_pools(pool, shares).get(key, from_fen(0))


@dataclass(frozen=True)
class PolicyParams:
    kind: str = "proportional"
    coefficients: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_COEFFICIENTS))
    pass_threshold: Decimal | None = None
    fill_pool: bool = True
    period_shares: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_PERIOD_SHARES))

    @classmethod
    def from_policy(cls, policy: Any | None) -> PolicyParams:
        if policy is None:
            return cls()
        return cls(
            kind=policy.kind,
            coefficients=cls.parse_coefficients(policy.tier_coefficients),
            pass_threshold=policy.pass_threshold,
            fill_pool=policy.fill_pool,
            period_shares=parse_period_shares(policy.period_shares),
        )

    @staticmethod
    def parse_coefficients(raw: Any) -> dict[str, Decimal]:
        if raw in (None, "", {}):
            return dict(DEFAULT_COEFFICIENTS)
        if not isinstance(raw, Mapping) or not set(raw) <= set(GRADES):
            raise ValidationError(_("Coefficients are given per grade: excellent, good, pass, fail."))
        try:
            parsed = {g: as_decimal(raw[g]) for g in raw}
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return {**DEFAULT_COEFFICIENTS, **parsed}

    def with_overrides(self, **overrides: Any) -> PolicyParams:
        overrides = {k: v for k, v in overrides.items() if v is not None}
        if "coefficients" in overrides:
            overrides["coefficients"] = self.parse_coefficients(overrides["coefficients"])
        if "period_shares" in overrides:
            overrides["period_shares"] = parse_period_shares(overrides["period_shares"])
        return replace(self, **overrides)

    def validate(self) -> PolicyParams:
        if self.kind not in ("proportional", "tiers"):
            raise ValidationError(_("Unknown award policy “%(kind)s”.") % {"kind": self.kind})
        coefficients = self.parse_coefficients(dict(self.coefficients))
        if any(c < 0 for c in coefficients.values()):
            raise ValidationError(_("Coefficients may not be negative."))
        ordered = [coefficients[g] for g in GRADES]
        if any(better < worse for better, worse in itertools.pairwise(ordered)):
            raise ValidationError(
                _(
                    "A better grade may not have a smaller coefficient than a worse one "
                    "(excellent ≥ good ≥ pass ≥ fail)."
                )
            )
        if self.pass_threshold is not None and not (ZERO <= self.pass_threshold <= HUNDRED):
            raise ValidationError(_("The pass threshold lies between 0 and 100."))
        parse_period_shares(dict(self.period_shares))
        return self

    def pays(self, key: str) -> Decimal:
        """The share of the pool the period of ``key`` may pay (0: it pays nothing)."""
        return self.period_shares.get(key, ZERO)

    def as_trace(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "coefficients": {g: str(self.coefficients[g]) for g in GRADES} if self.kind == "tiers" else None,
            "pass_threshold": None if self.pass_threshold is None else str(self.pass_threshold),
            "fill_pool": self.fill_pool,
            "period_shares": {k: str(v) for k, v in self.period_shares.items()},
        }


@dataclass(frozen=True)
class AwardInput:
    school_id: int
    score: Decimal
    grade: str
    quota: Decimal
    share: Decimal  # the school's 30 % share of its quota


@dataclass(frozen=True)
class AwardLine:
    school_id: int
    award: Decimal
    eligible: bool
    weight: Decimal
    # The exact amount before rounding to the fen, as numerator and denominator (whole numbers,
    # not reduced: a Fraction per school would cost more than the rest of the sheet).
    exact_numerator: int
    exact_denominator: int

    @property
    def exact(self) -> Fraction:
        return Fraction(self.exact_numerator, self.exact_denominator)

    @property
    def exact_amount(self) -> Decimal:
        """The exact amount to six decimals (as shown in the trace)."""
        return _ratio_to_decimal(self.exact_numerator, self.exact_denominator)

    @property
    def rounding_adjustment(self) -> Decimal:
        return self.award - self.exact_amount

    def trace(self) -> dict[str, Any]:
        exact = self.exact_amount
        return {
            "eligible": self.eligible,
            "weight": str(self.weight),
            "exact_amount": str(exact),
            "award": str(self.award),
            "rounding_adjustment": str(self.award - exact),
        }


@dataclass(frozen=True)
class AwardSheet:
    pool: Decimal
    lines: list[AwardLine]
    remainder: Decimal
    policy: PolicyParams

    def by_school(self) -> dict[int, Decimal]:
        return {line.school_id: line.award for line in self.lines}


MICRO = Decimal("0.000001")


def _ratio_to_decimal(numerator: int, denominator: int) -> Decimal:
    """numerator ÷ denominator to six decimals (half-even, as Decimal rounds)."""
    return (Decimal(numerator) / Decimal(denominator)).quantize(MICRO)


def _whole_numbers(values: Sequence[Decimal]) -> tuple[list[int], int]:
    """Decimals as whole numbers over one common denominator: ([v × d], d), exactly."""
    ratios = [v.as_integer_ratio() for v in values]
    denominator = math.lcm(*(d for _n, d in ratios)) if ratios else 1
    return [n * (denominator // d) for n, d in ratios], denominator


def compute_awards(pool: Decimal, inputs: Sequence[AwardInput], params: PolicyParams) -> AwardSheet:
    """The awards of every school; ``sum(awards) + remainder == pool`` exactly.

    Exact arithmetic in whole numbers: each school's weight is ``numerators[k] / denominator``
    (one denominator for the sheet), so the split, the comparisons and the exact amounts in the
    trace need no fractions."""
    params.validate()
    pool_fen = to_fen(pool)  # refuses a pool that is not whole fen
    if pool < 0:
        raise ValidationError(_("The pool may not be negative."))
    passes = [params.pass_threshold is None or i.score >= params.pass_threshold for i in inputs]
    if params.kind == "proportional":
        scores, score_denominator = _whole_numbers([i.score for i in inputs])
        quotas, quota_denominator = _whole_numbers([i.quota for i in inputs])
        numerators = [s * q if ok else 0 for s, q, ok in zip(scores, quotas, passes, strict=True)]
        denominator = score_denominator * quota_denominator
    else:
        # coefficient × quota × the pool's share of all quotas: the 30 % share taken exactly
        # (quota × Σ shares ÷ Σ quotas) rather than as rounded to the fen when booked, so one
        # grade earns exactly the same per yuan of quota.
        money, money_denominator = _whole_numbers([i.quota for i in inputs] + [i.share for i in inputs])
        quotas, shares = money[: len(inputs)], money[len(inputs) :]
        total_quota, total_share = sum(quotas), sum(shares)
        grades = list(params.coefficients)
        coefficients, coefficient_denominator = _whole_numbers([params.coefficients[g] for g in grades])
        coefficient_of = dict(zip(grades, coefficients, strict=True))
        if total_quota:
            numerators = [
                coefficient_of[i.grade] * q * total_share if ok else 0
                for i, q, ok in zip(inputs, quotas, passes, strict=True)
            ]
            denominator = coefficient_denominator * money_denominator * total_quota
        else:
            numerators, denominator = [0] * len(inputs), 1
    numerators = [max(n, 0) for n in numerators]
    eligible = [ok and n > 0 for ok, n in zip(passes, numerators, strict=True)]
    weights = [_ratio_to_decimal(n, denominator) for n in numerators]
    total = sum(numerators)
    if total == 0:
        lines = [AwardLine(i.school_id, from_fen(0), False, w, 0, 1) for i, w in zip(inputs, weights, strict=True)]
        return AwardSheet(pool, lines, pool, params)
    if params.kind == "tiers" and not params.fill_pool and 100 * total <= pool_fen * denominator:
        # Pay coefficient × share as it stands, down to the fen; what is left stays in the pool.
        awards = [from_fen(100 * n // denominator) for n in numerators]
        exact = [(n, denominator) for n in numerators]
    else:
        # Largest remainder breaks ties by position: put higher scores first so that a tie of
        # remainders never gives the last fen to the lower score.
        order = sorted(range(len(inputs)), key=lambda k: (-inputs[k].score, k))
        ordered = split(pool, [numerators[k] for k in order])
        awards = [ZERO] * len(inputs)
        for position, k in enumerate(order):
            awards[k] = ordered[position]
        exact = [(pool_fen * n, 100 * total) for n in numerators]
    lines = [
        AwardLine(i.school_id, a, ok, w, *e)
        for i, a, ok, w, e in zip(inputs, awards, eligible, weights, exact, strict=True)
    ]
    remainder = pool - sum(awards, ZERO)
    assert remainder >= 0 and remainder == remainder.quantize(FEN)
    return AwardSheet(pool, lines, remainder, params)
