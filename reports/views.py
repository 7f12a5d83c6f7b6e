"""The reports page: every report the user may run, with the filters it may use (county,
school year, term, alliance, school: only what it may read), a direct CSV or XLSX download, and
long exports queued as a Celery task whose file waits here for its owner. Every row comes
through the checkpoint (``access.require_report`` via ``scoping.checked``): another county or
school is a 404, recorded in the audit trail."""

from __future__ import annotations

import tempfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliance import access
from alliance.models import Alliance, County, SchoolYear, Term
from audit.services import record_event
from evaluation.models import EvaluationPeriod, SchoolResult
from portal.views import AUDITOR, BUREAU, LEAD, PRINCIPAL, PortalRequest, _page, for_homes

from . import files, formats, registry, scoping
from .models import ReportFile
from .registry import Params

REPORT_HOMES = (PRINCIPAL, LEAD, BUREAU, AUDITOR)
# Spooled in memory up to this size, then on disk (a direct XLSX download is written whole first).
FILE_TYPES = {**formats.CONTENT_TYPES, "zip": "application/zip"}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _default_year(user: Any) -> SchoolYear | None:
    return SchoolYear.objects.visible_to(user).order_by("-start_year").first()


def _params(request: PortalRequest) -> Params | None:
    """The parameters named in the query string or form; ``None`` without a school year. The
    county is the school year's (a county named that is not it is a 404 later)."""
    data = request.POST if request.method == "POST" else request.GET
    year_id = _int(data.get("school_year"))
    if year_id is None:
        year = _default_year(request.user)
        year_id = year.pk if year is not None else None
    if year_id is None:
        return None
    county_id = _int(data.get("county"))
    if county_id is None:
        county_id = SchoolYear.objects.filter(pk=year_id).values_list("county_id", flat=True).first()
    if county_id is None:
        raise Http404
    return Params(
        county_id=county_id,
        school_year_id=year_id,
        term_id=_int(data.get("term")),
        alliance_id=_int(data.get("alliance")),
        school_id=_int(data.get("school")),
    )


def _query(params: Params) -> dict[str, int]:
    """The parameters as the page's query string names them."""
    named = {"county": params.county_id, "school_year": params.school_year_id, "term": params.term_id,
             "alliance": params.alliance_id, "school": params.school_id}  # fmt: skip
    return {k: v for k, v in named.items() if v is not None}


def _report(code: str) -> registry.Report:
    if code not in registry.REPORTS:
        raise Http404
    return registry.get(code)


def _checked(request: PortalRequest, report: registry.Report, params: Params) -> Params:
    """The checkpoint; a 404 (another county's or school's rows) is recorded as refused."""
    try:
        return scoping.checked(request.user, report.code, params)
    except Http404:
        record_event(
            "refused", request=request, model="reports.report", object_id=report.code,
            detail=files.params_dict(params),
        )  # fmt: skip
        raise


@for_homes(*REPORT_HOMES)
@require_GET
def index(request: PortalRequest) -> HttpResponse:
    user = request.user
    codes = [code for code in access.reports_of(user) if code in registry.REPORTS]
    params = _params(request)
    if params is not None and codes:
        params = _checked(request, registry.get(codes[0]), params)
    year = SchoolYear.objects.filter(pk=params.school_year_id).first() if params else None
    query = urlencode(_query(params)) if params else ""
    schools = access.readable_schools(user).order_by("code")
    if params is not None:
        schools = schools.filter(county_id=params.county_id)
    county_reader = access.is_county_reader(user)
    context = {
        "reports": [registry.get(code) for code in codes],
        "params": params,
        "query": query,
        "year": year,
        "counties": County.objects.order_by("code") if access.is_superuser(user) else None,
        "years": SchoolYear.objects.visible_to(user).order_by("-start_year"),
        "terms": Term.objects.visible_to(user).filter(school_year_id=params.school_year_id) if params else [],
        "alliances": Alliance.objects.visible_to(user).filter(school_year_id=params.school_year_id).order_by("name")
        if params
        else [],
        "schools": schools if county_reader else None,
        "files": ReportFile.objects.visible_to(user)[:20],
        "formats": formats.FORMATS,
    }
    if params is not None:
        context.update(_documents(user, params))
    if access.can_export(user, "award_sheet"):
        context["periods"] = list(
            EvaluationPeriod.objects.visible_to(user)
            .filter(pk__in=SchoolResult.objects.values("period_id"))
            .select_related("school_year", "term")
            .order_by("-end_date")
        )
        context["export_url"] = reverse("admin:evaluation_evaluationperiod_changelist")
    return _page(request, "reports/index.html", context)


