"""The nightly evaluation run: one at a time (an advisory lock and a claimed run row), over
the open periods in batches of counties, each read in one snapshot while the previous one
is scored and written; the counties' schedules (``NightlySchedule``) that the beat task runs;
the heartbeat and the sweep that marks a run whose process died as abandoned; and queuing a
run from a request (which says so when the job queue is unreachable)."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
import traceback
from contextlib import contextmanager
from itertools import groupby
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from alliance import access
from alliance.models import County, School
from pgtools.snapshots import Readers

from ..compute import (
    BatchReads,
    check_points_total,
    current_rubrics,
    read_batch,
    read_people,
    score_batch,
    score_people,
)
from ..models import EvaluationPeriod, EvaluationRun, NightlySchedule, Subject
from .results import _outcomes_write, people_write

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of the evaluation run ("EVAL" in ASCII).
ADVISORY_LOCK_KEY = 0x4556414C


class RunRefused(Exception):
    """Another evaluation run is running; this one did nothing (but write its refused record)."""


class QueueUnavailable(Exception):
    """The job queue (the Celery broker) could not be reached: nothing was queued. The message
    is for the user; a run record with status ``not_queued`` says so too."""


def _refused(*, county: County | None, start_year: int | None, trigger: str) -> RunRefused:
    """The refused run's record (the claim's unique index is only on running rows), and the
    exception to raise."""
    message = _("Another evaluation run is in progress; this one was not started.")
    now = timezone.now()
    EvaluationRun.objects.create(
        county=county,
        start_year=start_year,
        started_at=now,
        finished_at=now,
        status=EvaluationRun.Status.REFUSED,
        error=message,
        trigger=trigger[:60],
    )
    return RunRefused(message)


class _Heartbeat:
    """Marks the run alive (``heartbeat_at``) at most every ``EVALUATION_HEARTBEAT_SECONDS``,
    on a short connection of its own in autocommit: the beat is seen at once even while the
    run's own connection is inside a transaction (a batch's write, or a caller's atomic block).
    ``SKIP LOCKED``: a beat never waits for the run's own row lock; a failed beat is logged,
    never fails the run."""

    def __init__(self, run_pk: int) -> None:
        self.run_pk = run_pk
        self.every = settings.EVALUATION_HEARTBEAT_SECONDS
        self.last = time.monotonic()

    def beat(self) -> None:
        if time.monotonic() - self.last < self.every:
            return
        self.last = time.monotonic()
        own = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with own.cursor() as cursor:
                cursor.execute(
                    # The application's clock, as the sweep compares it with the application's now.
                    f"UPDATE {EvaluationRun._meta.db_table} SET heartbeat_at = %s WHERE id = ("  # noqa: S608 (our table name)
                    f"SELECT id FROM {EvaluationRun._meta.db_table} WHERE id = %s AND status = %s "
                    "FOR UPDATE SKIP LOCKED)",
                    [timezone.now(), self.run_pk, EvaluationRun.Status.RUNNING],
                )
        except Exception:
            logger.warning("evaluation run %s: heartbeat failed", self.run_pk, exc_info=True)
        finally:
            own.close()


@contextmanager
def _advisory_lock():
    """A session advisory lock, released when we finish or the connection dies, so a crashed
    worker never blocks the next night. Yields whether it was acquired."""
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
    # Holding the advisory lock means no live process runs; a running row is a crashed one's.
    for run in EvaluationRun.objects.filter(status=EvaluationRun.Status.RUNNING):
        _abandon(run, _("Abandoned: the process running it ended."))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with transaction.atomic():
            return EvaluationRun.objects.create(
                county=county, start_year=start_year, started_at=now, heartbeat_at=now, backend_pid=pid,
                trigger=trigger[:60],
            )  # fmt: skip
    except IntegrityError:
        raise _refused(county=county, start_year=start_year, trigger=trigger) from None


def _abandon(run: EvaluationRun, reason: str) -> bool:
    """Mark a running run abandoned (a conditional UPDATE: whoever else got there first wins) and
    give back the schedules it had claimed, so their night runs again at the next tick."""
    with transaction.atomic():
        done = EvaluationRun.objects.filter(pk=run.pk, status=EvaluationRun.Status.RUNNING).update(
            status=EvaluationRun.Status.ABANDONED, finished_at=timezone.now(), error=reason
        )
        if done:
            NightlySchedule.objects.filter(last_run=run).update(last_run_on=None, last_run=None)
    return bool(done)


def evaluation_runs_sweep(*, now: dt.datetime | None = None) -> list[EvaluationRun]:
    """Mark as abandoned every running run whose heartbeat is older than
    ``EVALUATION_ABANDONED_AFTER`` seconds (its process was killed, its machine is gone or it is
    stuck), end its PostgreSQL session if that still holds the evaluation lock (so the next run
    is not refused), and give back its counties' schedules. Returns the runs swept."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.EVALUATION_ABANDONED_AFTER)
    stale = EvaluationRun.objects.filter(status=EvaluationRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    swept = []
    for run in stale:
        beat = run.heartbeat_at or run.started_at
        reason = _("Abandoned: no heartbeat since %(time)s (more than %(seconds)s s).") % {
            "time": timezone.localtime(beat).strftime("%Y-%m-%d %H:%M:%S"),
            "seconds": settings.EVALUATION_ABANDONED_AFTER,
        }
        if not _abandon(run, reason):
            continue
        if run.backend_pid:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                    "AND granted AND pid = %s AND pid <> pg_backend_pid()",
                    [ADVISORY_LOCK_KEY, run.backend_pid],
                )
        logger.warning("evaluation run %s swept as abandoned: %s", run.pk, reason)
        run.refresh_from_db()
        swept.append(run)
    return swept


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


