"""Writing computed outcomes: school and alliance results and decline warnings, under their
natural keys, in a fixed number of statements (``pgtools.bulk.sync_rows``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from pgtools.bulk import sync_rows

from ..compute import PeriodOutcome, rubric_content
from ..models import (
    AllianceResult,
    DeclineWarning,
    EvaluationPeriod,
    PersonResult,
    RubricSnapshot,
    SchoolResult,
    Subject,
)

# What the nightly job writes of a school result (its key is period and school).
SCHOOL_RESULT_FIELDS = (
    "alliance_id",
    "own_total",
    "final_score",
    "grade",
    "award_preview",
    "rubric_id",
    "rubric_version",
    "rubric_hash",
    "trace",
)


def outcome_write(outcome: PeriodOutcome) -> tuple[int, int, int]:
    """Write one period's results (``outcomes_write`` of one). Caller's transaction."""
    return outcomes_write([outcome])


def outcomes_write(outcomes: list[PeriodOutcome]) -> tuple[int, int, int]:
    """Write periods' results under their natural keys, in a fixed number of statements
    whatever the number of schools and periods; rows of schools (alliances, warnings) that
    dropped out of a period are removed. The rubrics' contents are stored once per hash for the
    traces to be explained (``trace.explain``). Caller's transaction. Returns the numbers of
    school results, alliance results and warnings written."""
    people = [o for o in outcomes if o.period.evaluates_people]
    if people:
        people_write(people)
        outcomes = [o for o in outcomes if not o.period.evaluates_people]
    if not outcomes:
        return 0, 0, 0
    snapshots = {o.rubric_hash: o.rubric for o in outcomes}
    RubricSnapshot.objects.bulk_create(
        [RubricSnapshot(content_hash=h, content=rubric_content(r)) for h, r in snapshots.items()],
        ignore_conflicts=True,
    )
    periods = [o.period.pk for o in outcomes]
    EvaluationPeriod.objects.filter(pk__in=periods).update(computed_at=timezone.now())
    school_rows = [
        {
            "period_id": o.period.pk,
            "school_id": s.school_id,
            "alliance_id": s.alliance_id,
            "own_total": s.own_total,
            "final_score": s.final_score,
            "grade": s.grade,
            "award_preview": s.award_preview,
            "rubric_id": o.rubric.pk,
            "rubric_version": o.rubric.version,
            "rubric_hash": o.rubric_hash,
            "trace": s.trace,
        }
        for o in outcomes
        for s in o.schools.values()
    ]
    sync_rows(
        SchoolResult,
        school_rows,
        keys=("period_id", "school_id"),
        update=SCHOOL_RESULT_FIELDS,
        within=("period_id", periods),
        digest="row_digest",
    )
    alliance_rows = [
        {
            "period_id": o.period.pk,
            "alliance_id": a.alliance_id,
            "score": a.score,
            "grade": a.grade,
            "rubric_version": o.rubric.version,
            "rubric_hash": o.rubric_hash,
            "trace": a.trace,
        }
        for o in outcomes
        for a in o.alliances.values()
    ]
    sync_rows(
        AllianceResult,
        alliance_rows,
        keys=("period_id", "alliance_id"),
        update=("score", "grade", "rubric_version", "rubric_hash", "trace"),
        within=("period_id", periods),
        digest="row_digest",
    )
    warning_rows = [
        {"period_id": o.period.pk, "school_id": s, "falls": falls, "scores": scores}
        for o in outcomes
        for s, (falls, scores) in o.warnings.items()
    ]
    sync_rows(
        DeclineWarning,
        warning_rows,
        keys=("period_id", "school_id"),
        update=("falls", "scores"),
        within=("period_id", periods),
    )
    return len(school_rows), len(alliance_rows), len(warning_rows)


PERSON_RESULT_FIELDS = (
    "subject",
    "school_id",
    "score",
    "grade",
    "falls",
    "decline_scores",
    "rubric_id",
    "rubric_version",
    "rubric_hash",
    "trace",
)


def people_write(outcomes: list[PeriodOutcome]) -> int:
    """Write principals' and teachers' periods' results under their natural keys (a
    principal's: period and school; a teacher's: period and teacher), as ``outcomes_write``
    writes schools'. Caller's transaction. Returns the number of results written."""
    if not outcomes:
        return 0
    RubricSnapshot.objects.bulk_create(
        [RubricSnapshot(content_hash=o.rubric_hash, content=rubric_content(o.rubric)) for o in outcomes],
        ignore_conflicts=True,
    )
    EvaluationPeriod.objects.filter(pk__in=[o.period.pk for o in outcomes]).update(computed_at=timezone.now())
    written = 0
    for subject, key in ((Subject.PRINCIPAL, "school_id"), (Subject.TEACHER, "teacher_id")):
        mine = [o for o in outcomes if o.period.subject == subject]
        rows = [
            {
                "period_id": o.period.pk,
                "subject": subject,
                "school_id": r.school_id,
                "teacher_id": r.teacher_id,
                "score": r.score,
                "grade": r.grade,
                "falls": r.falls,
                "decline_scores": r.decline_scores,
                "rubric_id": o.rubric.pk,
                "rubric_version": o.rubric.version,
                "rubric_hash": o.rubric_hash,
                "trace": r.trace,
            }
            for o in mine
            for r in o.people.values()
        ]
        update = tuple(f for f in (*PERSON_RESULT_FIELDS, "teacher_id") if f != key)
        sync_rows(
            PersonResult,
            rows,
            keys=("period_id", key),
            update=update,
            within=("period_id", [o.period.pk for o in mine]),
            digest="row_digest",
        )
        written += len(rows)
    return written


def _outcomes_write(outcomes: list[PeriodOutcome], counts: list[int]) -> None:
    """Write a batch's outcomes in one transaction, skipping periods proposed meanwhile (the
    proposal's figures stand); add the rows written to ``counts``."""
    with transaction.atomic():
        still_open = set(
            # of=self: the periods' ordering joins their county, whose row must stay unlocked (a
            # refused run's record and every other row of the county refer to it).
            EvaluationPeriod.objects.select_for_update(of=("self",))
            .filter(pk__in=[o.period.pk for o in outcomes], status=EvaluationPeriod.Status.OPEN)
            .values_list("pk", flat=True)
        )
        for i, c in enumerate(outcomes_write([o for o in outcomes if o.period.pk in still_open])):
            counts[i] += c
