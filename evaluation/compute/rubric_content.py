"""A rubric's content: the current version of a county's rubric for a school year, its
indicators, the canonical form of everything in it that changes a score, and that form's
hash (results keep the hash they were computed with; ``RubricSnapshot`` stores the content
once per hash)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from alliance.querysets import ScopedQuerySet

from .. import scoring
from ..models import EvaluationPeriod, Indicator, Rubric, Subject

ZERO = scoring.ZERO


def rubric_versions(county_id: Any, school_year_id: Any, subject: Any = Subject.SCHOOL) -> ScopedQuerySet:
    """The county's rubrics for the school year and subject, the current one (the latest
    version) first."""
    return Rubric.objects.filter(county_id=county_id, school_year_id=school_year_id, subject=subject).order_by(
        "-version"
    )


def current_rubric(county_id: int, school_year_id: int, subject: str = Subject.SCHOOL) -> Rubric | None:
    return rubric_versions(county_id, school_year_id, subject).prefetch_related("dimensions__indicators").first()


def rubric_indicators(rubric: Rubric) -> list[tuple[Any, Indicator]]:
    return [(d, i) for d in rubric.dimensions.all() for i in d.indicators.all()]


def rubric_content(rubric: Rubric) -> dict[str, Any]:
    """Everything that changes a score, in a canonical form (the input of the content hash). A
    people's rubric names its subject; a school rubric's content is as it always was (its hash
    unchanged)."""
    content: dict[str, Any] = {
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
    if rubric.subject != Subject.SCHOOL:
        content["subject"] = rubric.subject
    return content


def rubric_hash(rubric: Rubric) -> str:
    canonical = json.dumps(rubric_content(rubric), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_points_total(rubric: Rubric) -> None:
    """Refuse a rubric whose structure cannot score (``services.rubric_structure_problems``:
    its rows, unique codes, max points adding up to 100)."""
    # Imported here: the services import this package (a real import cycle).
    from ..services.rubrics import rubric_structure_problems

    problems = rubric_structure_problems(rubric)
    if problems:
        raise ValidationError(problems, code="rubric_invalid")


def current_rubrics(periods: Iterable[EvaluationPeriod]) -> dict[int, Rubric]:
    """Period id → the newest rubric version of its county, school year and subject (two
    queries for any number of periods; a period without a rubric is left out)."""
    periods = list(periods)
    newest: dict[tuple[int, int, str], tuple[int, int]] = {}
    for pk, county_id, school_year_id, subject, version in Rubric.objects.filter(
        school_year_id__in={p.school_year_id for p in periods}, subject__in={p.subject for p in periods}
    ).values_list("pk", "county_id", "school_year_id", "subject", "version"):
        key = (county_id, school_year_id, subject)
        if key not in newest or version > newest[key][0]:
            newest[key] = (version, pk)
    rubrics = Rubric.objects.prefetch_related("dimensions__indicators").in_bulk([pk for _v, pk in newest.values()])
    out = {}
    for p in periods:
        found = newest.get((p.county_id, p.school_year_id, p.subject))
        if found is not None:
            out[p.pk] = rubrics[found[1]]
    return out