def _valid_rubrics(periods: list[EvaluationPeriod], skipped: list[dict]) -> dict:
    """The periods' current rubrics, by period id, less those whose points do not add up to 100
    (edited behind the services' back): each of those is reported in ``skipped`` with why."""
    rubrics = current_rubrics(periods)
    for period in periods:
        rubric = rubrics.get(period.pk)
        if rubric is None:
            continue
        try:
            check_points_total(rubric)
        except ValidationError as exc:
            del rubrics[period.pk]
            skipped.append(
                {
                    "period": period.pk,
                    "county": period.county_id,
                    "rubric": rubric.pk,
                    "rubric_version": rubric.version,
                    "reason": " ".join(exc.messages),
                }
            )
    return rubrics


def _batch_read(batch: list[EvaluationPeriod], readers: Readers) -> tuple[BatchReads, list[dict]]:
    """A batch's rubrics and everything it is scored from, in one snapshot, and the periods
    skipped with why. A period without a rubric is skipped silently (nothing to score yet); one
    whose rubric is invalid (its points do not add up to 100: edited behind the services' back)
    is skipped and reported, and every other period is scored. The batch's rubrics only: a
    country's are read batch by batch, not held all run."""
    with readers.snapshot() as snapshot:
        skipped: list[dict] = []
        rubrics = _valid_rubrics(batch, skipped)
        return read_batch([p for p in batch if p.pk in rubrics], rubrics, snapshot), skipped


