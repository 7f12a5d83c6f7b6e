"""The overnight jobs: thin Celery entry points to the nightly services.

Arguments are keys only (a county code and a school year), so a redelivered or duplicated
message carries no stale state; the run's own lock makes a duplicate do nothing but write its
``refused`` record. Beat sends ``nightly_tick`` and ``sweep_abandoned_runs`` every minute
(``CELERY_BEAT_SCHEDULE`` in settings); each county's time and on/off is its
``NightlySchedule`` row, which its bureau staff edit.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from alliance.models import County

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    name="evaluation.nightly_evaluation",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def nightly_evaluation(county_code: str | None = None, start_year: int | None = None) -> dict:
    county = County.objects.get(code=county_code) if county_code else None
    try:
        run = services.evaluation_run(county=county, start_year=start_year, trigger="celery")
    except services.RunRefused as exc:
        logger.info("nightly evaluation skipped: %s", exc)
        return {"status": "refused"}
    return {"status": run.status, "run": run.pk, "schools": run.schools_count}


@shared_task(name="evaluation.nightly_tick", acks_late=True)
def nightly_tick() -> dict:
    """Run tonight's evaluation of every county whose scheduled time has come (and is on)."""
    if not services.nightly_due():
        return {"status": "nothing due"}
    try:
        run = services.evaluation_run_scheduled()
    except services.RunRefused as exc:
        logger.info("scheduled evaluation skipped: %s", exc)
        return {"status": "refused"}
    if run is None:
        return {"status": "nothing due"}
    return {"status": run.status, "run": run.pk, "schools": run.schools_count}


@shared_task(name="evaluation.sweep_abandoned_runs")
def sweep_abandoned_runs() -> dict:
    """Mark runs whose heartbeat stopped as abandoned and release what they held."""
    swept = services.evaluation_runs_sweep()
    return {"abandoned": [run.pk for run in swept]}
