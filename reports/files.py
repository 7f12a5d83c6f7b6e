"""Long exports: queued by their owner, written by a Celery task into a file that waits on the
reports page for its owner (``ReportFile``)."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation

from . import formats, registry, scoping
from .models import ReportFile
from .registry import Params

logger = logging.getLogger(__name__)
PARAM_FIELDS = ("county_id", "school_year_id", "term_id", "alliance_id", "school_id")


def params_dict(params: Params) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(params).items() if k in PARAM_FIELDS}


def params_of(data: dict[str, Any]) -> Params:
    return Params(**{k: data.get(k) for k in PARAM_FIELDS})  # type: ignore[arg-type]  # ids or None, as stored


def report_file_queue(*, owner: Any, report: registry.Report, fmt: str, params: Params) -> ReportFile:
    """Checks the parameters (the checkpoint's 404/403 before anything is queued), records the
    file to come and queues its task once the transaction commits."""
    from .tasks import report_file_build_task

    params = scoping.checked(owner, report.code, params)
    report_file = ReportFile.objects.create(
        owner=owner,
        report=report.code,
        format=fmt,
        params={**params_dict(params), "language": translation.get_language()},
        name=formats.file_name(report, params, fmt),
    )
    transaction.on_commit(lambda: report_file_build_task.delay(report_file.pk))
    return report_file


def report_file_build(*, report_file_id: int) -> ReportFile | None:
    """Writes a queued file as its owner (the checkpoint asked again: a role lost since is
    refused). Safe to run twice: the queued file is claimed by a conditional update."""
    if not ReportFile.objects.filter(pk=report_file_id, status=ReportFile.Status.QUEUED).update(
        status=ReportFile.Status.RUNNING
    ):
        return None
    report_file = ReportFile.objects.select_related("owner").get(pk=report_file_id)
    report = registry.get(report_file.report)
    params = params_of(report_file.params)
    owner = report_file.owner

    def progress(rows: int) -> None:
        ReportFile.objects.filter(pk=report_file_id).update(rows=rows)

    try:
        with translation.override(report_file.params.get("language")):
            count = scoping.COUNTS.get(report.code)
            if count is not None:
                total = count(owner, params)
                ReportFile.objects.filter(pk=report_file_id).update(total=total)
                report_file.total = total
            with tempfile.TemporaryFile() as out:
                formats.WRITERS[report_file.format](report, owner, params, out, progress=progress)
                out.seek(0)
                report_file.file.save(report_file.name, File(out), save=False)
    except Exception as exc:
        logger.exception("report file %s failed", report_file_id)
        ReportFile.objects.filter(pk=report_file_id).update(
            status=ReportFile.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return None
    ReportFile.objects.filter(pk=report_file_id).update(
        status=ReportFile.Status.DONE, file=report_file.file.name, finished_at=timezone.now()
    )
    report_file.refresh_from_db()
    return report_file