def _people_run(periods: list[EvaluationPeriod], skipped: list[dict]) -> tuple[int, int]:
    """Score and write the open principals' and teachers' periods (``compute.score_people``) in
    one transaction, skipping (and reporting) a period whose rubric is invalid and leaving out
    one proposed meanwhile. Returns the results written and the periods computed."""
    if not periods:
        return 0, 0
    rubrics = _valid_rubrics(periods, skipped)
    periods = [p for p in periods if p.pk in rubrics]
    outcomes = score_people(periods, rubrics, read_people(periods, rubrics))
    with transaction.atomic():
        still_open = set(
            EvaluationPeriod.objects.select_for_update(of=("self",))
            .filter(pk__in=[p.pk for p in periods], status=EvaluationPeriod.Status.OPEN)
            .values_list("pk", flat=True)
        )
        written = people_write([o for o in outcomes if o.period.pk in still_open])
    return written, len(outcomes)


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

    Refuses (``RunRefused``, after writing a ``refused`` run record) while another run is
    running. Works through the counties in batches of about ``EVALUATION_BATCH_SCHOOLS``
    schools: a batch's periods are read together (each metric once per batch and date window,
    ``compute.read_batch``), in one snapshot, on ``EVALUATION_READ_CONNECTIONS`` connections at
    once (``pgtools.snapshots``), then scored and written in one transaction while the next
    batch is read; so a failure keeps the last good results of every county not yet written (a
    county is never half-written) and memory is bounded by two batches. A period whose rubric
    is invalid is skipped and recorded on the run (``skipped``). Beats a heartbeat from the
    batch loop. Never touches proposed or published periods. Same inputs, same rows, however
    many connections read them."""
    with _advisory_lock() as acquired:
        if not acquired:
            raise _refused(county=county, start_year=start_year, trigger=trigger)
        run = _claim_run(county=county, start_year=start_year, trigger=trigger)
        return _run_claimed(run, county_ids=None if county is None else [county.pk], start_year=start_year)


def _schedules_due(now: dt.datetime) -> Any:
    local = timezone.localtime(now)
    return NightlySchedule.objects.filter(enabled=True, run_at__lte=local.time()).filter(
        Q(last_run_on__isnull=True) | Q(last_run_on__lt=local.date())
    )


def nightly_schedules_ensure(*, now: dt.datetime | None = None) -> int:
    """A schedule (02:00, on) for every county that has none; one whose time has already passed
    today first runs tomorrow. Returns how many were created."""
    local = timezone.localtime(now or timezone.now())
    missing = County.objects.filter(nightly_schedule__isnull=True)
    default = NightlySchedule.DEFAULT_RUN_AT
    created = NightlySchedule.objects.bulk_create(
        [NightlySchedule(county=c, last_run_on=local.date() if local.time() >= default else None) for c in missing],
        ignore_conflicts=True,
    )
    return len(created)


def nightly_due(*, now: dt.datetime | None = None) -> bool:
    """Whether a county's scheduled time has come today and no run is running (the beat
    task's cheap check before it runs ``evaluation_run_scheduled``)."""
    now = now or timezone.now()
    nightly_schedules_ensure(now=now)
    if EvaluationRun.objects.filter(status=EvaluationRun.Status.RUNNING).exists():
        return False
    return _schedules_due(now).exists()


def evaluation_run_scheduled(*, now: dt.datetime | None = None, trigger: str = "schedule") -> EvaluationRun | None:
    """Tonight's run of every county whose schedule is on and whose time has come today (local
    time) and that has not run today: claimed under the evaluation lock (a county's schedule
    records the run), scored as ``evaluation_run`` does. A county switched off is left out and
    changes nothing for the others. None (and no record) when no county is due; refused like
    ``evaluation_run`` while another run runs (nothing claimed, so the next tick tries again)."""
    now = now or timezone.now()
    with _advisory_lock() as acquired:
        if not acquired:
            raise _refused(county=None, start_year=None, trigger=trigger)
        county_ids = sorted(_schedules_due(now).values_list("county_id", flat=True))
        if not county_ids:
            return None
        one = County.objects.get(pk=county_ids[0]) if len(county_ids) == 1 else None
        run = _claim_run(county=one, start_year=None, trigger=trigger)
        NightlySchedule.objects.filter(county_id__in=county_ids).update(
            last_run_on=timezone.localtime(now).date(), last_run=run
        )
        return _run_claimed(run, county_ids=county_ids, start_year=None)


