"""Every write of the evaluation app: rubrics, values, the evaluation run, appeals and
publishing. Keyword-only, inside ``transaction.atomic``; bad input raises a ValidationError
with a message for the user and writes nothing."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import traceback
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from itertools import groupby
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.access import Role, role_of
from alliance.models import County, School, SchoolYear, Term
from pgtools.bulk import sync_rows
from pgtools.snapshots import Readers

from .awards import PolicyParams
from .compute import (
    BatchReads,
    PeriodOutcome,
    compute_period,
    current_rubric,
    current_rubrics,
    read_batch,
    rubric_content,
    rubric_hash,
    score_batch,
)
from .models import (
    AllianceResult,
    Appeal,
    Correction,
    DeclineWarning,
    Dimension,
    EvaluationPeriod,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    Publication,
    Rubric,
    RubricSnapshot,
    SchoolResult,
)

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of the evaluation run ("EVAL" in ASCII).
ADVISORY_LOCK_KEY = 0x4556414C
# On SQLite (no advisory locks) a running row older than this is taken for a dead process:
# the Redis visibility timeout after which the broker would redeliver the task anyway.
STALE_RUN_AFTER = dt.timedelta(hours=6)


class EvaluationError(StrEnum):
    NOT_BUREAU = "not_bureau"
    NOT_ASSESSOR_OF_SCHOOL = "not_assessor_of_school"
    LOCKED = "rubric_locked"
    POINTS_NOT_100 = "points_not_100"
    OUT_OF_RANGE = "out_of_range"
    PERIOD_NOT_OPEN = "period_not_open"
    PERIOD_PUBLISHED = "period_published"
    NOT_IN_RUBRIC = "not_in_rubric"
    NOTICE_OVER = "notice_over"
    NOTICE_RUNNING = "notice_running"
    OPEN_APPEALS = "open_appeals"
    OWN_PROPOSAL = "own_proposal"
    NO_REASON = "no_reason"
    NO_RESULTS = "no_results"
    APPEAL_DECIDED = "appeal_decided"
    NOT_PRINCIPAL = "not_principal"
    NO_LAST_YEAR = "no_last_year"
    EXISTS = "exists"
    NO_CORRECTION = "no_correction"


def _error(message: str, code: EvaluationError, field: str | None = None) -> ValidationError:
    if field:
        return ValidationError({field: ValidationError(message, code=code.value)})
    return ValidationError(message, code=code.value)


def _is_bureau_of(actor: Any, county_id: int) -> bool:
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return True
    return role_of(actor) == Role.BUREAU and actor.county_id == county_id


def _require_bureau(actor: Any, county_id: int) -> None:
    if not _is_bureau_of(actor, county_id):
        raise PermissionDenied(_("Only the county's bureau staff may do this."))


# --- rubrics -----------------------------------------------------------------------------

RUBRIC_SETTINGS = ("name", "beta", "bundling_basis", "alliance_averaging", "grade_bands", "decline_periods")


def _spec(code, name, max_points, method, metric="", rule="target", params=None, direction="higher", vmax="100"):
    return {
        "code": code,
        "name": name,
        "max_points": Decimal(max_points),
        "method": method,
        "metric_key": metric,
        "rule": rule,
        "rule_params": params if params is not None else {},
        "direction": direction,
        "value_min": Decimal(0),
        "value_max": Decimal(vmax),
    }


def default_rubric_structure() -> list[dict[str, Any]]:
    """Seed 003's seven school dimensions (组织保障达成度 … 学生发展成长度), 100 points."""
    M, C, S = Indicator.Method.MANUAL, Indicator.Method.COMPUTED, Indicator.Method.SURVEY
    satisfaction_bands = {"bands": [["95", "4"], ["90", "3.2"], ["80", "2.4"], ["60", "1.2"]]}
    return [
        {
            "code": "organisation",
            "name": _("Organisational guarantee"),
            "indicators": [
                _spec(
                    "mechanism",
                    _("Alliance mechanism, plan and division of work in place"),
                    6,
                    M,
                    params={"target": "100"},
                ),
                _spec(
                    "term_meetings", _("Term meetings held"), 3, C, "activities_term_meeting", params={"target": "2"}
                ),
                _spec(
                    "tasks_on_time",
                    _("Pairing tasks done on time"),
                    3,
                    C,
                    "pairing_tasks_on_time",
                    params={"target": "100"},
                ),
            ],
        },
        {
            "code": "management",
            "name": _("Management integration"),
            "indicators": [
                _spec(
                    "plan_execution",
                    _("70 % plan execution rate"),
                    6,
                    C,
                    "plan_execution_rate",
                    "bands",
                    {"bands": [["95", "6"], ["80", "4"], ["60", "2"]]},
                ),
                _spec(
                    "lead_visits",
                    _("Member schools visited by the lead school"),
                    4,
                    C,
                    "lead_visit_share",
                    params={"target": "100"},
                ),
                _spec("shared_management", _("Shared management systems and culture"), 4, M, params={"target": "100"}),
            ],
        },
        {
            "code": "resources",
            "name": _("Resource sharing"),
            "indicators": [
                _spec(
                    "resource_sharing",
                    _("Resource-sharing activities"),
                    4,
                    C,
                    "activities_resource_sharing",
                    params={"target": "6"},
                ),
                _spec(
                    "teaching_research", _("Teaching-research activities"), 4, C, "activities_teaching_research", "rank"
                ),
                _spec("training", _("Training person-times"), 4, C, "training_person_times", params={"target": "200"}),
                _spec(
                    "online_lessons",
                    _("Online and synchronous lessons"),
                    4,
                    C,
                    "activities_online_lesson",
                    params={"target": "10"},
                ),
            ],
        },
        {
            "code": "teachers",
            "name": _("Teacher growth"),
            "indicators": [
                _spec(
                    "days_sent", _("Exchange teacher-days sent"), 5, C, "exchange_days_sent", params={"target": "180"}
                ),
                _spec(
                    "days_hosted",
                    _("Exchange teacher-days hosted"),
                    4,
                    C,
                    "exchange_days_hosted",
                    params={"target": "180"},
                ),
                _spec(
                    "rotation",
                    _("Rotation ratio (national target ≥ 10 %)"),
                    5,
                    C,
                    "rotation_ratio",
                    params={"target": "10"},
                ),
                _spec("mentoring", _("Mentoring meetings held"), 4, C, "mentoring_meetings", params={"target": "8"}),
            ],
        },
        {
            "code": "quality",
            "name": _("Quality improvement"),
            "indicators": [
                _spec("academic_quality", _("Academic quality and its improvement"), 10, M, params={"target": "100"}),
                _spec(
                    "classroom_teaching", _("Classroom teaching (lesson observation)"), 6, M, params={"target": "100"}
                ),
            ],
        },
        {
            "code": "satisfaction",
            "name": _("Satisfaction"),
            "indicators": [
                _spec("teacher_satisfaction", _("Teachers' satisfaction (%)"), 4, S, "", "bands", satisfaction_bands),
                _spec("student_satisfaction", _("Students' satisfaction (%)"), 4, S, "", "bands", satisfaction_bands),
                _spec("parent_satisfaction", _("Parents' satisfaction (%)"), 4, S, "", "bands", satisfaction_bands),
            ],
        },
        {
            "code": "students",
            "name": _("Student development"),
            "indicators": [
                _spec("student_growth", _("Students' all-round development"), 8, M, params={"target": "100"}),
                _spec(
                    "culture_sports",
                    _("Cultural and sports events"),
                    4,
                    C,
                    "activities_culture_sports",
                    params={"target": "4"},
                ),
            ],
        },
    ]


