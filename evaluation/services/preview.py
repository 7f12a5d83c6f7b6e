"""The what-if preview: scores and awards under changed β or policy parameters. Saves nothing."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from alliance import access
from alliance.models import School

from ..awards import PolicyParams
from ..compute import compute_period
from ..models import EvaluationPeriod, validate_beta
from .errors import EvaluationError, _error


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def awards_preview(
    *,
    actor: Any,
    period: EvaluationPeriod,
    beta: Decimal | None = None,
    kind: str | None = None,
    coefficients: Mapping[str, Any] | None = None,
    pass_threshold: Decimal | None = None,
    fill_pool: bool | None = None,
) -> dict[str, Any]:
    """Scores and awards under changed β or policy parameters beside the current ones. Saves nothing."""
    access.require_bureau_of(actor, period.county_id)
    try:
        validate_beta(beta)
    except ValidationError as exc:
        raise _error(exc.messages[0], EvaluationError.OUT_OF_RANGE, "beta") from exc
    current = compute_period(period)
    base = current.awards.policy if current.awards else PolicyParams()
    policy = base.with_overrides(
        kind=kind, coefficients=coefficients, pass_threshold=pass_threshold, fill_pool=fill_pool
    )
    try:
        policy.validate()
    except ValidationError as exc:
        raise ValidationError({"policy": exc.messages}) from exc
    new = compute_period(period, beta=beta, policy=policy)
    names = dict(School.objects.filter(pk__in=list(current.schools)).values_list("pk", "name"))
    rows = []
    for s in sorted(current.schools, key=lambda s: (-new.schools[s].final_score, s)):
        cur, nxt = current.schools[s], new.schools[s]
        rows.append(
            {
                "school": s,
                "school_name": names.get(s, ""),
                # Decimal strings, as every other endpoint gives scores and money (never floats).
                "current_score": str(cur.final_score),
                "new_score": str(nxt.final_score),
                "current_grade": cur.grade,
                "new_grade": nxt.grade,
                "current_award": _text(cur.award_preview),
                "new_award": _text(nxt.award_preview),
            }
        )
    return {
        "beta": str(current.rubric.beta if beta is None else beta),
        "policy": policy.as_trace(),
        "pool": str(current.awards.pool) if current.awards else None,
        "current_remainder": str(current.awards.remainder) if current.awards else None,
        "new_remainder": str(new.awards.remainder) if new.awards else None,
        "rows": rows,
    }
