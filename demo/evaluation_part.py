"""The demo county's evaluation: the default rubric (seed 003's seven dimensions), a term's
manual and survey values, a tiered award policy, and one evaluation run.

Values go through ``evaluation.services.indicator_value_set``: the assessor enters those of
her assigned schools, the bureau the others, as in the county's routine. The run is
``evaluation_run`` (what the nightly job calls); a second load finds its run and starts none.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from evaluation import models, services

from . import data
from .core import Context, ensure, rng

# Manual values (0–100) by strength class; survey satisfaction (%) as seed 003 reports it
# (teachers 99 %, students 97.5 %, parents 98 %), lower at weak schools.
MANUAL_RANGE = {"strong": (86, 99), "weak": (70, 92), "new": (75, 90)}
SURVEY_RANGE = {"strong": (94.0, 99.5), "weak": (82.0, 97.5), "new": (86.0, 98.0)}
COMMENTS = {
    "strong": "材料齐全,做法扎实,示范带动作用明显。",
    "weak": "有计划有落实,过程资料需进一步完善。",
    "new": "起步良好,制度建设正在完善。",
}
TIERS = {"excellent": "1.2", "good": "1.0", "pass": "0.8", "fail": "0"}


def load(ctx: Context) -> None:
    Rubric, EvaluationPeriod = models.Rubric, models.EvaluationPeriod
    assert ctx.county is not None and ctx.school_year is not None  # the alliance part ran first
    rubric = (
        Rubric.objects.filter(county=ctx.county, school_year=ctx.school_year, subject=models.Subject.SCHOOL)
        .order_by("-version")
        .first()
    )
    if rubric is None:
        rubric = services.rubric_create_default(county=ctx.county, school_year=ctx.school_year, actor=ctx.bureau)
        ctx.count(Rubric._meta.label)
    # The first term's evaluation, and the school year's, which the 30 % awards follow.
    periods: list[models.EvaluationPeriod] = []
    for term in (ctx.terms[1], None):
        kind = EvaluationPeriod.Kind.TERM if term else EvaluationPeriod.Kind.YEAR
        period = EvaluationPeriod.objects.filter(
            county=ctx.county, school_year=ctx.school_year, term=term, kind=kind, subject=models.Subject.SCHOOL
        ).first()
        if period is None:
            period = services.period_create(actor=ctx.bureau, school_year=ctx.school_year, term=term)
            ctx.count(EvaluationPeriod._meta.label)
        periods.append(period)
    ensure(
        ctx,
        models.AwardPolicy,
        {"county": ctx.county, "school_year": ctx.school_year},
        {"kind": "tiers", "tier_coefficients": TIERS, "pass_threshold": Decimal("60.00"), "fill_pool": True},
    )
    for period in periods:
        _enter_values(ctx, rubric, period)
    runs = models.EvaluationRun.objects.filter(county=ctx.county)
    assert period is not None  # the last of the two, made above
    if period.status == EvaluationPeriod.Status.OPEN and not runs.exists():
        run = services.evaluation_run(county=ctx.county, start_year=data.START_YEAR, trigger="load_demo")
        ctx.count(models.EvaluationRun._meta.label)
        ctx.note(
            _("  evaluation: run %(status)s, %(schools)d schools and %(alliances)d alliances scored")
            % {"status": run.get_status_display(), "schools": run.schools_count, "alliances": run.alliances_count}
        )


def _enter_values(ctx: Context, rubric, period) -> None:
    Indicator, IndicatorValue = models.Indicator, models.IndicatorValue
    # One draw per period, so the year's values differ from the term's but stay repeatable.
    draw = rng(f"evaluation-{period.kind}")
    indicators = list(
        Indicator.objects.filter(
            dimension__rubric=rubric, method__in=(Indicator.Method.MANUAL, Indicator.Method.SURVEY)
        ).order_by("dimension__order", "pk")
    )
    entered = set(IndicatorValue.objects.filter(period=period).values_list("indicator_id", "school_id"))
    assessor = ctx.users["demo-assessor"]
    assessed = set(next(u[5] for u in data.USERS if u[0] == "demo-assessor"))
    for fact in data.SCHOOLS:
        school = ctx.schools[fact.code]
        for indicator in indicators:
            if indicator.method == Indicator.Method.SURVEY:
                low, high = SURVEY_RANGE[fact.strength]
                value = Decimal(str(round(draw.uniform(low, high), 1)))
                comment = "问卷调查,有效样本率95%以上。"
            else:
                low, high = MANUAL_RANGE[fact.strength]
                value = Decimal(draw.randint(low, high))
                comment = COMMENTS[fact.strength]
            value = min(max(value, indicator.value_min), indicator.value_max)
            if (indicator.pk, school.pk) in entered:
                continue
            services.indicator_value_set(
                actor=assessor if fact.code in assessed else ctx.bureau,
                period=period,
                indicator=indicator,
                school=school,
                value=value,
                comment=comment,
            )
            ctx.count(IndicatorValue._meta.label)