def _structure_of(rubric: Rubric) -> list[dict[str, Any]]:
    fields = ("code", "name", "max_points", "method", "metric_key", "rule", "rule_params", "direction")
    return [
        {
            "code": d.code,
            "name": d.name,
            "indicators": [{f: getattr(i, f) for f in (*fields, "value_min", "value_max")} for i in d.indicators.all()],
        }
        for d in rubric.dimensions.prefetch_related("indicators")
    ]


def _write_structure(rubric: Rubric, structure: Iterable[Mapping[str, Any]]) -> None:
    """Replace the rubric's dimensions and indicators after validating every one of them."""
    errors: list[str] = []
    total = Decimal(0)
    dims: list[tuple[Dimension, list[Indicator]]] = []
    dim_codes: set[str] = set()
    for d_order, spec in enumerate(structure):
        dim = Dimension(rubric=rubric, code=spec.get("code", ""), name=spec.get("name", ""), order=d_order)
        if dim.code in dim_codes:
            errors.append(_("Dimension code “%(code)s” is used twice.") % {"code": dim.code})
        dim_codes.add(dim.code)
        inds = []
        codes: set[str] = set()
        for i_order, ispec in enumerate(spec.get("indicators", ())):
            ind = Indicator(dimension=dim, order=i_order, **{k: v for k, v in ispec.items() if k != "id"})
            try:
                ind.max_points = Decimal(str(ind.max_points))
                ind.full_clean(exclude=["dimension"], validate_unique=False)
            except (ValidationError, ArithmeticError) as exc:
                msgs = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                errors.append(f"{dim.name} / {ispec.get('name', '')}: " + " ".join(msgs))
                continue
            if ind.code in codes:
                errors.append(_("Indicator code “%(code)s” is used twice.") % {"code": ind.code})
            codes.add(ind.code)
            total += ind.max_points
            inds.append(ind)
        dims.append((dim, inds))
    if not errors and total != Decimal(100):
        raise _error(
            _("The indicators' max points add up to %(total)s; they must add up to 100.") % {"total": total},
            EvaluationError.POINTS_NOT_100,
        )
    if errors:
        raise ValidationError(errors)
    rubric.dimensions.all().delete()
    for dim, inds in dims:
        dim.save()
        for ind in inds:
            ind.dimension = dim
        Indicator.objects.bulk_create(inds)


