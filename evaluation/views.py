"""The principal's page: the school's proposed or published result and its trace."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Appeal, SchoolResult


@login_required
def my_result(request: HttpRequest) -> HttpResponse:
    results = (
        SchoolResult.objects.visible_to(request.user)
        .filter(school_id=request.user.school_id, period__status__in=("proposed", "published"))
        .select_related("school", "period__school_year", "period__term")
        .order_by("-period__start_date")
    )
    appeals = (
        Appeal.objects.visible_to(request.user).filter(school_id=request.user.school_id).select_related("indicator")
    )
    return render(request, "evaluation/my_result.html", {"results": results, "appeals": appeals})