def _documents(user: Any, params: Params) -> dict[str, Any]:
    """The school year's documents the checkpoint lets the user have: the auditor's package (as
    a file prepared in the background), the award notices (the county's, or the user's own
    school's) and the yearly summary."""
    county_id, year_id = params.county_id, params.school_year_id
    notices = reverse("reports_pdf:award_notices", args=[year_id])
    documents: dict[str, Any] = {
        "package": access.can_export_document(user, files.PACKAGE, county_id),
        "notices_url": None,
        "summary_url": None,
    }
    from .pdf import notices_published  # (WeasyPrint is loaded only when a PDF is made)

    if not notices_published(county_id, year_id):
        pass  # no notice before the year's evaluation is published: no link that leads nowhere
    elif access.can_export_document(user, "award_notices", county_id):
        documents["notices_url"] = notices
    elif user.school_id and access.can_export_document(user, "award_notices", county_id, user.school_id):
        documents["notices_url"] = f"{notices}?{urlencode({'school': user.school_id})}"
    if access.can_export_document(user, "county_summary", county_id):
        documents["summary_url"] = reverse("reports_pdf:county_summary", args=[year_id])
    return documents


@for_homes(*REPORT_HOMES)
@require_GET
def download(request: PortalRequest, code: str, fmt: str) -> HttpResponseBase:
    """The report as a file, written while it is sent (CSV) or first in a spooled file (XLSX, and
    the CSV of a report that PostgreSQL exports, ``formats.csv_chunks``)."""
    report = _report(code)
    if fmt not in formats.FORMATS:
        raise Http404
    params = _params(request)
    if params is None:
        return HttpResponseBadRequest(_("Choose a school year."))
    params = _checked(request, report, params)
    name = formats.file_name(report, params, fmt)
    if fmt == "csv":
        chunks = formats.csv_chunks(report, request.user, params)
        formats.record_export(report, request.user, params, fmt, request=request)
        response = StreamingHttpResponse(chunks, content_type=formats.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    out = tempfile.SpooledTemporaryFile(max_size=formats.SPOOL_BYTES)  # noqa: SIM115  (FileResponse closes it)
    formats.write_xlsx(report, request.user, params, out, request=request)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=name, content_type=formats.CONTENT_TYPES[fmt])


@for_homes(*REPORT_HOMES)
@require_POST
def queue(request: PortalRequest, code: str) -> HttpResponse:
    report = _report(code)
    fmt = request.POST.get("format", "xlsx")
    if fmt not in formats.FORMATS:
        return HttpResponseBadRequest(_("Unknown format."))
    params = _params(request)
    if params is None:
        return HttpResponseBadRequest(_("Choose a school year."))
    params = _checked(request, report, params)
    report_file = files.report_file_queue(owner=request.user, report=report, fmt=fmt, params=params)
    return redirect(f"{reverse('reports:index')}?{urlencode(_query(params))}#file-{report_file.pk}")


@for_homes(*REPORT_HOMES)
@require_POST
def queue_package(request: PortalRequest) -> HttpResponse:
    """The auditor's package of the chosen school year, queued as the owner's file (the
    checkpoint's 403 for a role that may not; another county's year is a 404)."""
    params = _params(request)
    if params is None:
        return HttpResponseBadRequest(_("Choose a school year."))
    year = get_object_or_404(
        SchoolYear.objects.visible_to(request.user), pk=params.school_year_id, county_id=params.county_id
    )
    report_file = files.package_file_queue(owner=request.user, county_id=year.county_id, school_year_id=year.pk)
    query = urlencode({"county": year.county_id, "school_year": year.pk})
    return redirect(f"{reverse('reports:index')}?{query}#file-{report_file.pk}")


def _own_file(request: PortalRequest, pk: int) -> ReportFile:
    return get_object_or_404(ReportFile.objects.visible_to(request.user), pk=pk)


@for_homes(*REPORT_HOMES)
@require_GET
def file_status(request: PortalRequest, pk: int) -> JsonResponse:
    """What the page's progress bar polls."""
    report_file = _own_file(request, pk)
    done = report_file.status == ReportFile.Status.DONE
    return JsonResponse(
        {
            "status": report_file.status,
            "label": str(report_file.get_status_display()),
            "rows": report_file.rows,
            "total": report_file.total,
            "progress": report_file.progress,
            "url": reverse("reports:file", args=[report_file.pk]) if done else None,
        }
    )


@for_homes(*REPORT_HOMES)
@require_GET
def file_download(request: PortalRequest, pk: int) -> FileResponse:
    """The owner's finished file, asked of the checkpoint again (never from /media/)."""
    report_file = _own_file(request, pk)
    if report_file.status != ReportFile.Status.DONE or not report_file.file:
        raise Http404
    if report_file.report == files.PACKAGE:
        if not access.can_export_document(request.user, files.PACKAGE, report_file.params.get("county_id")):
            raise Http404
    else:
        report = _report(report_file.report)
        try:
            _checked(request, report, files.params_of(report_file.params))
        except PermissionDenied:
            raise Http404 from None
    detail = {"report": report_file.report, "format": report_file.format, "file": report_file.name}
    record_event("export", request=request, model="reports.reportfile", object_id=report_file.pk, detail=detail)
    return FileResponse(
        report_file.file.open("rb"),
        as_attachment=True,
        filename=report_file.name,
        content_type=FILE_TYPES[report_file.format],
    )