def _run_claimed(run: EvaluationRun, *, county_ids: list[int] | None, start_year: int | None) -> EvaluationRun:
    heartbeat = _Heartbeat(run.pk)
    try:
        open_periods = EvaluationPeriod.objects.filter(status=EvaluationPeriod.Status.OPEN).select_related(
            "school_year", "term"
        )
        if county_ids is not None:
            open_periods = open_periods.filter(county_id__in=county_ids)
        if start_year is not None:
            open_periods = open_periods.filter(school_year__start_year=start_year)
        # Principals' and teachers' periods are few and small: scored after the schools' batches.
        every = list(open_periods.order_by("county_id", "start_date", "pk"))
        periods = [p for p in every if p.subject == Subject.SCHOOL]
        people_periods = [p for p in every if p.subject != Subject.SCHOOL]
        counts = [0, 0, 0]
        computed = seen = 0
        skipped: list[dict] = []
        batches = _batches(periods, settings.EVALUATION_BATCH_SCHOOLS)
        with Readers(settings.EVALUATION_READ_CONNECTIONS) as readers:
            pending = readers.ahead(_batch_read, batches[0], readers) if batches else None
            for k, batch in enumerate(batches):
                with _without_cycle_collection():
                    assert pending is not None  # read ahead for this batch
                    reads, batch_skipped = pending.result()
                    heartbeat.beat()
                    skipped.extend(batch_skipped)
                    # The next batch is read while this one is scored and written.
                    pending = readers.ahead(_batch_read, batches[k + 1], readers) if k + 1 < len(batches) else None
                    outcomes = score_batch(reads)
                    del reads  # what was read is not needed to write: free it first
                    heartbeat.beat()
                    computed += len(outcomes)
                    seen += len(batch)
                    _outcomes_write(outcomes, counts)
                    del outcomes  # before the next batch is scored, not after
                    heartbeat.beat()
                # Progress is committed as we go (outside the results' transaction) so it can be watched.
                EvaluationRun.objects.filter(pk=run.pk).update(progress=int(99 * seen / len(periods)), skipped=skipped)
        people_count, people_computed = _people_run(people_periods, skipped)
        computed += people_computed
        heartbeat.beat()
        EvaluationRun.objects.filter(pk=run.pk, status=EvaluationRun.Status.RUNNING).update(
            status=EvaluationRun.Status.SUCCEEDED,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            progress=100,
            periods_count=computed,
            schools_count=counts[0],
            alliances_count=counts[1],
            warnings_count=counts[2],
            people_count=people_count,
            skipped=skipped,
        )
    except BaseException as exc:
        # Conditional: a run the sweep already marked abandoned keeps that record.
        EvaluationRun.objects.filter(pk=run.pk, status=EvaluationRun.Status.RUNNING).update(
            status=EvaluationRun.Status.FAILED,
            finished_at=timezone.now(),
            error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000],
        )
        raise
    run.refresh_from_db()
    return run


def evaluation_queue(*, actor: Any, county: County | None = None, start_year: int | None = None) -> None:
    """Queue the nightly job now, once the current transaction commits (a rolled-back request
    queues nothing). When the job queue (the broker) cannot be reached, nothing is queued: a
    ``not_queued`` run record says so and ``QueueUnavailable`` carries the message for the user
    (raised from the commit, so a caller inside ``atomic`` sees it when its block ends)."""
    if county is not None:
        access.require_bureau_of(actor, county.pk, _("Only the county's bureau staff may do this."))
    else:
        access.require_superuser(actor, _("Only the county's bureau staff may do this."))
    # Imported here: the tasks module imports the services (a real import cycle).
    from ..tasks import nightly_evaluation

    code = county.code if county else None

    def send() -> None:
        try:
            nightly_evaluation.delay(county_code=code, start_year=start_year)
        except BrokerError as exc:
            logger.error("evaluation not queued, the broker is unreachable: %s", exc)
            message = _(
                "The job queue cannot be reached, so the evaluation was not queued. "
                "Nothing was changed; please try again later."
            )
            now = timezone.now()
            EvaluationRun.objects.create(
                county=county,
                start_year=start_year,
                started_at=now,
                finished_at=now,
                status=EvaluationRun.Status.NOT_QUEUED,
                error=f"{message} ({type(exc).__name__}: {exc})"[:4000],
                trigger=f"queue: {actor.get_username()}"[:60],
            )
            raise QueueUnavailable(message) from exc

    transaction.on_commit(send)