def _rehash(rubric: Rubric) -> Rubric:
    rubric = Rubric.objects.prefetch_related("dimensions__indicators").get(pk=rubric.pk)
    rubric.content_hash = rubric_hash(rubric)
    Rubric.objects.filter(pk=rubric.pk).update(content_hash=rubric.content_hash)
    return rubric


def rubric_create(
    *, actor: Any, county: County, school_year: SchoolYear, structure: Iterable[Mapping[str, Any]], **settings: Any
) -> Rubric:
    """A new rubric (version 1) for a county's school year with its dimensions and indicators."""
    _require_bureau(actor, county.pk)
    with transaction.atomic():
        if Rubric.objects.filter(county=county, school_year=school_year).exists():
            raise _error(
                _("%(year)s already has a rubric; revise it instead.") % {"year": school_year}, EvaluationError.EXISTS
            )
        rubric = Rubric(county=county, school_year=school_year, version=1, **settings)
        rubric.name = rubric.name or _("Comprehensive evaluation plan %(year)s") % {"year": school_year}
        rubric.full_clean()
        rubric.save()
        _write_structure(rubric, structure)
        return _rehash(rubric)


def rubric_create_default(*, county: County, school_year: SchoolYear, actor: Any = None) -> Rubric:
    """Seed 003's seven dimensions as the county's rubric for the year (also used by the demo)."""
    if actor is not None:
        _require_bureau(actor, county.pk)
    with transaction.atomic():
        rubric = Rubric(
            county=county,
            school_year=school_year,
            version=1,
            name=_("Comprehensive evaluation plan %(year)s") % {"year": school_year},
        )
        rubric.full_clean()
        rubric.save()
        _write_structure(rubric, default_rubric_structure())
        return _rehash(rubric)


def rubric_update(
    *, actor: Any, rubric: Rubric, structure: Iterable[Mapping[str, Any]] | None = None, **settings: Any
) -> Rubric:
    """Change an unlocked rubric's settings and/or replace its dimensions and indicators."""
    _require_bureau(actor, rubric.county_id)
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        if rubric.locked:
            raise _error(
                _("This rubric is locked because values have been entered; revise it to make a new version."),
                EvaluationError.LOCKED,
            )
        for key, value in settings.items():
            if key not in RUBRIC_SETTINGS:
                raise ValueError(key)
            setattr(rubric, key, value)
        rubric.full_clean()
        rubric.save()
        if structure is not None:
            _write_structure(rubric, structure)
        return _rehash(rubric)


def rubric_revise(*, actor: Any, rubric: Rubric) -> Rubric:
    """A new, unlocked version copied from the rubric's latest version; it scores the year from
    now on and locks again when the next value is entered. Results keep the version they used."""
    _require_bureau(actor, rubric.county_id)
    with transaction.atomic():
        latest = (
            Rubric.objects.select_for_update()
            .filter(county_id=rubric.county_id, school_year_id=rubric.school_year_id)
            .order_by("-version")
            .first()
        )
        copy = Rubric(
            county_id=latest.county_id,
            school_year_id=latest.school_year_id,
            version=latest.version + 1,
            **{k: getattr(latest, k) for k in RUBRIC_SETTINGS},
        )
        copy.save()
        _write_structure(copy, _structure_of(latest))
        return _rehash(copy)


def rubric_copy(*, actor: Any, county: County, school_year: SchoolYear) -> Rubric:
    """This year's rubric as a copy of last year's latest version."""
    _require_bureau(actor, county.pk)
    last = (
        Rubric.objects.filter(county=county, school_year__start_year=school_year.start_year - 1)
        .order_by("-version")
        .first()
    )
    if last is None:
        raise _error(
            _("There is no rubric of the %(year)s school year to copy.") % {"year": school_year.start_year - 1},
            EvaluationError.NO_LAST_YEAR,
        )
    return rubric_create(
        actor=actor,
        county=county,
        school_year=school_year,
        structure=_structure_of(last),
        **{k: getattr(last, k) for k in RUBRIC_SETTINGS if k != "name"},
    )


# --- periods and values ------------------------------------------------------------------


