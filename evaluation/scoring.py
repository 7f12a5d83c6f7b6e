"""The scoring rules: pure functions on Decimals, no database.

Points and scores are rounded half-up to 0.01 at the step that produces them (an indicator's
points, a total, a final score), so a trace shows exactly the figures that were added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from funding.rounding import from_fen, to_fen

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
GRADE_ORDER = ("excellent", "good", "pass")  # highest first; below the last band: "fail"


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def as_decimal(x: Any) -> Decimal:
    """A number from JSON parameters (string or int; floats are refused as inexact)."""
    if isinstance(x, (bool, float)):
        raise ValueError(_('Numbers in parameters must be written as text or whole numbers, e.g. "0.5".'))
    try:
        d = Decimal(str(x))
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": x}) from exc
    if not d.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": x})
    return d


# --- grade bands -------------------------------------------------------------------------


def parse_grade_bands(bands: Any) -> list[tuple[Decimal, str]]:
    """``{"excellent": "90", "good": "75", "pass": "60"}`` → [(90, excellent), (75, good), (60, pass)]."""
    if not isinstance(bands, Mapping) or set(bands) != set(GRADE_ORDER):
        raise ValueError(_("Grade bands name the lowest score of excellent, good and pass."))
    parsed = [(as_decimal(bands[g]), g) for g in GRADE_ORDER]
    lows = [low for low, _g in parsed]
    if any(not (ZERO <= low <= HUNDRED) for low in lows):
        raise ValueError(_("Grade bands lie between 0 and 100."))
    if not (lows[0] > lows[1] > lows[2]):
        raise ValueError(_("Grade bands must fall: excellent above good above pass."))
    return parsed


def grade_of(score: Decimal, bands: Any) -> str:
    for low, grade in parse_grade_bands(bands):
        if score >= low:
            return grade
    return "fail"


# --- indicator rules ---------------------------------------------------------------------


def _bands(params: Mapping) -> list[tuple[Decimal, Decimal]]:
    raw = params.get("bands")
    if not isinstance(raw, list) or not raw:
        raise ValueError(_('Banded rules list [threshold, points] pairs, e.g. {"bands": [["10", "5"], ["5", "3"]]}.'))
    out = []
    for pair in raw:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(_("Each band is a pair [threshold, points]."))
        out.append((as_decimal(pair[0]), as_decimal(pair[1])))
    return out


def validate_rule(rule: str, params: Any, max_points: Decimal) -> None:
    """Raise ValueError with a message for the user when the parameters do not fit the rule."""
    if not isinstance(params, Mapping):
        raise ValueError(_("Rule parameters are a JSON object."))
    if rule == "target":
        if "target" not in params:
            raise ValueError(_('A target rule needs a target, e.g. {"target": "100"}.'))
        if as_decimal(params["target"]) <= 0:
            raise ValueError(_("The target must be above zero."))
    elif rule == "bands":
        for _threshold, points in _bands(params):
            if points < 0 or points > max_points:
                raise ValueError(_("Band points lie between 0 and the indicator's max points."))
    elif rule == "rank":
        pass
    else:
        raise ValueError(_("Unknown rule “%(rule)s”.") % {"rule": rule})


def target_points(value: Decimal, max_points: Decimal, target: Decimal, direction: str) -> Decimal:
    """Higher is better: value ÷ target, capped at 1, × max. Lower is better: full points at or
    under the target, then target ÷ value of them."""
    if direction == "lower":
        share = ONE if value <= target else target / value
    else:
        share = min(max(value, ZERO) / target, ONE)
    return q2(share * max_points)


def band_points(value: Decimal, bands: Sequence[tuple[Decimal, Decimal]], direction: str) -> Decimal:
    """The points of the best band the value reaches (≥ its threshold, or ≤ when lower is better)."""
    reached = [pts for threshold, pts in bands if (value <= threshold if direction == "lower" else value >= threshold)]
    return q2(max(reached, default=ZERO))


def rank_points(values: Mapping[Any, Decimal], max_points: Decimal, direction: str) -> dict[Any, Decimal]:
    """Rank within the county: the best gets max points, the worst none, linear between;
    ties share the better rank (competition ranking). One school alone gets max points."""
    n = len(values)
    if n == 0:
        return {}
    if n == 1:
        return {k: q2(max_points) for k in values}
    ordered = sorted(values.values(), reverse=(direction != "lower"))
    first_rank: dict[Decimal, int] = {}
    for i, v in enumerate(ordered):
        first_rank.setdefault(v, i)
    return {k: q2(max_points * Decimal(n - 1 - first_rank[v]) / Decimal(n - 1)) for k, v in values.items()}


def indicator_points(rule: str, params: Mapping, max_points: Decimal, direction: str, value: Decimal | None) -> Decimal:
    """Points of one value by a target or bands rule (rank needs every school: ``rank_points``)."""
    if value is None:
        return ZERO
    if rule == "target":
        return target_points(value, max_points, as_decimal(params["target"]), direction)
    if rule == "bands":
        return band_points(value, _bands(params), direction)
    raise ValueError(rule)


def points_function(
    rule: str, params: Mapping, max_points: Decimal, direction: str
) -> Callable[[Decimal | None], Decimal]:
    """``indicator_points`` of one indicator for many values: the parameters are parsed once
    (at the first value, where ``indicator_points`` would raise on bad ones) and the points of
    each distinct value computed once (points depend on the value's number only)."""
    parsed: list[Any] = []
    memo: dict[Decimal, Decimal] = {}

    def points(value: Decimal | None) -> Decimal:
        if value is None:
            return ZERO
        try:
            return memo[value]
        except KeyError:
            pass
        if not parsed:
            if rule == "target":
                parsed.append(as_decimal(params["target"]))
            elif rule == "bands":
                parsed.append(_bands(params))
            else:
                raise ValueError(rule)
        if rule == "target":
            result = target_points(value, max_points, parsed[0], direction)
        else:
            result = band_points(value, parsed[0], direction)
        memo[value] = result
        return result

    return points


def grader(bands: Any) -> Callable[[Decimal], str]:
    """``grade_of`` with the bands parsed once (at the first score, where ``grade_of`` would raise)."""
    parsed: list[list[tuple[Decimal, str]]] = []

    def grade(score: Decimal) -> str:
        if not parsed:
            parsed.append(parse_grade_bands(bands))
        for low, g in parsed[0]:
            if score >= low:
                return g
        return "fail"

    return grade


# --- totals, bundling, alliances, decline -----------------------------------------------


def school_total(points: Iterable[Decimal]) -> Decimal:
    return q2(min(sum(points, ZERO), HUNDRED))


def to_hundredths(points: Decimal) -> int:
    """Points (rounded to 0.01 by the rule that gave them) as a whole number of hundredths:
    the arithmetic of money's fen (``funding.rounding.to_fen``, which refuses anything finer)."""
    return to_fen(points)


def school_total_of_hundredths(total: int) -> Decimal:
    """``school_total`` of points added up as hundredths (``to_hundredths``)."""
    return from_fen(min(total, 10_000))


def mean(xs: Sequence[Decimal]) -> Decimal:
    return sum(xs, ZERO) / Decimal(len(xs))


def bundle_totals(own: Decimal, member_totals: Sequence[Decimal], beta: Decimal) -> Decimal:
    """捆绑式: final = (1 − β) × own + β × mean(member totals); a school without members keeps its own."""
    if not member_totals:
        return q2(own)
    return q2((ONE - beta) * own + beta * mean(member_totals))


def bundle_improvement(own: Decimal, member_improvements: Sequence[Decimal], beta: Decimal) -> Decimal:
    """Improvement basis: final = (1 − β) × own + β × (own + mean improvement), i.e. own plus β times
    the members' mean change since the last period, kept within 0–100."""
    if not member_improvements:
        return q2(own)
    return q2(min(max(own + beta * mean(member_improvements), ZERO), HUNDRED))


def alliance_score(finals: Sequence[Decimal], weights: Sequence[Decimal] | None = None) -> Decimal:
    """Plain mean of the schools' final scores, or weighted (by quota) when weights are given."""
    if not finals:
        return ZERO
    if weights is None or sum(weights, ZERO) == 0:
        return q2(mean(finals))
    return q2(sum((f * w for f, w in zip(finals, weights, strict=True)), ZERO) / sum(weights, ZERO))


def consecutive_falls(history: Sequence[Decimal]) -> int:
    """How many periods in a row the score fell, counting back from the newest (last) one."""
    falls = 0
    for newer, older in zip(reversed(history), list(reversed(history))[1:], strict=False):
        if newer < older:
            falls += 1
        else:
            break
    return falls
