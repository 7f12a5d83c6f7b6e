"""The long export's Celery task: a thin entry point to ``files.report_file_build``."""

from __future__ import annotations

from celery import shared_task

from . import files


@shared_task(name="reports.report_file_build", acks_late=True)
def report_file_build_task(report_file_id: int) -> dict:
    report_file = files.report_file_build(report_file_id=report_file_id)
    if report_file is None:
        return {"status": "skipped or failed"}
    return {"status": report_file.status, "rows": report_file.rows}