def period_create(
    *, actor: Any, school_year: SchoolYear, term: Term | None = None, notice_days: int = 7
) -> EvaluationPeriod:
    _require_bureau(actor, school_year.county_id)
    with transaction.atomic():
        period = EvaluationPeriod(
            county_id=school_year.county_id,
            school_year=school_year,
            kind=EvaluationPeriod.Kind.TERM if term else EvaluationPeriod.Kind.YEAR,
            term=term,
            start_date=(term or school_year).start_date,
            end_date=(term or school_year).end_date,
            notice_days=notice_days,
        )
        period.full_clean()
        period.save()
        return period


def _check_value(indicator: Indicator, value: Any) -> Decimal:
    try:
        value = Decimal(str(value))
    except ArithmeticError:
        raise _error(_("Enter a number."), EvaluationError.OUT_OF_RANGE, "value") from None
    if not value.is_finite() or not (indicator.value_min <= value <= indicator.value_max):
        raise _error(
            _("%(indicator)s takes values from %(low)s to %(high)s.")
            % {
                "indicator": indicator.name,
                "low": format(indicator.value_min.normalize(), "f"),
                "high": format(indicator.value_max.normalize(), "f"),
            },
            EvaluationError.OUT_OF_RANGE,
            "value",
        )
    return value


def _indicator_of_period(period: EvaluationPeriod, indicator: Indicator) -> Rubric:
    rubric = current_rubric(period.county_id, period.school_year_id)
    if rubric is None or not Indicator.objects.filter(pk=indicator.pk, dimension__rubric=rubric).exists():
        raise _error(
            _("This indicator is not part of the current rubric of %(period)s.") % {"period": period},
            EvaluationError.NOT_IN_RUBRIC,
            "indicator",
        )
    return rubric


def _require_period_open(period: EvaluationPeriod) -> None:
    if period.status == EvaluationPeriod.Status.PUBLISHED:
        raise _error(
            _("%(period)s is published; its values can no longer change.") % {"period": period},
            EvaluationError.PERIOD_PUBLISHED,
        )
    if period.status != EvaluationPeriod.Status.OPEN:
        raise _error(
            _("%(period)s is under public notice; values change only through appeals.") % {"period": period},
            EvaluationError.PERIOD_NOT_OPEN,
        )


def indicator_value_set(
    *,
    actor: Any,
    period: EvaluationPeriod,
    indicator: Indicator,
    school: School,
    value: Any,
    comment: str = "",
    evidence: Any = None,
) -> IndicatorValue:
    """Enter (or change) a manual or survey value. Assessors only for their assigned schools;
    bureau staff for any school of the county. Locks the rubric."""
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        role = role_of(actor)
        if not _is_bureau_of(actor, period.county_id):
            if role != Role.ASSESSOR or actor.county_id != period.county_id:
                raise PermissionDenied(_("Only assessors and bureau staff enter indicator values."))
            if not actor.assessed_schools.filter(pk=school.pk).exists():
                raise _error(
                    _("%(school)s is not among the schools assigned to you.") % {"school": school},
                    EvaluationError.NOT_ASSESSOR_OF_SCHOOL,
                    "school",
                )
        if school.county_id != period.county_id:
            raise _error(_("The school belongs to another county."), EvaluationError.NOT_ASSESSOR_OF_SCHOOL, "school")
        _require_period_open(period)
        rubric = _indicator_of_period(period, indicator)
        if indicator.method == Indicator.Method.COMPUTED:
            raise _error(
                _("%(indicator)s is computed from logged data; correct it through an appeal.")
                % {"indicator": indicator.name},
                EvaluationError.NOT_IN_RUBRIC,
                "indicator",
            )
        value = _check_value(indicator, value)
        row, _created = IndicatorValue.objects.update_or_create(
            period=period,
            indicator=indicator,
            school=school,
            defaults={
                "value": value,
                "comment": comment,
                "entered_by": actor,
                **({"evidence": evidence} if evidence else {}),
            },
        )
        Rubric.objects.filter(pk=rubric.pk, locked=False).update(locked=True)
        return row


# --- writing results ---------------------------------------------------------------------


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
    if not outcomes:
        return 0, 0, 0
    snapshots = {o.rubric_hash: o.rubric for o in outcomes}
    RubricSnapshot.objects.bulk_create(
        [RubricSnapshot(content_hash=h, content=rubric_content(r)) for h, r in snapshots.items()],
        ignore_conflicts=True,
    )
    periods = [o.period.pk for o in outcomes]
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


