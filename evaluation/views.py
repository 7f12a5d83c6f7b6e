"""The principal's page: the school's proposed or published result and its trace."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from alliance.models import User

from .models import Appeal, SchoolResult


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required``: its user is a portal user, never anonymous."""

    user: User


@login_required
def my_result(request: AuthenticatedHttpRequest) -> HttpResponse:
    results = (
        SchoolResult.objects.visible_to(request.user)
        .filter(school_id=request.user.school_id, period__status__in=("proposed", "published"))
        .select_related("school", "period__school_year", "period__term")
        .order_by("-period__start_date")
    )
    # school_id=None (a user without a school) matches no row, as Django allows; the stubs want a value.
    appeals = (
        Appeal.objects.visible_to(request.user).filter(school_id=request.user.school_id).select_related("indicator")  # type: ignore[misc]
    )
    return render(request, "evaluation/my_result.html", {"results": results, "appeals": appeals})
