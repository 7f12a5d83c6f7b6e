"""Dividing the 30 % pool into differential awards (差额奖补).

Policies (``AwardPolicy.Kind``):

- proportional: each eligible school's weight is final score × quota;
- tiers: each eligible school's weight is the coefficient of its grade × its 30 % share.

Eligible = not under the pass threshold (when one is set) and, for tiers, a non-zero
coefficient. The pool is divided by ``funding.rounding.split`` (largest remainder), so the
awards add up to the pool to the fen; with tiers and ``fill_pool`` off a school gets its
coefficient × share (scaled down only when that would exceed the pool) and the rest of the
pool is a remainder that stays in the pool.

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


@dataclass(frozen=True)
class PolicyParams:
    kind: str = "proportional"
    coefficients: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_COEFFICIENTS))
    pass_threshold: Decimal | None = None
    fill_pool: bool = True

    @classmethod
    def from_policy(cls, policy: Any | None) -> PolicyParams:
        if policy is None:
            return cls()
        return cls(
            kind=policy.kind,
            coefficients=cls.parse_coefficients(policy.tier_coefficients),
            pass_threshold=policy.pass_threshold,
            fill_pool=policy.fill_pool,
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
        return self

    def as_trace(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "coefficients": {g: str(self.coefficients[g]) for g in GRADES} if self.kind == "tiers" else None,
            "pass_threshold": None if self.pass_threshold is None else str(self.pass_threshold),
            "fill_pool": self.fill_pool,
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