def _outcomes_write(outcomes: list[PeriodOutcome], counts: list[int]) -> None:
    """Write a batch's outcomes in one transaction, skipping periods proposed meanwhile (the
    proposal's figures stand); add the rows written to ``counts``."""
    with transaction.atomic():
        still_open = set(
            EvaluationPeriod.objects.select_for_update()
            .filter(pk__in=[o.period.pk for o in outcomes], status=EvaluationPeriod.Status.OPEN)
            .values_list("pk", flat=True)
        )
        for i, c in enumerate(outcomes_write([o for o in outcomes if o.period.pk in still_open])):
            counts[i] += c


# --- the evaluation run ------------------------------------------------------------------


class RunRefused(Exception):
    """Another evaluation run is running; this one did nothing."""


@contextmanager
def _advisory_lock():
    """PostgreSQL: a session advisory lock, released when we finish or the connection dies,
    so a crashed worker never blocks the next night. Yields whether it was acquired."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def _claim_run(*, county: County | None, start_year: int | None, trigger: str) -> EvaluationRun:
    now = timezone.now()
    running = EvaluationRun.objects.filter(status=EvaluationRun.Status.RUNNING)
    # Holding the advisory lock means no live process runs; a running row is a crashed one's.
    stale = running if connection.vendor == "postgresql" else running.filter(started_at__lt=now - STALE_RUN_AFTER)
    stale.update(
        status=EvaluationRun.Status.FAILED, finished_at=now, error=_("Abandoned: the process running it ended.")
    )
    try:
        with transaction.atomic():
            return EvaluationRun.objects.create(
                county=county, start_year=start_year, started_at=now, trigger=trigger[:60]
            )
    except IntegrityError:
        raise RunRefused(_("Another evaluation run is in progress; this one was not started.")) from None


@contextmanager
def _without_cycle_collection():
    """No cyclic garbage collection meanwhile: a batch makes hundreds of thousands of small
    objects (values, trace entries) that live until its end, and Python's collector would walk
    them again and again to find no garbage (about a second of every ten at 20,000 schools,
    bench/README.md). Reference counting frees as usual; any cycle made meanwhile is collected
    once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _batch_read(batch: list[EvaluationPeriod], readers: Readers) -> BatchReads:
    """A batch's rubrics and everything it is scored from, in one snapshot. A period without a
    rubric is skipped. The batch's rubrics only: a country's are read batch by batch, not held
    all run."""
    with readers.snapshot() as snapshot:
        rubrics = current_rubrics(batch)
        return read_batch([p for p in batch if p.pk in rubrics], rubrics, snapshot)


def _batches(periods: list[EvaluationPeriod], limit: int) -> list[list[EvaluationPeriod]]:
    """Whole counties' periods, grouped so that a batch has about ``limit`` schools (a county
    larger than that is a batch of its own): memory is bounded by the batch, not the province.
    Counties are taken in the order of their schools' ids, so that a batch's schools lie close
    together (see ``AnyOf``)."""
    sizes = {
        county_id: (n, first)
        for county_id, n, first in School.objects.filter(county_id__in={p.county_id for p in periods})
        .values("county_id")
        .annotate(n=Count("pk"), first=Min("pk"))
        .values_list("county_id", "n", "first")
        .order_by()
    }
    by_county = {county_id: list(ps) for county_id, ps in groupby(periods, key=lambda p: p.county_id)}
    batches: list[list[EvaluationPeriod]] = []
    size = 0
    for county_id in sorted(by_county, key=lambda c: (sizes.get(c, (0, 0))[1], c)):
        n = sizes.get(county_id, (0, 0))[0]
        if not batches or (size and size + n > limit):
            batches.append([])
            size = 0
        batches[-1].extend(by_county[county_id])
        size += n
    return batches


