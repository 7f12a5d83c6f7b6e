"""The demo county's principals' evaluation (seed 003): the default principals' rubric (six
dimensions: planning, culture, leading teaching, leading teachers' growth, internal
management, external environment), the school year's values for every school's principal and
the computed results, not yet proposed.

Self-contained: it reads the county, year, schools and users the foundation made (``ctx``) and
writes through the evaluation services (values: the assessor for her assigned schools, the
bureau for the others). A second load finds the rubric, period, values and results and writes
nothing. Principals' results pay no award (docs/adr/0008)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from evaluation import models, services
from evaluation.compute import compute_periods

from .core import Context, rng

MANUAL_RANGE = {"strong": (85, 98), "weak": (68, 90), "new": (72, 90)}
SURVEY_RANGE = {"strong": (93.0, 99.5), "weak": (80.0, 97.0), "new": (85.0, 98.0)}
COMMENT = "述职评议与实地查看相结合。"


def load(ctx: Context) -> None:
    assert ctx.county is not None and ctx.school_year is not None  # the foundation ran first
    Subject = models.Subject
    rubric = (
        models.Rubric.objects.filter(county=ctx.county, school_year=ctx.school_year, subject=Subject.PRINCIPAL)
        .order_by("-version")
        .first()
    )
    if rubric is None:
        rubric = services.rubric_create_default(
            county=ctx.county, school_year=ctx.school_year, actor=ctx.bureau, subject=Subject.PRINCIPAL
        )
        ctx.count(models.Rubric._meta.label)
    period = models.EvaluationPeriod.objects.filter(
        county=ctx.county, school_year=ctx.school_year, term=None, subject=Subject.PRINCIPAL
    ).first()
    if period is None:
        period = services.period_create(actor=ctx.bureau, school_year=ctx.school_year, subject=Subject.PRINCIPAL)
        ctx.count(models.EvaluationPeriod._meta.label)
    if period.status != models.EvaluationPeriod.Status.OPEN:
        return
    _enter_values(ctx, rubric, period)
    if not models.PersonResult.objects.filter(period=period).exists():
        written = services.people_write(compute_periods([period]))
        ctx.count(models.PersonResult._meta.label, written)
        ctx.note(_("  evaluation: %(n)d principals scored") % {"n": written})


def _enter_values(ctx: Context, rubric: models.Rubric, period: models.EvaluationPeriod) -> None:
    Indicator = models.Indicator
    draw = rng("people-principals")
    indicators = list(
        Indicator.objects.filter(
            dimension__rubric=rubric, method__in=(Indicator.Method.MANUAL, Indicator.Method.SURVEY)
        ).order_by("dimension__order", "pk")
    )
    entered = set(models.IndicatorValue.objects.filter(period=period).values_list("indicator_id", "school_id"))
    assessor = ctx.users.get("demo-assessor")
    assessed = set(assessor.assessed_schools.values_list("pk", flat=True)) if assessor is not None else set()
    for code in sorted(ctx.schools):
        school = ctx.schools[code]
        strength = school.strength if school.strength in MANUAL_RANGE else "weak"
        for indicator in indicators:
            # Drawn before the skip, so a second load draws the same values in the same order.
            if indicator.method == Indicator.Method.SURVEY:
                value = Decimal(str(round(draw.uniform(*SURVEY_RANGE[strength]), 1)))
            else:
                value = Decimal(draw.randint(*MANUAL_RANGE[strength]))
            if (indicator.pk, school.pk) in entered:
                continue
            services.indicator_value_set(
                actor=assessor if assessor is not None and school.pk in assessed else ctx.bureau,
                period=period,
                indicator=indicator,
                school=school,
                value=min(max(value, indicator.value_min), indicator.value_max),
                comment=COMMENT,
            )
            ctx.count(models.IndicatorValue._meta.label)
