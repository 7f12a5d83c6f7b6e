"""Evaluation results indicator by indicator, and the award sheet with its calculation trace."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluation.export import award_sheet, preview_marker
from evaluation.models import AwardPolicy, DeclineWarning, EvaluationPeriod, Grade, SchoolResult
from evaluation.trace import explain
from evaluation.trace_table import SOURCES

from ..registry import Column, Params, register
from ..scoping import COUNTS, checked, labels, school_ids

RESULT_COLUMNS = (
    Column("period", gettext_lazy("Period")),
    Column("school_code", gettext_lazy("School code")),
    Column("school", gettext_lazy("School")),
    Column("alliance", gettext_lazy("Alliance")),
    Column("dimension", gettext_lazy("Dimension")),
    Column("indicator_code", gettext_lazy("Indicator code")),
    Column("indicator", gettext_lazy("Indicator")),
    Column("source", gettext_lazy("Source")),
    Column("raw_value", gettext_lazy("Raw value"), "decimal"),
    Column("points", gettext_lazy("Points"), "decimal"),
    Column("own_total", gettext_lazy("Own total"), "decimal"),
    Column("final_score", gettext_lazy("Final score"), "decimal"),
    Column("grade", gettext_lazy("Grade")),
    Column("warning", gettext_lazy("Decline warning")),
)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def results_of(user: Any, params: Params) -> QuerySet:
    results = SchoolResult.objects.visible_to(user).filter(
        period__county_id=params.county_id, period__school_year_id=params.school_year_id
    )
    if params.term_id is not None:
        results = results.filter(period__term_id=params.term_id)
    schools = school_ids(params)
    if schools is not None:
        results = results.filter(school_id__in=schools)
    return results


def _result_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    grades = labels(Grade.choices)
    results = results_of(user, params)
    falls = {
        (period, school): n
        for period, school, n in DeclineWarning.objects.visible_to(user)
        .filter(period_id__in=results.values("period_id"))
        .values_list("period_id", "school_id", "falls")
    }
    falls_words = _("Declined %(n)s periods in a row")
    rows = results.select_related("period__school_year", "period__term", "school", "alliance").order_by(
        "period__start_date", "period_id", "school__code"
    )
    for result in rows.iterator(chunk_size=500):
        trace = explain(result.trace, result.rubric_hash)
        n = falls.get((result.period_id, result.school_id))
        head = (
            str(result.period),
            result.school.code,
            result.school.name,
            result.alliance.name if result.alliance else "",
        )
        tail = (result.own_total, result.final_score, grades.get(result.grade, result.grade),
                falls_words % {"n": n} if n else "")  # fmt: skip
        for ind in trace.get("indicators", []):
            source = SOURCES.get(ind.get("source"))
            yield (
                *head,
                ind.get("dimension", ""),
                ind.get("code", ""),
                ind.get("name", ""),
                source() if source else str(ind.get("source") or ""),
                _decimal(ind.get("raw_value")),
                _decimal(ind.get("points")),
                *tail,
            )


@register(code="results", title=gettext_lazy("Evaluation results"), columns=RESULT_COLUMNS)
def results(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """Each school's result, one row per indicator with its raw value and points, the school's
    totals, grade and decline warning."""
    return _result_rows(user, checked(user, "results", params))


COUNTS["results"] = lambda user, params: results_of(user, checked(user, "results", params)).count()

AWARD_COLUMNS = (
    Column("period", gettext_lazy("Period")),
    Column("status", gettext_lazy("Status")),
    Column("school_code", gettext_lazy("School code")),
    Column("school", gettext_lazy("School")),
    Column("alliance", gettext_lazy("Alliance")),
    Column("final_score", gettext_lazy("Final score"), "decimal"),
    Column("grade", gettext_lazy("Grade")),
    Column("policy", gettext_lazy("Policy")),
    Column("quota", gettext_lazy("Quota"), "money"),
    Column("share", gettext_lazy("Share for the pool"), "money"),
    Column("eligible", gettext_lazy("Eligible")),
    Column("weight", gettext_lazy("Weight"), "decimal"),
    Column("exact_amount", gettext_lazy("Exact amount"), "decimal"),
    Column("rounding", gettext_lazy("Rounding adjustment"), "decimal"),
    Column("award", gettext_lazy("Award (CNY)"), "money"),
)


def _award_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    grades, policies = labels(Grade.choices), labels(AwardPolicy.Kind.choices)
    periods = (
        EvaluationPeriod.objects.visible_to(user)
        .filter(county_id=params.county_id, school_year_id=params.school_year_id)
        .filter(pk__in=SchoolResult.objects.values("period_id"))
        .select_related("school_year", "term", "county")
        .order_by("start_date", "pk")
    )
    if params.term_id is not None:
        periods = periods.filter(term_id=params.term_id)
    schools = school_ids(params)
    narrowed = (
        None
        if schools is None
        else set(SchoolResult.objects.filter(school_id__in=schools).values_list("school_id", flat=True))
    )
    yes, no = _("yes"), _("no")
    for period in periods:
        sheet = award_sheet(period, user=user)
        if sheet.publication is None:
            status = preview_marker(period)
        else:
            status = _("Published, revision %(revision)s") % {"revision": sheet.publication.revision}
        name = str(period)
        for r in sheet.results:
            if narrowed is not None and r.school_id not in narrowed:
                continue
            award = (r.trace or {}).get("award") or {}
            policy = (award.get("policy") or {}).get("kind")
            eligible = award.get("eligible")
            yield (
                name,
                status,
                r.school.code,
                r.school.name,
                r.alliance.name if r.alliance else "",
                r.final_score,
                grades.get(r.grade, r.grade),
                policies.get(policy, policy or ""),
                _decimal(award.get("quota")),
                _decimal(award.get("share")),
                "" if eligible is None else (yes if eligible else no),
                _decimal(award.get("weight")),
                _decimal(award.get("exact_amount")),
                _decimal(award.get("rounding_adjustment")),
                sheet.award_of[r.school_id],
            )
        blank = (None,) * 9
        yield (name, status, "", _("Not awarded (stays in the pool)"), "", *blank, sheet.remainder)
        yield (name, status, "", _("Pool total"), "", *blank, sheet.pool)


@register(code="award_sheet", title=gettext_lazy("Award sheet with its calculation"), columns=AWARD_COLUMNS)
def award_sheet_report(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """Every period's award sheet (``evaluation.export.award_sheet``: as published in the
    ledger, else the preview) with each school's calculation from its trace, then what is left
    in the pool and the pool."""
    return _award_rows(user, checked(user, "award_sheet", params))