def evaluation_run(
    *, county: County | None = None, start_year: int | None = None, trigger: str = "manual"
) -> EvaluationRun:
    """Recompute every open period (of a county and/or school year): computed indicators,
    school and alliance scores, grades, decline warnings and the award preview.

    Refuses (``RunRefused``) while another run is running. Works through the counties in
    batches of about ``EVALUATION_BATCH_SCHOOLS`` schools: a batch's periods are read
    together (each metric once per batch and date window, ``compute.read_batch``), in one
    snapshot, on ``EVALUATION_READ_CONNECTIONS`` connections at once (``pgtools.snapshots``),
    then scored and written in one transaction while the next batch is read; so a failure
    keeps the last good results of every county not yet written (a county is never
    half-written) and memory is bounded by two batches. Never touches proposed or published
    periods. Same inputs, same rows, however many connections read them."""
    with _advisory_lock() as acquired:
        if not acquired:
            raise RunRefused(_("Another evaluation run is in progress; this one was not started."))
        run = _claim_run(county=county, start_year=start_year, trigger=trigger)
        try:
            periods = EvaluationPeriod.objects.filter(status=EvaluationPeriod.Status.OPEN).select_related(
                "school_year", "term"
            )
            if county is not None:
                periods = periods.filter(county=county)
            if start_year is not None:
                periods = periods.filter(school_year__start_year=start_year)
            periods = list(periods.order_by("county_id", "start_date", "pk"))
            counts = [0, 0, 0]
            computed = seen = 0
            batches = _batches(periods, settings.EVALUATION_BATCH_SCHOOLS)
            with Readers(settings.EVALUATION_READ_CONNECTIONS) as readers:
                pending = readers.ahead(_batch_read, batches[0], readers) if batches else None
                for k, batch in enumerate(batches):
                    with _without_cycle_collection():
                        reads = pending.result()
                        # The next batch is read while this one is scored and written.
                        pending = readers.ahead(_batch_read, batches[k + 1], readers) if k + 1 < len(batches) else None
                        outcomes = score_batch(reads)
                        del reads  # what was read is not needed to write: free it first
                        computed += len(outcomes)
                        seen += len(batch)
                        _outcomes_write(outcomes, counts)
                        del outcomes  # before the next batch is scored, not after
                    # Progress is committed as we go (outside the results' transaction) so it can be watched.
                    EvaluationRun.objects.filter(pk=run.pk).update(progress=int(99 * seen / len(periods)))
            EvaluationRun.objects.filter(pk=run.pk).update(
                status=EvaluationRun.Status.SUCCEEDED,
                finished_at=timezone.now(),
                progress=100,
                periods_count=computed,
                schools_count=counts[0],
                alliances_count=counts[1],
                warnings_count=counts[2],
            )
        except BaseException as exc:
            EvaluationRun.objects.filter(pk=run.pk).update(
                status=EvaluationRun.Status.FAILED,
                finished_at=timezone.now(),
                error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000],
            )
            raise
        run.refresh_from_db()
        return run


def evaluation_queue(*, actor: Any, county: County | None = None, start_year: int | None = None) -> None:
    """Queue the nightly job now, once the current transaction commits (a rolled-back request
    queues nothing)."""
    if county is not None:
        _require_bureau(actor, county.pk)
    elif not (actor.is_superuser and actor.is_active):
        raise PermissionDenied(_("Only the county's bureau staff may do this."))
    from .tasks import nightly_evaluation

    code = county.code if county else None
    transaction.on_commit(lambda: nightly_evaluation.delay(county_code=code, start_year=start_year))


# --- what-if preview ---------------------------------------------------------------------


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
    _require_bureau(actor, period.county_id)
    if beta is not None and not (Decimal(0) <= beta <= Decimal(1)):
        raise _error(_("β must be between 0 and 1."), EvaluationError.OUT_OF_RANGE, "beta")
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
                "current_score": cur.final_score,
                "new_score": nxt.final_score,
                "current_grade": cur.grade,
                "new_grade": nxt.grade,
                "current_award": cur.award_preview,
                "new_award": nxt.award_preview,
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


# --- publishing: proposal, public notice, appeals, approval ------------------------------


def publication_propose(*, actor: Any, period: EvaluationPeriod, notice_days: int | None = None) -> EvaluationPeriod:
    """Recompute the period and show it to the principals for the public notice (公示)."""
    _require_bureau(actor, period.county_id)
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        _require_period_open(period)
        days = notice_days or period.notice_days
        if days < 1:
            raise _error(_("The public notice lasts at least one day."), EvaluationError.OUT_OF_RANGE, "notice_days")
        outcome = compute_period(period)
        if not outcome.schools:
            raise _error(_("There are no results to propose."), EvaluationError.NO_RESULTS)
        outcome_write(outcome)
        now = timezone.now()
        period.status = EvaluationPeriod.Status.PROPOSED
        period.proposed_by = actor
        period.proposed_at = now
        period.notice_days = days
        period.notice_ends_at = now + dt.timedelta(days=days)
        period.save()
        return period


def appeal_file(
    *, actor: Any, period: EvaluationPeriod, indicator: Indicator, reason: str, evidence: Any = None
) -> Appeal:
    """申诉: a principal contests an indicator value of its own school during the notice."""
    role = role_of(actor)
    if role not in (Role.LEAD_PRINCIPAL, Role.MEMBER_PRINCIPAL) or not actor.school_id:
        raise PermissionDenied(_("Only a school's principal may appeal its result."))
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        if period.county_id != actor.school.county_id:
            raise PermissionDenied(_("Only a school's principal may appeal its result."))
        if period.status != EvaluationPeriod.Status.PROPOSED or timezone.now() >= period.notice_ends_at:
            raise _error(
                _("Appeals are accepted only during the public notice of %(period)s.") % {"period": period},
                EvaluationError.NOTICE_OVER,
            )
        if not (reason or "").strip():
            raise _error(_("Give the reason for the appeal."), EvaluationError.NO_REASON, "reason")
        _indicator_of_period(period, indicator)
        return Appeal.objects.create(
            period=period,
            school_id=actor.school_id,
            indicator=indicator,
            reason=reason.strip(),
            evidence=evidence or "",
            filed_by=actor,
        )


