"""A long export's file: queued by its owner on the reports page, written by a Celery task
(``reports.tasks``), kept for its owner only and served through the checkpoint."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alliance import access


class ReportFileQuerySet(models.QuerySet):
    def visible_to(self, user: object) -> ReportFileQuerySet:
        return cast(ReportFileQuerySet, access.visible_report_files(self, user))


class ReportFile(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        ZIP = "zip", "ZIP"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("owner"))
    report = models.CharField(_("report"), max_length=40)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(_("rows written"), default=0)
    total = models.PositiveIntegerField(_("rows expected"), null=True, blank=True)
    # Never served from MEDIA_URL: ``reports.views.report_file`` asks the checkpoint first.
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", blank=True, max_length=200)
    name = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ReportFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="reportfile_owner_created")]

    def __str__(self) -> str:
        return f"{self.report}.{self.format} #{self.pk}"

    @property
    def progress(self) -> int | None:
        """Percent written, ``None`` while the total is unknown."""
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return None
        return min(99, self.rows * 100 // self.total)
