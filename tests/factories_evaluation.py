"""Builders for the evaluation tests: small rubrics whose scores are easy to follow by hand."""

from __future__ import annotations

from decimal import Decimal

from evaluation import services


def indicator(code, max_points, method="manual", metric="", rule="target", params=None, direction="higher", vmax="100"):
    return {
        "code": code,
        "name": code,
        "max_points": Decimal(str(max_points)),
        "method": method,
        "metric_key": metric,
        "rule": rule,
        "rule_params": params if params is not None else {"target": "100"},
        "direction": direction,
        "value_min": Decimal(0),
        "value_max": Decimal(vmax),
    }


def two_manual_indicators():
    """quality (60 points) and care (40 points): a value v of 100 gives full points."""
    return [
        {"code": "main", "name": "主维度", "indicators": [indicator("quality", 60), indicator("care", 40)]},
    ]


def make_rubric(actor, school_year, structure=None, **settings):
    return services.rubric_create(
        actor=actor,
        county=school_year.county,
        school_year=school_year,
        structure=structure or two_manual_indicators(),
        **settings,
    )


def enter(actor, period, rubric, school, **values):
    """Enter manual values by indicator code, e.g. ``enter(bureau, period, rubric, school, quality=80)``."""
    from evaluation.models import Indicator

    for code, value in values.items():
        ind = Indicator.objects.get(dimension__rubric=rubric, code=code)
        services.indicator_value_set(actor=actor, period=period, indicator=ind, school=school, value=value)