def _open_appeal(appeal: Appeal, actor: Any) -> Appeal:
    _require_bureau(actor, appeal.school.county_id)
    appeal = Appeal.objects.select_for_update().select_related("period", "indicator", "school").get(pk=appeal.pk)
    if appeal.status != Appeal.Status.OPEN:
        raise _error(_("This appeal has already been decided."), EvaluationError.APPEAL_DECIDED)
    return appeal


def appeal_accept(*, actor: Any, appeal: Appeal, value: Any, decision: str = "") -> Appeal:
    """Correct the value as appealed and recompute the period's results."""
    with transaction.atomic():
        appeal = _open_appeal(appeal, actor)
        period = EvaluationPeriod.objects.select_for_update().get(pk=appeal.period_id)
        if period.status != EvaluationPeriod.Status.PROPOSED:
            raise _error(
                _("%(period)s is no longer under public notice.") % {"period": period}, EvaluationError.NOTICE_OVER
            )
        value = _check_value(appeal.indicator, value)
        IndicatorValue.objects.update_or_create(
            period=period,
            indicator=appeal.indicator,
            school=appeal.school,
            defaults={
                "value": value,
                "entered_by": actor,
                "comment": _("Corrected after appeal #%(id)s") % {"id": appeal.pk},
            },
        )
        outcome_write(compute_period(period))
        appeal.status = Appeal.Status.ACCEPTED
        appeal.corrected_value = value
        appeal.decision = (decision or "").strip()
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.save()
        return appeal


def appeal_reject(*, actor: Any, appeal: Appeal, decision: str) -> Appeal:
    with transaction.atomic():
        appeal = _open_appeal(appeal, actor)
        if not (decision or "").strip():
            raise _error(_("Give the reason for rejecting the appeal."), EvaluationError.NO_REASON, "decision")
        appeal.status = Appeal.Status.REJECTED
        appeal.decision = decision.strip()
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.save()
        return appeal


def _funding_year(period: EvaluationPeriod):
    from funding.models import FundingYear

    return FundingYear.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id).first()


def _book(period: EvaluationPeriod, actor: Any, awards: Mapping[int, Decimal], memo: str) -> int | None:
    from funding.services import awards_book

    funding_year = _funding_year(period)
    positive = {s: a for s, a in awards.items() if a and a > 0}
    if funding_year is None or not positive:
        return None
    return awards_book(funding_year=funding_year, awards=positive, actor=actor, memo=memo).pk


def publication_approve(*, actor: Any, period: EvaluationPeriod) -> Publication:
    """The second bureau user's approval after the notice: freezes scores and awards and books
    the awards (pool → schools) in the same transaction."""
    _require_bureau(actor, period.county_id)
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        if period.status == EvaluationPeriod.Status.PUBLISHED:
            raise _error(_("%(period)s is already published.") % {"period": period}, EvaluationError.PERIOD_PUBLISHED)
        if period.status != EvaluationPeriod.Status.PROPOSED:
            raise _error(_("Propose the results before approving them."), EvaluationError.PERIOD_NOT_OPEN)
        if period.proposed_by_id == actor.pk:
            raise _error(
                _("A different bureau user must approve what you proposed (four eyes)."), EvaluationError.OWN_PROPOSAL
            )
        if timezone.now() < period.notice_ends_at:
            raise _error(
                _("The public notice runs until %(end)s.")
                % {"end": timezone.localtime(period.notice_ends_at).strftime("%Y-%m-%d %H:%M")},
                EvaluationError.NOTICE_RUNNING,
            )
        if period.appeals.filter(status=Appeal.Status.OPEN).exists():
            raise _error(_("Decide the open appeals first."), EvaluationError.OPEN_APPEALS)
        SchoolResult.objects.filter(period=period).update(award=F("award_preview"))
        awards = dict(SchoolResult.objects.filter(period=period, award__isnull=False).values_list("school_id", "award"))
        entry_id = _book(period, actor, awards, _("Differential awards, %(period)s") % {"period": period})
        now = timezone.now()
        period.status = EvaluationPeriod.Status.PUBLISHED
        period.approved_by = actor
        period.approved_at = now
        period.save()
        return Publication.objects.create(
            period=period,
            revision=1,
            proposed_by_id=period.proposed_by_id,
            approved_by=actor,
            approved_at=now,
            awards={str(s): str(a) for s, a in sorted(awards.items())},
            ledger_entry_id=entry_id,
        )


