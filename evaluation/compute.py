"""Computing a period's results in memory, set-based, without writing anything.

``compute_period`` reads a constant number of queries for a period whatever the number of
schools (the rubric, the alliances, the entered values, one aggregate per metric, the last
periods' results, the funding year) and returns a ``PeriodOutcome``; the services write it
in one transaction (``services.outcome_write``) or show it as a what-if preview.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import scoring
from .awards import AwardInput, AwardSheet, PolicyParams, compute_awards
from .metrics import REGISTRY
from .models import AwardPolicy, EvaluationPeriod, Indicator, IndicatorValue, Rubric, SchoolResult

ZERO = Decimal(0)


@dataclass
class SchoolOutcome:
    school_id: int
    alliance_id: int | None
    own_total: Decimal
    final_score: Decimal
    grade: str
    trace: dict[str, Any]
    award_preview: Decimal | None = None


@dataclass
class AllianceOutcome:
    alliance_id: int
    score: Decimal
    grade: str
    trace: dict[str, Any]


@dataclass
class PeriodOutcome:
    period: EvaluationPeriod
    rubric: Rubric
    rubric_hash: str
    schools: dict[int, SchoolOutcome] = field(default_factory=dict)
    alliances: dict[int, AllianceOutcome] = field(default_factory=dict)
    warnings: dict[int, tuple[int, list[str]]] = field(default_factory=dict)
    awards: AwardSheet | None = None
    funding_year_id: int | None = None


def current_rubric(county_id: int, school_year_id: int) -> Rubric | None:
    return (
        Rubric.objects.filter(county_id=county_id, school_year_id=school_year_id)
        .order_by("-version")
        .prefetch_related("dimensions__indicators")
        .first()
    )


def rubric_indicators(rubric: Rubric) -> list[tuple[Any, Indicator]]:
    return [(d, i) for d in rubric.dimensions.all() for i in d.indicators.all()]


def rubric_content(rubric: Rubric) -> dict[str, Any]:
    """Everything that changes a score, in a canonical form (the input of the content hash)."""
    return {
        "beta": str(rubric.beta),
        "bundling_basis": rubric.bundling_basis,
        "alliance_averaging": rubric.alliance_averaging,
        "grade_bands": {k: str(v) for k, v in sorted(rubric.grade_bands.items())},
        "decline_periods": rubric.decline_periods,
        "dimensions": [
            {
                "code": d.code,
                "name": d.name,
                "indicators": [
                    {
                        "code": i.code,
                        "name": i.name,
                        "max_points": str(i.max_points),
                        "method": i.method,
                        "metric_key": i.metric_key,
                        "rule": i.rule,
                        "rule_params": i.rule_params,
                        "direction": i.direction,
                        "value_min": str(i.value_min),
                        "value_max": str(i.value_max),
                    }
                    for i in d.indicators.all()
                ],
            }
            for d in rubric.dimensions.all()
        ],
    }


def rubric_hash(rubric: Rubric) -> str:
    canonical = json.dumps(rubric_content(rubric), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_points_total(rubric: Rubric) -> None:
    total = sum((i.max_points for _d, i in rubric_indicators(rubric)), ZERO)
    if total != scoring.HUNDRED:
        raise ValidationError(
            _("The indicators' max points add up to %(total)s; they must add up to 100.") % {"total": total}
        )


def _alliances(period: EvaluationPeriod) -> tuple[dict[int, int], dict[int, set[int]], dict[int, list[int]], dict]:
    """(school → its alliance, lead school → its members, alliance → schools, alliance names)."""
    from alliance.models import Membership

    rows = (
        Membership.objects.filter(
            alliance__school_year_id=period.school_year_id, school__county_id=period.county_id, school__active=True
        )
        .values_list("alliance_id", "school_id", "role")
        .order_by("alliance_id", "school_id")
    )
    school_alliance: dict[int, int] = {}
    alliance_schools: dict[int, list[int]] = defaultdict(list)
    leads: dict[int, int] = {}
    for alliance_id, school_id, role in rows:
        alliance_schools[alliance_id].append(school_id)
        if role == "lead":
            leads[alliance_id] = school_id
            school_alliance[school_id] = alliance_id  # a lead school is shown with the alliance it leads
        else:
            school_alliance.setdefault(school_id, alliance_id)
    members: dict[int, set[int]] = defaultdict(set)
    for alliance_id, lead in leads.items():
        members[lead] |= {s for s in alliance_schools[alliance_id] if s != lead}
    return school_alliance, members, alliance_schools, leads


def _entered_values(period: EvaluationPeriod) -> dict[tuple[int, str], tuple[Decimal, str]]:
    """(school, indicator code) → (value, method it was entered under); the newest rubric version wins."""
    rows = (
        IndicatorValue.objects.filter(period=period)
        .values_list("school_id", "indicator__code", "indicator__method", "value")
        .order_by("indicator__dimension__rubric__version", "pk")
    )
    return {(school, code): (value, method) for school, code, method, value in rows}


def _history(
    period: EvaluationPeriod, n: int, fresh: Mapping[int, PeriodOutcome]
) -> tuple[list[int], dict[int, dict[int, Decimal]]]:
    """The last n earlier periods of the same kind (oldest first) and their final scores; a
    period computed earlier in the same run (``fresh``, not written yet) counts as computed."""
    earlier = list(
        EvaluationPeriod.objects.filter(county_id=period.county_id, kind=period.kind, start_date__lt=period.start_date)
        .order_by("-start_date")
        .values_list("pk", flat=True)[:n]
    )
    earlier.reverse()
    scores: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for period_id, school_id, own, final in SchoolResult.objects.filter(period_id__in=earlier).values_list(
        "period_id", "school_id", "own_total", "final_score"
    ):
        scores[period_id][school_id] = final
        scores[period_id][-school_id] = own  # own totals under negative keys, for the improvement basis
    for period_id in earlier:
        if period_id in fresh:
            scores[period_id] = {}
            for s in fresh[period_id].schools.values():
                scores[period_id][s.school_id] = s.final_score
                scores[period_id][-s.school_id] = s.own_total
    return earlier, scores


def _funding(period: EvaluationPeriod) -> tuple[Any, dict[int, Decimal], dict[int, Decimal], Decimal]:
    """(funding year, quota per school, 30 % share per school, pool) or (None, {}, {}, 0)."""
    from funding import metrics as funding_metrics
    from funding.models import FundingQuota, FundingYear

    funding_year = FundingYear.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id).first()
    if funding_year is None:
        return None, {}, {}, ZERO
    quotas = dict(FundingQuota.objects.filter(funding_year=funding_year).values_list("school_id", "quota"))
    shares = funding_metrics.pool_shares(funding_year)
    return funding_year, quotas, shares, funding_metrics.pool_total(funding_year)


def compute_period(
    period: EvaluationPeriod,
    *,
    rubric: Rubric | None = None,
    beta: Decimal | None = None,
    policy: PolicyParams | None = None,
    fresh: Mapping[int, PeriodOutcome] | None = None,
) -> PeriodOutcome:
    """Scores, grades, warnings and the award preview of a period. ``beta`` and ``policy``
    override the rubric's and the funding year's settings (what-if preview)."""
    rubric = rubric or current_rubric(period.county_id, period.school_year_id)
    if rubric is None:
        raise ValidationError(_("%(period)s has no rubric.") % {"period": period})
    check_points_total(rubric)
    beta = rubric.beta if beta is None else beta
    if not (ZERO <= beta <= 1):
        raise ValidationError(_("β must be between 0 and 1."))
    digest = rubric_hash(rubric)
    school_alliance, members, alliance_schools, leads = _alliances(period)
    school_ids = sorted(school_alliance)
    entered = _entered_values(period)
    indicators = rubric_indicators(rubric)
    period._metric_cache = {}  # the metrics share what they read, during this computation only (metrics._cached)
    try:
        metric_values = {
            key: REGISTRY[key](period) for key in sorted({i.metric_key for _d, i in indicators if i.metric_key})
        }
    finally:
        period._metric_cache = None

    # Raw values and points per indicator, every school at once (a rank needs all of them).
    raw: dict[int, dict[str, tuple[Decimal | None, str]]] = {s: {} for s in school_ids}
    points: dict[int, dict[str, Decimal]] = {s: {} for s in school_ids}
    for _d, ind in indicators:
        for s in school_ids:
            if (s, ind.code) in entered:
                value, _method = entered[(s, ind.code)]
                source = "override" if ind.method == Indicator.Method.COMPUTED else "entered"
            elif ind.method == Indicator.Method.COMPUTED:
                value = metric_values[ind.metric_key].get(s)
                source = "metric" if value is not None else "missing"
            else:
                value, source = None, "missing"
            raw[s][ind.code] = (value, source)
        if ind.rule == Indicator.Rule.RANK:
            ranked = scoring.rank_points(
                {s: raw[s][ind.code][0] for s in school_ids if raw[s][ind.code][0] is not None},
                ind.max_points,
                ind.direction,
            )
            for s in school_ids:
                points[s][ind.code] = ranked.get(s, ZERO)
        else:
            points_of = scoring.points_function(ind.rule, ind.rule_params, ind.max_points, ind.direction)
            for s in school_ids:
                points[s][ind.code] = points_of(raw[s][ind.code][0])

    own = {s: scoring.school_total(points[s].values()) for s in school_ids}
    earlier, history = _history(period, rubric.decline_periods, fresh or {})
    previous = history.get(earlier[-1], {}) if earlier else {}

    outcome = PeriodOutcome(period=period, rubric=rubric, rubric_hash=digest)
    grade_of = scoring.grader(rubric.grade_bands)
    # The parts of every school's trace that do not depend on the school, built once.
    trace_rubric = {"id": rubric.pk, "version": rubric.version, "hash": digest}
    trace_bands = {k: str(v) for k, v in sorted(rubric.grade_bands.items())}
    trace_beta = str(beta)
    static = [
        (
            ind.code,
            {
                "dimension": d.name,
                "code": ind.code,
                "name": ind.name,
                "method": ind.method,
                "metric": ind.metric_key or None,
            },
            {
                "rule": ind.rule,
                "rule_params": ind.rule_params,
                "direction": ind.direction,
                "max_points": str(ind.max_points),
            },
        )
        for d, ind in indicators
    ]
    for s in school_ids:
        ms = sorted(members.get(s, ()))
        member_rows = [
            {
                "school_id": m,
                "total": str(own[m]),
                "previous_total": str(previous[-m]) if -m in previous else None,
                "improvement": str(own[m] - previous[-m]) if -m in previous else None,
            }
            for m in ms
        ]
        if rubric.bundling_basis == Rubric.BundlingBasis.IMPROVEMENT:
            basis = [own[m] - previous[-m] for m in ms if -m in previous]
            final = scoring.bundle_improvement(own[s], basis, beta)
        else:
            basis = [own[m] for m in ms]
            final = scoring.bundle_totals(own[s], basis, beta)
        grade = grade_of(final)
        raw_s, points_s = raw[s], points[s]
        indicator_rows = []
        for code, head, rule in static:
            value, source = raw_s[code]
            indicator_rows.append(
                {
                    **head,
                    "source": source,
                    "raw_value": None if value is None else str(value),
                    **rule,
                    "points": str(points_s[code]),
                }
            )
        trace = {
            "rubric": dict(trace_rubric),
            "indicators": indicator_rows,
            "own_total": str(own[s]),
            "bundling": {
                "role": "lead" if s in members else "member",
                "basis": rubric.bundling_basis,
                "beta": trace_beta,
                "members": member_rows,
                "basis_values": [str(b) for b in basis] if s in members else [],
                "final_score": str(final),
            },
            "grade": {"grade": grade, "bands": dict(trace_bands)},
        }
        outcome.schools[s] = SchoolOutcome(s, school_alliance[s], own[s], final, grade, trace)
        scores = [history[p][s] for p in earlier if s in history[p]] + [final]
        falls = scoring.consecutive_falls(scores)
        if falls >= rubric.decline_periods:
            outcome.warnings[s] = (falls, [str(x) for x in scores])

    funding_year, quotas, shares, pool = _funding(period)
    for alliance_id, schools in sorted(alliance_schools.items()):
        finals = [outcome.schools[s].final_score for s in schools]
        weights = (
            [quotas.get(s, ZERO) for s in schools]
            if rubric.alliance_averaging == Rubric.AllianceAveraging.QUOTA
            else None
        )
        score = scoring.alliance_score(finals, weights)
        outcome.alliances[alliance_id] = AllianceOutcome(
            alliance_id,
            score,
            grade_of(score),
            {
                "averaging": rubric.alliance_averaging,
                "lead_school_id": leads.get(alliance_id),
                "schools": [
                    {"school_id": s, "final_score": str(f), "weight": None if weights is None else str(w)}
                    for s, f, w in zip(schools, finals, weights or [None] * len(schools), strict=True)
                ],
                "rubric": {"version": rubric.version, "hash": digest},
            },
        )

    if funding_year is not None:
        if policy is None:
            saved = AwardPolicy.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id).first()
            policy = PolicyParams.from_policy(saved)
        funded = [s for s in school_ids if s in quotas]
        sheet = compute_awards(
            pool,
            [
                AwardInput(
                    s,
                    outcome.schools[s].final_score,
                    outcome.schools[s].grade,
                    quotas[s],
                    shares.get(s, ZERO),
                )
                for s in funded
            ],
            policy,
        )
        outcome.awards = sheet
        outcome.funding_year_id = funding_year.pk
        for line in sheet.lines:
            school = outcome.schools[line.school_id]
            school.award_preview = line.award
            school.trace["award"] = {
                "policy": policy.as_trace(),
                "pool": str(pool),
                "quota": str(quotas[line.school_id]),
                "share": str(shares.get(line.school_id, ZERO)),
                "pool_remainder": str(sheet.remainder),
                **line.trace(),
            }
    return outcome
