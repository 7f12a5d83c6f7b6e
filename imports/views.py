"""The import page for bureau staff: templates to download, an upload that shows a dry run (what
would be created, changed or left unchanged, and every bad row by number), and a confirmation
that imports the very file the preview read (kept server-side under a generated name)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.views import BUREAU, PortalRequest, _page, for_homes

from . import blanks, services
from .forms import UploadForm
from .kinds import KINDS, chinese

SESSION_KEY = "imports.pending"
MAX_PENDING = 5


def _pending(request: PortalRequest) -> dict:
    return request.session.get(SESSION_KEY, {})


def _render(request: PortalRequest, form: UploadForm, report=None, token: str = "", status: int = 200) -> HttpResponse:
    return _page(
        request,
        "imports/index.html",
        {"form": form, "kinds": list(KINDS.values()), "report": report, "token": token},
        status=status,
    )


@for_homes(BUREAU)
def index(request: PortalRequest) -> HttpResponse:
    """GET: the page; POST: an upload, answered with its dry run."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return _render(request, form)
    if not form.is_valid():
        return _render(request, form, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read()
    kind = form.cleaned_data["kind"]
    try:
        county = services.import_county(request.user)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _render(request, form, status=400)
    report = services.import_run(
        actor=request.user, kind=kind, data=data, file_name=upload.name, county=county, request=request
    )
    token = ""
    if report.ok:
        token = services.pending_save(data)
        pending = _pending(request)
        pending[token] = {"kind": kind, "sha256": report.sha256, "name": upload.name}
        for stale in list(pending)[:-MAX_PENDING]:  # a session keeps its last few previews
            services.pending_delete(stale)
            pending.pop(stale)
        request.session[SESSION_KEY] = pending
    return _render(request, UploadForm(initial={"kind": kind}), report, token, status=200 if report.ok else 400)


@require_POST
@for_homes(BUREAU)
def confirm(request: PortalRequest) -> HttpResponse:
    """Import the file the preview read: the token must be one this session uploaded."""
    token = request.POST.get("token", "")
    pending = _pending(request)
    entry = pending.get(token)
    if entry is None:
        raise Http404
    form = UploadForm(initial={"kind": entry["kind"]})
    try:
        data = services.pending_load(token, entry["sha256"])
    except ValidationError as exc:
        stale = services.Report(entry["kind"], entry["name"], entry["sha256"], file_errors=list(exc.messages))
        return _render(request, form, stale, status=400)
    report = services.import_run(
        actor=request.user, kind=entry["kind"], data=data, file_name=entry["name"], commit=True, request=request
    )
    if report.committed:
        services.pending_delete(token)
        pending.pop(token)
        request.session[SESSION_KEY] = pending
    return _render(request, form, report, "" if report.committed else token, status=200 if report.ok else 400)


@for_homes(BUREAU)
def blank(request: PortalRequest, kind: str, fmt: str) -> HttpResponse:
    """A blank template of ``kind`` as XLSX or CSV."""
    spec = KINDS.get(kind)
    if spec is None or fmt not in ("xlsx", "csv"):
        raise Http404
    if fmt == "xlsx":
        response = HttpResponse(blanks.blank_xlsx(spec), content_type=blanks.XLSX_TYPE)
    else:
        response = HttpResponse(blanks.blank_csv(spec), content_type="text/csv; charset=utf-8")
    name = f"{kind}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{_quoted(spec, fmt)}"
    return response


def _quoted(spec, fmt: str) -> str:
    from urllib.parse import quote

    suffix = _("template")
    return quote(f"{chinese(spec.title)}{suffix}.{fmt}")
