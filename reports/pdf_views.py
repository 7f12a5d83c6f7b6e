"""Downloads of the PDF documents (``reports.pdf``): thin views over its writers.

A school year the user cannot see, or a school it cannot read, is "not found" (and the audit
middleware records the refusal); a document the user's role may not export is a 403; the
award notices before publication are not found either (there is nothing to notify yet)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from alliance import access
from alliance.models import School, SchoolYear

from . import pdf
from .registry import Params


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _school_id(request: HttpRequest, school_year: SchoolYear) -> int | None:
    """The school asked for (``?school=``), one the user reads; a user who may not export the
    whole county's notices gets its own school's."""
    user: Any = request.user
    asked = request.GET.get("school")
    if asked:
        if not asked.isdigit():
            raise Http404
        return get_object_or_404(School.objects.visible_to(user), pk=int(asked), county_id=school_year.county_id).pk
    if access.can_export_document(user, "award_notices", school_year.county_id):
        return None
    return user.school_id


@login_required
@require_GET
def award_notices(request: HttpRequest, pk: int) -> HttpResponse:
    school_year = get_object_or_404(SchoolYear.objects.visible_to(request.user), pk=pk)
    school_id = _school_id(request, school_year)
    params = Params(county_id=school_year.county_id, school_year_id=school_year.pk, school_id=school_id)
    out = io.BytesIO()
    try:
        pdf.write_award_notices(request.user, params, out, request=request)
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from exc
    suffix = f"-{school_id}" if school_id else ""
    return _pdf(out.getvalue(), f"award-notices-{school_year.start_year}{suffix}.pdf")


@login_required
@require_GET
def county_summary(request: HttpRequest, pk: int) -> HttpResponse:
    school_year = get_object_or_404(SchoolYear.objects.visible_to(request.user), pk=pk)
    params = Params(county_id=school_year.county_id, school_year_id=school_year.pk)
    out = io.BytesIO()
    pdf.write_county_summary(request.user, params, out, request=request)
    return _pdf(out.getvalue(), f"summary-{school_year.start_year}.pdf")