def correction_propose(
    *,
    actor: Any,
    period: EvaluationPeriod,
    reason: str,
    corrections: Iterable[tuple[Indicator, School, Any]] = (),
) -> Correction:
    """Propose a correction of a published period (a published period is never unpublished: a
    correction becomes a new published revision once a different bureau user approves it,
    ``correction_approve``). The values are checked now; nothing changes until then. One
    correction of a period waits at a time."""
    _require_bureau(actor, period.county_id)
    if not (reason or "").strip():
        raise _error(_("Give the reason for the correction."), EvaluationError.NO_REASON, "reason")
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        if period.status != EvaluationPeriod.Status.PUBLISHED:
            raise _error(_("Only a published period is corrected this way."), EvaluationError.PERIOD_NOT_OPEN)
        if period.corrections.filter(status=Correction.Status.PENDING).exists():
            raise _error(
                _("A correction of %(period)s is waiting for approval: approve or reject it first.")
                % {"period": period},
                EvaluationError.EXISTS,
            )
        values = []
        for indicator, school, value in corrections:
            _indicator_of_period(period, indicator)
            if school.county_id != period.county_id:
                raise _error(_("The school belongs to another county."), EvaluationError.NOT_IN_RUBRIC, "school")
            values.append(
                {"indicator": indicator.pk, "school": school.pk, "value": str(_check_value(indicator, value))}
            )
        return Correction.objects.create(period=period, reason=reason.strip(), values=values, proposed_by=actor)


def _pending_correction(period: EvaluationPeriod) -> Correction:
    correction = period.corrections.select_for_update().filter(status=Correction.Status.PENDING).first()
    if correction is None:
        raise _error(
            _("No correction of %(period)s is waiting for approval.") % {"period": period},
            EvaluationError.NO_CORRECTION,
        )
    return correction


def correction_approve(*, actor: Any, period: EvaluationPeriod) -> Publication:
    """A different bureau user approves the period's waiting correction: the corrected values
    are written, the period recomputed, the last revision's award entry reversed and the new
    awards booked as a new published revision, with the correction's reason, in one
    transaction."""
    from funding.models import LedgerEntry
    from funding.services import entry_reverse

    _require_bureau(actor, period.county_id)
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        correction = _pending_correction(period)
        if correction.proposed_by_id == actor.pk:
            raise _error(
                _("A different bureau user must approve what you proposed (four eyes)."), EvaluationError.OWN_PROPOSAL
            )
        for v in correction.values:
            IndicatorValue.objects.update_or_create(
                period=period,
                indicator_id=v["indicator"],
                school_id=v["school"],
                defaults={
                    "value": Decimal(v["value"]),
                    "entered_by_id": correction.proposed_by_id,
                    "comment": correction.reason,
                },
            )
        last = period.publications.order_by("-revision").first()
        outcome_write(compute_period(period))
        SchoolResult.objects.filter(period=period).update(award=F("award_preview"))
        if last.ledger_entry_id:
            reversal = entry_reverse(
                entry=LedgerEntry.objects.get(pk=last.ledger_entry_id), actor=actor, reason=correction.reason
            )
            Publication.objects.filter(pk=last.pk).update(reversal_entry_id=reversal.pk)
        awards = dict(SchoolResult.objects.filter(period=period, award__isnull=False).values_list("school_id", "award"))
        revision = (period.publications.aggregate(m=Max("revision"))["m"] or 0) + 1
        entry_id = _book(
            period,
            actor,
            awards,
            _("Differential awards, %(period)s, revision %(n)s") % {"period": period, "n": revision},
        )
        now = timezone.now()
        publication = Publication.objects.create(
            period=period,
            revision=revision,
            proposed_by_id=correction.proposed_by_id,
            approved_by=actor,
            approved_at=now,
            reason=correction.reason,
            awards={str(s): str(a) for s, a in sorted(awards.items())},
            ledger_entry_id=entry_id,
        )
        correction.status = Correction.Status.APPROVED
        correction.decided_by, correction.decided_at, correction.publication = actor, now, publication
        correction.save()
        return publication


def correction_reject(*, actor: Any, period: EvaluationPeriod, decision: str) -> Correction:
    """Reject (or, by its proposer, withdraw) the period's waiting correction, with the reason.
    Nothing else changes."""
    _require_bureau(actor, period.county_id)
    if not (decision or "").strip():
        raise _error(_("Give the reason for the decision."), EvaluationError.NO_REASON, "decision")
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        correction = _pending_correction(period)
        correction.status = Correction.Status.REJECTED
        correction.decided_by, correction.decided_at, correction.decision = actor, timezone.now(), decision.strip()
        correction.save()
        return correction
