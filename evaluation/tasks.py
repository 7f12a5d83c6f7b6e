"""The overnight job: a thin Celery entry point to ``services.evaluation_run``.

Arguments are keys only (a county code and a school year), so a redelivered or duplicated
message carries no stale state; the run's own lock makes a duplicate do nothing.
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
