"""Scoring principals' and teachers' periods (seed 003) in memory, with the school path's own
pieces: the rubric's indicators scored by ``scoring_run._indicator_points`` (the same rules,
sources and trace entries, the subject id in place of the school id), its grade bands and its
decline check. No bundling, no alliances, no awards (docs/adr/0008).

A principal's subject is the school's principal position: its id is the school's, so the
school metrics of the registry serve a principals' rubric's computed indicators as they are.
A teacher's subject is the ``staffing.Teacher`` row; a teachers' rubric has manual and survey
indicators only (there is no per-teacher metric). Reads are set-based: a fixed number of
queries whatever the number of people, plus one per metric of a principals' rubric."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from alliance.models import School
from pgtools.querysets import tuples
from staffing.models import Teacher

from .. import scoring
from ..metrics import REGISTRY, Window
from ..models import EvaluationPeriod, IndicatorValue, PersonResult, Rubric, Subject
from ..trace import TRACE_FORMAT
from .rubric_content import rubric_hash, rubric_indicators


@dataclass
class PersonOutcome:
    subject_id: int  # the school's id for a principal, the teacher's for a teacher
    school_id: int
    teacher_id: int | None
    score: Decimal
    grade: str
    trace: dict[str, Any]
    falls: int = 0  # set only when the decline reaches the rubric's ``decline_periods``
    decline_scores: list[str] = field(default_factory=list)


@dataclass
class PeopleInputs:
    subjects: dict[int, dict[int, int]]  # period → subject id → school id
    entered: dict[int, dict[str, dict[int, Decimal]]]  # period → indicator code → subject id → value
    earlier: dict[int, list[int]]  # period → its last n earlier periods of its kind and subject
    stored: dict[int, dict[int, Decimal]]  # earlier period → subject id → score
    metric_values: dict[int, dict[str, dict[int, Decimal]]]  # period → metric key → school → value


def _read_subjects(periods: list[EvaluationPeriod]) -> dict[int, dict[int, int]]:
    """Each period's people: the county's active schools (their principal positions) or the
    active teachers of its active schools."""
    counties = {s: {p.county_id for p in periods if p.subject == s} for s in (Subject.PRINCIPAL, Subject.TEACHER)}
    schools: dict[int, dict[int, int]] = defaultdict(dict)
    if counties[Subject.PRINCIPAL]:
        for pk, county_id in tuples(
            School.objects.filter(county_id__in=counties[Subject.PRINCIPAL], active=True).values_list("pk", "county_id")
        ):
            schools[county_id][pk] = pk
    teachers: dict[int, dict[int, int]] = defaultdict(dict)
    if counties[Subject.TEACHER]:
        for pk, school_id, county_id in tuples(
            Teacher.objects.filter(
                school__county_id__in=counties[Subject.TEACHER], active=True, school__active=True
            ).values_list("pk", "school_id", "school__county_id")
        ):
            teachers[county_id][pk] = school_id
    return {p.pk: dict((schools if p.subject == Subject.PRINCIPAL else teachers)[p.county_id]) for p in periods}


def _read_entered(periods: list[EvaluationPeriod]) -> dict[int, dict[str, dict[int, Decimal]]]:
    """Period → indicator code → subject id → value; the newest rubric version's value wins."""
    subject_of = {p.pk: p.subject for p in periods}
    rows = tuples(
        IndicatorValue.objects.filter(period_id__in=list(subject_of))
        .values_list("period_id", "school_id", "teacher_id", "indicator__code", "value")
        .order_by("indicator__dimension__rubric__version", "pk")
    )
    out: dict[int, dict[str, dict[int, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for period_id, school_id, teacher_id, code, value in rows:
        subject_id = teacher_id if subject_of[period_id] == Subject.TEACHER else school_id
        if subject_id is not None:
            out[period_id][code][subject_id] = value
    return out


def _read_history(
    periods: list[EvaluationPeriod], rubrics: Mapping[int, Rubric]
) -> tuple[dict[int, list[int]], dict[int, dict[int, Decimal]]]:
    """Each period's last n earlier periods of its county, kind and subject (oldest first), and
    the stored scores of those periods."""
    by_key: dict[tuple[int, str, str], list[tuple[Any, int]]] = defaultdict(list)
    for pk, county_id, kind, subject, start in EvaluationPeriod.objects.filter(
        county_id__in={p.county_id for p in periods}, subject__in={p.subject for p in periods}
    ).values_list("pk", "county_id", "kind", "subject", "start_date"):
        by_key[(county_id, kind, subject)].append((start, pk))
    earlier: dict[int, list[int]] = {}
    for p in periods:
        n = rubrics[p.pk].decline_periods
        before = sorted((s, pk) for s, pk in by_key[(p.county_id, p.kind, p.subject)] if s < p.start_date)
        earlier[p.pk] = [pk for _s, pk in before[-n:]] if n else []
    stored: dict[int, dict[int, Decimal]] = defaultdict(dict)
    wanted = {pk for ids in earlier.values() for pk in ids}
    for period_id, school_id, teacher_id, score in tuples(
        PersonResult.objects.filter(period_id__in=wanted).values_list("period_id", "school_id", "teacher_id", "score")
    ):
        stored[period_id][teacher_id if teacher_id is not None else school_id] = score
    return earlier, stored


def _read_metrics(
    period: EvaluationPeriod, rubric: Rubric, subjects: Mapping[int, int]
) -> dict[str, dict[int, Decimal]]:
    """A principals' rubric's computed indicators: the registry's school metrics over the
    period's schools (a principal's position is its school). None for teachers."""
    keys = frozenset(i.metric_key for _d, i in rubric_indicators(rubric) if i.metric_key)
    if period.subject != Subject.PRINCIPAL or not keys:
        return {}
    window = Window(sorted(subjects), period.start_date, period.end_date, [period.school_year_id], keys)
    return {key: REGISTRY[key](window) for key in sorted(keys)}


def read_people(periods: Iterable[EvaluationPeriod], rubrics: Mapping[int, Rubric]) -> PeopleInputs:
    periods = sorted(periods, key=lambda p: (p.county_id, p.start_date, p.pk))
    if not periods:
        return PeopleInputs({}, {}, {}, {}, {})
    subjects = _read_subjects(periods)
    earlier, stored = _read_history(periods, rubrics)
    metrics = {p.pk: _read_metrics(p, rubrics[p.pk], subjects[p.pk]) for p in periods}
    return PeopleInputs(subjects, _read_entered(periods), earlier, stored, metrics)


def score_people(periods: Iterable[EvaluationPeriod], rubrics: Mapping[int, Rubric], inputs: PeopleInputs) -> list[Any]:
    """Each people's period's ``PeriodOutcome`` (its ``people``), oldest first per county: an
    earlier period's outcome is the history of a later one."""
    from .scoring_run import PeriodOutcome, _indicator_points

    hashes: dict[int, str] = {}
    scorers: dict[tuple[str, str], tuple[Callable, dict]] = {}
    fresh: dict[int, dict[int, Decimal]] = {}
    outcomes = []
    for p in sorted(periods, key=lambda p: (p.county_id, p.start_date, p.pk)):
        rubric = rubrics[p.pk]
        if rubric.pk not in hashes:
            hashes[rubric.pk] = rubric_hash(rubric)
        digest = hashes[rubric.pk]
        subjects = inputs.subjects.get(p.pk, {})
        ids = sorted(subjects)
        totals, trace_values = _indicator_points(
            ids, rubric_indicators(rubric), inputs.metric_values.get(p.pk, {}), inputs.entered.get(p.pk, {}), digest,
            scorers,
        )  # fmt: skip
        earlier = inputs.earlier.get(p.pk, [])
        history = {pk: fresh[pk] if pk in fresh else inputs.stored.get(pk, {}) for pk in earlier}
        grade_of = scoring.grader(rubric.grade_bands)
        outcome = PeriodOutcome(period=p, rubric=rubric, rubric_hash=digest)
        trace_rubric = {"id": rubric.pk, "version": rubric.version, "hash": digest}
        teacher = p.subject == Subject.TEACHER
        for i in ids:
            score = totals[i]
            grade = grade_of(score)
            school_id = subjects[i]
            trace: dict[str, Any] = {
                "format": TRACE_FORMAT,
                "rubric": dict(trace_rubric),
                "subject": {"kind": p.subject, "school_id": school_id, "teacher_id": i if teacher else None},
                "indicators": trace_values[i],
                "own_total": str(score),
                "grade": grade,
            }
            person = PersonOutcome(i, school_id, i if teacher else None, score, grade, trace)
            if earlier:  # a first period has nothing to fall from
                scores = [history[e][i] for e in earlier if i in history[e]] + [score]
                falls = scoring.consecutive_falls(scores)
                if falls >= rubric.decline_periods:
                    person.falls, person.decline_scores = falls, [str(x) for x in scores]
                    trace["decline"] = {"falls": falls, "scores": person.decline_scores}
            outcome.people[i] = person
        fresh[p.pk] = {i: o.score for i, o in outcome.people.items()}
        outcomes.append(outcome)
    return outcomes
