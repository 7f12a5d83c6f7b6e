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

from alliance import access
from alliance.models import SchoolYear

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


PACKAGE = "audit_package"  # the auditor's package (``reports.package``), a ZIP and not a registered report


def package_file_queue(*, owner: Any, county_id: int, school_year_id: int) -> ReportFile:
    """The auditor's package of the county's school year as a file to come: the checkpoint's
    403 before anything is queued; its task writes it with ``package.build_package``."""
    from .tasks import report_file_build_task

    access.require_export_document(owner, PACKAGE, county_id)
    school_year = SchoolYear.objects.select_related("county").get(pk=school_year_id, county_id=county_id)
    report_file = ReportFile.objects.create(
        owner=owner,
        report=PACKAGE,
        format=ReportFile.Format.ZIP,
        params={"county_id": county_id, "school_year_id": school_year_id, "language": translation.get_language()},
        name=f"audit-package-{school_year.county.code}-{school_year.start_year}.zip",
    )
    transaction.on_commit(lambda: report_file_build_task.delay(report_file.pk))
    return report_file


def _write_package(report_file: ReportFile, out: Any) -> None:
    from .package import build_package

    school_year = SchoolYear.objects.select_related("county").get(
        pk=report_file.params["school_year_id"], county_id=report_file.params["county_id"]
    )
    manifest = build_package(report_file.owner, school_year.county, school_year, out)
    count = len(manifest["files"])
    ReportFile.objects.filter(pk=report_file.pk).update(rows=count, total=count)


def report_file_build(*, report_file_id: int) -> ReportFile | None:
    """Writes a queued file as its owner (the checkpoint asked again: a role lost since is
    refused). Safe to run twice: the queued file is claimed by a conditional update."""
    if not ReportFile.objects.filter(pk=report_file_id, status=ReportFile.Status.QUEUED).update(
        status=ReportFile.Status.RUNNING
    ):
        return None
    report_file = ReportFile.objects.select_related("owner").get(pk=report_file_id)
    if report_file.report == PACKAGE:
        return _build_package_file(report_file)
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
        _failed(report_file_id, exc)
        return None
    return _done(report_file)


def _build_package_file(report_file: ReportFile) -> ReportFile | None:
    """The package written as its owner (``build_package`` asks the checkpoint again)."""
    try:
        with translation.override(report_file.params.get("language")), tempfile.TemporaryFile() as out:
            _write_package(report_file, out)
            out.seek(0)
            report_file.file.save(report_file.name, File(out), save=False)
    except Exception as exc:
        _failed(report_file.pk, exc)
        return None
    return _done(report_file)


def _failed(report_file_id: int, exc: Exception) -> None:
    logger.exception("report file %s failed", report_file_id)
    ReportFile.objects.filter(pk=report_file_id).update(
        status=ReportFile.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
    )


def _done(report_file: ReportFile) -> ReportFile:
    ReportFile.objects.filter(pk=report_file.pk).update(
        status=ReportFile.Status.DONE, file=report_file.file.name, finished_at=timezone.now()
    )
    report_file.refresh_from_db()
    return report_file
