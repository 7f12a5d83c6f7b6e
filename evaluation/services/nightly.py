"""The nightly evaluation run: one at a time (an advisory lock and a claimed run row), over
the open periods in batches of counties, each read in one snapshot while the previous one
is scored and written; and queuing it from a request."""

from __future__ import annotations

import gc
import traceback
from contextlib import contextmanager
from itertools import groupby
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import County, School
from pgtools.snapshots import Readers

from ..compute import BatchReads, current_rubrics, read_batch, score_batch
from ..models import EvaluationPeriod, EvaluationRun
from .results import _outcomes_write

# pg_try_advisory_lock key of the evaluation run ("EVAL" in ASCII).
ADVISORY_LOCK_KEY = 0x4556414C


class RunRefused(Exception):
    """Another evaluation run is running; this one did nothing."""


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
    running = EvaluationRun.objects.filter(status=EvaluationRun.Status.RUNNING)
    # Holding the advisory lock means no live process runs; a running row is a crashed one's.
    running.update(
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
        access.require_bureau_of(actor, county.pk)
    else:
        access.require_superuser(actor)
    # Imported here: the tasks module imports the services (a real import cycle).
    from ..tasks import nightly_evaluation

    code = county.code if county else None
    transaction.on_commit(lambda: nightly_evaluation.delay(county_code=code, start_year=start_year))
