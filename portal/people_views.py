"""The portal's pages of principals' and teachers' results (seed 003, docs/adr/0008): a list
of the results the user may read, filterable by period and by whom it evaluates, and a
result's own page as the school's (totals, subtotals per dimension, every indicator's value,
rule in words and points, the grade, a decline warning).

Which rows: ``PersonResult.objects.visible_to`` (``access.visible_person_results``) alone; a
row outside it is a 404. Principals, lead principals, bureau staff and auditors open them; an
assessor enters people's values but reads no result (403)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from evaluation.models import PEOPLE, EvaluationPeriod, PersonResult, Subject

from . import summaries
from .forms import PersonResultFilter
from .views import COUNTY_HOMES, SCHOOL_HOMES, PortalRequest, _page, for_homes

# Who opens the pages: everyone who may read some person's result (the checkpoint says which).
PEOPLE_HOMES = (*SCHOOL_HOMES, *COUNTY_HOMES)
PER_PAGE = 50


def _results(request: PortalRequest):
    return PersonResult.objects.visible_to(request.user).select_related(
        # (a term's name is its school year's and its number)
        "period__school_year",
        "period__term__school_year",
        "school",
        "teacher",
    )


@for_homes(*PEOPLE_HOMES)
def person_results(request: PortalRequest) -> HttpResponse:
    """The person results the user may read, newest period first; a page of ``PER_PAGE``."""
    results = _results(request)
    periods = (
        EvaluationPeriod.objects.visible_to(request.user)
        .filter(subject__in=PEOPLE, pk__in=results.values("period_id"))
        .select_related("school_year", "term__school_year")
        .order_by("-end_date", "subject", "pk")
    )
    subjects = [(s.value, s.label) for s in Subject if s in PEOPLE]
    form = PersonResultFilter(request.GET or None, periods=periods, subjects=subjects)
    rows = results.order_by("-period__end_date", "period_id", "subject", "school__code", "teacher__name", "pk")
    if form.is_bound and not form.is_valid():
        rows = rows.none()
    elif form.is_bound:
        if form.cleaned_data["period"] is not None:
            rows = rows.filter(period=form.cleaned_data["period"])
        if form.cleaned_data["subject"]:
            rows = rows.filter(subject=form.cleaned_data["subject"])
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return _page(request, "portal/person_results.html", context, status=400 if form.errors else 200)


@for_homes(*PEOPLE_HOMES)
def person_result(request: PortalRequest, pk: int) -> HttpResponse:
    """A principal's or a teacher's result: score, grade, each dimension's subtotal, every
    indicator with its value, rule in words and points, and the decline warning."""
    result = get_object_or_404(_results(request), pk=pk)
    return _page(request, "portal/person_result.html", {"result": result, **summaries.result_detail(result)})
