"""The portal's pages. Thin: rows come through the access checkpoint (``visible_to`` /
``changeable_by``; a row out of reach is a 404), forms call the apps' services, and a
service's ValidationError is shown beside its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from alliance import access, compiled
from alliance import services as alliance_services
from alliance.models import Membership, PairingTask, Programme, School, User
from evaluation import services as evaluation_services
from evaluation.models import Appeal, EvaluationPeriod, Indicator, SchoolResult
from funding import services as funding_services
from funding.models import Category, FundingYear, PlanLine, SpendingPlan, SpendingRecord
from staffing import services as staffing_services
from staffing.models import Activity, ActivityAttachment, Exchange, MentorMeeting, MentorPair, Teacher

from . import summaries
from .forms import (
    ActivityForm,
    AppealForm,
    ExchangeForm,
    MeetingForm,
    ProgrammeTaskForm,
    SpendingForm,
    TaskProgressForm,
    add_service_error,
)


@dataclass(frozen=True)
class Home:
    """Which home a user has: ``key`` names it, ``label`` is the role as the page shows it."""

    key: str
    label: str


class PortalRequest(HttpRequest):
    """The request of a portal view (behind ``login_required``): its user is signed in, and
    ``for_homes`` / ``home`` set the home the page is for."""

    user: User
    portal_home: Home
    portal_school: School | None  # set by ``_own_school``


PRINCIPAL = "principal"
LEAD = "lead"
ASSESSOR = "assessor"
BUREAU = "bureau"
AUDITOR = "auditor"
SCHOOL_HOMES = (PRINCIPAL, LEAD)
COUNTY_HOMES = (BUREAU, AUDITOR)


def _home_for(user: Any) -> Home | None:
    """Which home the user's role has (the checkpoint names the role)."""
    key = access.home_of(user)
    return Home(key, str(access.role_label(user))) if key else None


def for_homes(*homes: str) -> Callable:
    """A page for users of these homes; anyone else signed in gets 403, anonymous the login."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            home = _home_for(request.user)
            if home is None or home.key not in homes:
                raise PermissionDenied
            request.portal_home = home
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


NAV: dict[str, list[tuple[str, Any]]] = {
    PRINCIPAL: [
        ("portal:home", gettext_lazy("Home")),
        ("portal:exchanges", gettext_lazy("Exchanges")),
        ("portal:activities", gettext_lazy("Activities")),
        ("portal:meetings", gettext_lazy("Mentoring")),
        ("portal:tasks", gettext_lazy("Tasks")),
        ("portal:spending", gettext_lazy("Spending")),
        ("portal:result", gettext_lazy("Result")),
        ("portal:person-results", gettext_lazy("People's results")),
        ("reports:index", gettext_lazy("Reports")),
    ],
    ASSESSOR: [("portal:home", gettext_lazy("Assigned schools"))],
    BUREAU: [
        ("portal:home", gettext_lazy("Overview")),
        ("portal:person-results", gettext_lazy("People's results")),
        ("reports:index", gettext_lazy("Reports")),
    ],
    AUDITOR: [
        ("reports:index", gettext_lazy("Reports")),
        ("portal:overview", gettext_lazy("Overview")),
        ("portal:person-results", gettext_lazy("People's results")),
    ],
}
NAV[LEAD] = [*NAV[PRINCIPAL], ("portal:alliance", gettext_lazy("Alliance"))]


def _nav(home: Home) -> list[tuple[str, Any]]:
    return [(reverse(name), label) for name, label in NAV[home.key]]


def _is_current(path: str, url: str) -> bool:
    return path == url or (url != "/" and path.startswith(url))


def _page(request: PortalRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    home: Home = request.portal_home
    user = request.user
    context = {
        "home": home,
        "user_name": user.get_full_name() or user.get_username(),
        "school": _shown_school(request),
        "nav": [(url, label, _is_current(request.path, url)) for url, label in _nav(home)],
        "admin_url": reverse("admin:index") if access.is_county_reader(request.user) else None,
        **context,
    }
    return render(request, template, context, status=status)


def _shown_school(request: PortalRequest) -> School | None:
    """The user's school as the page's header names it: one the user may read (read with the
    page's own school by ``_own_school`` when the page has called it)."""
    if hasattr(request, "portal_school"):
        return request.portal_school
    user = request.user
    return School.objects.visible_to(user).filter(pk=user.school_id).first() if user.school_id else None


@compiled.query()
def _own_school_row(user: Any):
    """The user's own school row with the checkpoint's two answers beside it: whether the user
    may write its rows, and whether it may read it. pk=None (no school) matches no row."""
    return (
        School.objects.filter(pk=user.school_id)
        .annotate(
            may_write=Exists(access.writable_schools(user).filter(pk=OuterRef("pk"))),
            may_read=Exists(School.objects.visible_to(user).filter(pk=OuterRef("pk"))),
        )
        .order_by()
        .values(*compiled.columns(School), "may_write", "may_read")
    )


def _own_school(request: PortalRequest) -> School:
    """The principal's school, through the checkpoint: a school it may write, else one it may
    read, else 404. One statement, which also says whether the header may name the school."""
    rows = _own_school_row(request.user)
    if not rows or not (rows[0]["may_write"] or rows[0]["may_read"]):
        raise Http404
    school = compiled.instance(School, rows[0])
    request.portal_school = school if rows[0]["may_read"] else None
    return school


# --- signing in and out ---------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"


class LogoutView(auth_views.LogoutView):
    template_name = "portal/logged_out.html"


@login_required
def home(request: PortalRequest) -> HttpResponse:
    """Each role's home at "/"."""
    home = _home_for(request.user)
    if home is None:
        return render(
            request,
            "portal/no_role.html",
            {"admin_url": reverse("admin:index") if request.user.is_staff else None},
            status=403,
        )
    request.portal_home = home
    if home.key == AUDITOR:  # the auditors' home is the reports page (reports.views)
        return redirect("reports:index")
    page = {PRINCIPAL: _school_home, LEAD: _school_home, ASSESSOR: _assessor_home, BUREAU: _overview}
    return page[home.key](request)


# --- principals -----------------------------------------------------------------------------


def _school_home(request: PortalRequest) -> HttpResponse:
    school = _own_school(request)
    context = summaries.school_home(request.user, school)
    context["programmes"] = summaries.programmes_of(request.user)
    return _page(request, "portal/school_home.html", context)


def _exchange_form(request: PortalRequest, school: School, **kwargs: Any) -> ExchangeForm:
    teachers = Teacher.objects.changeable_by(request.user).filter(school=school, active=True).order_by("name")
    # Hosts are any active school of the county: the checkpoint's county-scoped choices, as in
    # the API and the admin.
    county_schools = access.narrow_related(School.objects.filter(active=True), request.user, kind="county")
    hosts = county_schools.exclude(pk=school.pk).order_by("code")
    return ExchangeForm(request.POST or None, teachers=teachers, hosts=hosts, **kwargs)


def _is_editable(exchange: Exchange) -> bool:
    return exchange.status not in summaries.CLOSED_EXCHANGES


@for_homes(*SCHOOL_HOMES)
def exchanges(request: PortalRequest) -> HttpResponse:
    """The school's exchanges, and a form to log a new one (exchange_create)."""
    school = _own_school(request)
    form = _exchange_form(request, school)
    if request.method == "POST" and form.is_valid():
        try:
            staffing_services.exchange_create(actor=request.user, origin_school=school, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error, {"hosts": "host_schools"})
        else:
            return redirect("portal:exchanges")
    rows = list(summaries.school_exchanges(request.user, school))
    status = 400 if form.errors else 200
    return _page(
        request,
        "portal/exchanges.html",
        {"form": form, "rows": [(e, _is_editable(e)) for e in rows]},
        status=status,
    )


@for_homes(*SCHOOL_HOMES)
def exchange_edit(request: PortalRequest, pk: int) -> HttpResponse:
    school = _own_school(request)
    exchange = get_object_or_404(
        Exchange.objects.changeable_by(request.user).filter(origin_school=school).prefetch_related("host_schools"),
        pk=pk,
    )
    if not _is_editable(exchange):
        raise Http404
    initial = {
        "kind": exchange.kind,
        "teacher": exchange.teacher_id,
        "host_schools": list(exchange.host_schools.all()),
        "subject": exchange.subject,
        "class_count": exchange.class_count,
        "classes": exchange.classes,
        "weekly_periods": exchange.weekly_periods,
        "start_date": exchange.start_date,
        "end_date": exchange.end_date,
    }
    form = _exchange_form(request, school, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        hosts = fields.pop("host_schools")
        try:
            staffing_services.exchange_update(actor=request.user, exchange=exchange, host_schools=hosts, **fields)
        except ValidationError as error:
            add_service_error(form, error, {"hosts": "host_schools"})
        else:
            return redirect("portal:exchanges")
    status = 400 if form.errors else 200
    return _page(request, "portal/exchange_edit.html", {"form": form, "exchange": exchange}, status=status)


@for_homes(*SCHOOL_HOMES)
def spending(request: PortalRequest) -> HttpResponse:
    """Spending against the school's lines of the approved plan, each with its receipt."""
    school = _own_school(request)
    lines = (
        PlanLine.objects.visible_to(request.user)
        .current()
        .filter(school=school)
        .select_related("plan__alliance", "school")
        .with_spent()
        .order_by("plan__alliance__name", "category")
    )
    form = SpendingForm(request.POST or None, request.FILES or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            funding_services.spending_record_create(
                actor=request.user,
                plan_line=data["plan_line"],
                date=data["date"],
                amount=data["amount"],
                payee=data["payee"],
                description=data["description"],
                receipt=data["receipt"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect("portal:spending")
    records = (
        SpendingRecord.objects.visible_to(request.user)
        .filter(plan_line__school=school)
        .select_related("plan_line__plan__alliance")
        .order_by("-date", "-pk")[:50]
    )
    status = 400 if form.errors else 200
    return _page(
        request,
        "portal/spending.html",
        {"form": form, "lines": list(lines), "records": list(records)},
        status=status,
    )


# --- pairing tasks, mentoring meetings, activities -------------------------------------------


@for_homes(*SCHOOL_HOMES)
def tasks(request: PortalRequest) -> HttpResponse:
    """The tasks of the school's pairings (and, for a lead school, of its alliances' pairings);
    the ones the checkpoint lets the user change carry a progress form (pairing_task_update)."""
    school = _own_school(request)
    rows = summaries.school_tasks(request.user, school)
    changeable = set(
        PairingTask.objects.changeable_by(request.user).filter(pk__in=[t.pk for t in rows]).values_list("pk", flat=True)
    )
    forms_by_task: dict[int, TaskProgressForm] = getattr(request, "task_forms", {})
    shown = []
    for task in rows:
        editable = task.pk in changeable and task.status != PairingTask.Status.DROPPED
        form = forms_by_task.get(task.pk)
        if form is None and editable:
            form = TaskProgressForm(
                initial={
                    "status": task.status,
                    "completed_on": task.completed_on,
                    "progress_notes": task.progress_notes,
                },
                prefix=f"t{task.pk}",
            )
        shown.append({"task": task, "form": form if editable else None})
    status = 400 if any(f.errors for f in forms_by_task.values()) else 200
    return _page(request, "portal/tasks.html", {"rows": shown}, status=status)


@for_homes(*SCHOOL_HOMES)
def task_update(request: PortalRequest, pk: int) -> HttpResponse:
    school = _own_school(request)
    task = get_object_or_404(
        PairingTask.objects.changeable_by(request.user).filter(pk__in=summaries.school_task_ids(school)), pk=pk
    )
    if request.method != "POST":
        return redirect(reverse("portal:tasks") + f"#task-{task.pk}")
    form = TaskProgressForm(request.POST, request.FILES, prefix=f"t{task.pk}")
    if form.is_valid():
        try:
            alliance_services.pairing_task_update(actor=request.user, task=task, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect(reverse("portal:tasks") + f"?saved={task.pk}#task-{task.pk}")
    request.task_forms = {task.pk: form}  # type: ignore[attr-defined]
    return tasks.__wrapped__(request)


def _school_pairs(request: PortalRequest, school: School):
    return (
        MentorPair.objects.changeable_by(request.user)
        .filter(pk__in=summaries.school_pair_ids(school))
        .select_related("mentor", "mentee")
        .order_by("-start_date", "pk")
    )


def _meetings_page(request: PortalRequest, meeting: MentorMeeting | None = None) -> HttpResponse:
    school = _own_school(request)
    pairs = _school_pairs(request, school)
    initial = {}
    if meeting is not None:
        initial = {"pair": meeting.pair_id, "date": meeting.date, "kind": meeting.kind, "notes": meeting.notes}
    form = MeetingForm(request.POST or None, pairs=pairs, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if meeting is None:
                staffing_services.mentor_meeting_create(actor=request.user, **form.cleaned_data)
            else:
                staffing_services.mentor_meeting_update(actor=request.user, meeting=meeting, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect("portal:meetings")
    meetings = summaries.school_meetings(request.user, school)
    changeable = set(
        MentorMeeting.objects.changeable_by(request.user)
        .filter(pk__in=[m.pk for m in meetings])
        .values_list("pk", flat=True)
    )
    context = {
        "form": form,
        "meeting": meeting,
        "has_pairs": pairs.exists(),
        "rows": [(m, m.pk in changeable) for m in meetings],
    }
    return _page(request, "portal/meetings.html", context, status=400 if form.errors else 200)


@for_homes(*SCHOOL_HOMES)
def meetings(request: PortalRequest) -> HttpResponse:
    """The meetings of the school's mentoring pairs, and a form to log one (mentor_meeting_create)."""
    return _meetings_page(request)


@for_homes(*SCHOOL_HOMES)
def meeting_edit(request: PortalRequest, pk: int) -> HttpResponse:
    school = _own_school(request)
    meeting = get_object_or_404(
        MentorMeeting.objects.changeable_by(request.user).filter(pair__in=summaries.school_pair_ids(school)), pk=pk
    )
    return _meetings_page(request, meeting)


ACTIVITY_ERRORS = {"file": "uploads", "activity": "uploads"}


def _activities_page(request: PortalRequest, activity: Activity | None = None) -> HttpResponse:
    school = _own_school(request)
    county_schools = access.narrow_related(School.objects.filter(active=True), request.user, kind="county")
    involved = county_schools.exclude(pk=school.pk).order_by("code")
    initial: dict[str, Any] = {}
    if activity is not None:
        initial = {name: getattr(activity, name) for name in staffing_services.ACTIVITY_FIELDS if name != "host_school"}
        initial["schools"] = list(activity.schools.all())
    form = ActivityForm(request.POST or None, request.FILES or None, schools=involved, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            with transaction.atomic():
                if activity is None:
                    saved = staffing_services.activity_create(
                        actor=request.user, host_school=school, schools=form.cleaned_data["schools"], **fields
                    )
                else:
                    saved = staffing_services.activity_update(
                        actor=request.user, activity=activity, schools=form.cleaned_data["schools"], **fields
                    )
                for upload in form.cleaned_data["uploads"]:
                    staffing_services.attachment_create(actor=request.user, activity=saved, file=upload)
        except ValidationError as error:
            add_service_error(form, error, ACTIVITY_ERRORS)
        else:
            return redirect(reverse("portal:activities") + f"#activity-{saved.pk}")
    rows = summaries.school_activities(request.user, school)
    changeable = set(
        Activity.objects.changeable_by(request.user).filter(pk__in=[a.pk for a in rows]).values_list("pk", flat=True)
    )
    context = {"form": form, "activity": activity, "rows": [(a, a.pk in changeable) for a in rows]}
    return _page(request, "portal/activities.html", context, status=400 if form.errors else 200)


@for_homes(*SCHOOL_HOMES)
def activities(request: PortalRequest) -> HttpResponse:
    """The activities the school organised, with their photos and PDFs; a form to log one."""
    return _activities_page(request)


@for_homes(*SCHOOL_HOMES)
def activity_edit(request: PortalRequest, pk: int) -> HttpResponse:
    school = _own_school(request)
    activity = get_object_or_404(
        Activity.objects.changeable_by(request.user)
        .filter(host_school=school)
        .prefetch_related(summaries.attachments_prefetch(request.user)),
        pk=pk,
    )
    return _activities_page(request, activity)


@for_homes(*SCHOOL_HOMES)
def attachment_delete(request: PortalRequest, pk: int) -> HttpResponse:
    school = _own_school(request)
    attachment = get_object_or_404(
        ActivityAttachment.objects.changeable_by(request.user).filter(activity__host_school=school), pk=pk
    )
    if request.method != "POST":
        raise Http404
    staffing_services.attachment_delete(actor=request.user, attachment=attachment)
    return redirect("portal:activity-edit", pk=attachment.activity_id)


@for_homes(*SCHOOL_HOMES)
def result_latest(request: PortalRequest) -> HttpResponse:
    result = summaries.latest_result(request.user, _own_school(request))
    if result is None:
        return _page(request, "portal/result.html", {"result": None})
    return redirect("portal:result-detail", pk=result.pk)


def _result_of(request: PortalRequest, pk: int) -> SchoolResult:
    return get_object_or_404(
        SchoolResult.objects.visible_to(request.user)
        .filter(period__status__in=(EvaluationPeriod.Status.PROPOSED, EvaluationPeriod.Status.PUBLISHED))
        .select_related("school", "period__school_year", "period__term"),
        pk=pk,
    )


def _notice_running(result: SchoolResult) -> bool:
    period = result.period
    # A proposed period has its notice's end (``publishing``); the check is for the type.
    return (
        period.status == EvaluationPeriod.Status.PROPOSED
        and period.notice_ends_at is not None
        and timezone.now() < period.notice_ends_at
    )


@for_homes(*SCHOOL_HOMES)
def result_detail(request: PortalRequest, pk: int, form: AppealForm | None = None, status: int = 200) -> HttpResponse:
    """A result: totals, each dimension's subtotal, every indicator with its rule in words; an
    appeal per indicator while the public notice runs (own school only)."""
    result = _result_of(request, pk)
    appeals = {
        a.indicator.code: a
        for a in Appeal.objects.visible_to(request.user)
        .filter(period=result.period, school=result.school)
        .select_related("indicator")
        .order_by("filed_at")
    }
    context = {
        "result": result,
        **summaries.result_detail(result),
        "may_appeal": result.school_id == request.user.school_id and _notice_running(result),
        "appeals": appeals,
        "appeal_form": form,
    }
    return _page(request, "portal/result.html", context, status=status)


@for_homes(*SCHOOL_HOMES)
def result_appeal(request: PortalRequest, pk: int) -> HttpResponse:
    result = _result_of(request, pk)
    if request.method != "POST" or result.school_id != request.user.school_id:
        raise Http404
    form = AppealForm(request.POST)
    if form.is_valid():
        indicator = get_object_or_404(
            Indicator.objects.visible_to(request.user).filter(dimension__rubric_id=result.rubric_id),
            code=form.cleaned_data["indicator"],
        )
        try:
            evaluation_services.appeal_file(
                actor=request.user, period=result.period, indicator=indicator, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect("portal:result-detail", pk=result.pk)
    return result_detail.__wrapped__(request, pk, form=form, status=400)


# --- assessors ------------------------------------------------------------------------------


def _assessor_home(request: PortalRequest) -> HttpResponse:
    schools = School.objects.visible_to(request.user).order_by("code")
    periods = summaries.open_periods(request.user).select_related("school_year", "term")
    return _page(request, "portal/assessor_home.html", {"schools": list(schools), "periods": list(periods)})


def _cell(school: School, indicator: Indicator) -> str:
    return f"v{school.pk}_{indicator.pk}"


def _cell_html(cell: dict[str, Any], range_line: str) -> str:
    """One cell of the grid (its label, range line, box and errors), written here rather than
    by the template: the grid has schools × indicators of them, and the template's lookups per
    cell were a third of the page's time (bench/portal.py)."""
    errors = format_html_join("", "<li>{}</li>", ((e,) for e in cell["errors"]))
    return format_html(
        '\n      <div class="cell{}" id="cell-{}">\n        <label for="id_{}">{}</label>\n        {}\n'
        '        <input type="text" inputmode="decimal" id="id_{}" name="{}" value="{}">\n        {}\n'
        "      </div>\n    ",
        " has-error" if cell["errors"] else "",
        cell["name"],
        cell["name"],
        cell["indicator"].name,
        range_line,
        cell["name"],
        cell["name"],
        cell["value"],
        format_html('<ul class="errorlist">{}</ul>', errors) if cell["errors"] else "",
    )


@for_homes(ASSESSOR)
def assess(request: PortalRequest, period_pk: int, school_pk: int | None = None) -> HttpResponse:
    """Schools × the entered indicators of one period; each school's row is saved in one
    submit, all its values in one transaction (any error: nothing kept, every cell's error shown)."""
    period = summaries.open_period(request.user, period_pk)
    if period is None:
        raise Http404
    grid = summaries.assessor_grid(request.user, period)
    posted: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    saved = None
    if request.method == "POST":
        school = next((s for s in grid["schools"] if s.pk == school_pk), None)
        if school is None:
            raise Http404
        posted = {_cell(school, i): request.POST.get(_cell(school, i), "").strip() for i in grid["indicators"]}
        with transaction.atomic():
            for indicator in grid["indicators"]:
                raw = posted[_cell(school, indicator)]
                if raw == "":
                    continue
                try:
                    evaluation_services.indicator_value_set(
                        actor=request.user, period=period, indicator=indicator, school=school, value=raw
                    )
                except ValidationError as error:
                    cell = _cell(school, indicator)
                    if hasattr(error, "error_dict"):
                        for name, messages in error.message_dict.items():
                            (errors.setdefault(cell, []) if name in ("value", "indicator") else general).extend(
                                messages
                            )
                    else:
                        errors.setdefault(cell, []).extend(error.messages)
            if errors or general:
                transaction.set_rollback(True)
        if not (errors or general):
            return redirect(reverse("portal:assess", args=[period.pk]) + f"?saved={school.pk}#school-{school.pk}")
    else:
        saved = request.GET.get("saved")
    # The range line is the same in every school's row: rendered once per indicator.
    ranges = {i.pk: render_to_string("portal/_assess_range.html", {"indicator": i}) for i in grid["indicators"]}
    rows = []
    for school in grid["schools"]:
        cells = []
        for indicator in grid["indicators"]:
            name = _cell(school, indicator)
            value = grid["values"].get((school.pk, indicator.pk))
            shown = posted.get(name, "" if value is None else format(value.normalize(), "f"))
            entry = {"name": name, "indicator": indicator, "value": shown, "errors": errors.get(name, [])}
            entry["html"] = _cell_html(entry, ranges[indicator.pk])
            cells.append(entry)
        missing = sum(1 for i in grid["indicators"] if (school.pk, i.pk) not in grid["values"])
        rows.append({"school": school, "cells": cells, "missing": missing, "saved": str(school.pk) == saved})
    context = {"period": period, "rows": rows, "missing": grid["missing"], "indicators": grid["indicators"]}
    context["general_errors"] = general
    return _page(request, "portal/assess.html", context, status=400 if (errors or general) else 200)


# --- the bureau and auditors ------------------------------------------------------------------


def _overview(request: PortalRequest) -> HttpResponse:
    context = summaries.county_overview(request.user)
    # The bureau's imports (Excel in): a link where the checkpoint lets the user import.
    context["imports_url"] = reverse("imports:index") if access.can_import(request.user, "schools") else None
    context["has_programmes"] = summaries.has_programmes(request.user)
    return _page(request, "portal/overview.html", context)


@for_homes(*COUNTY_HOMES)
def overview(request: PortalRequest) -> HttpResponse:
    return _overview(request)


# --- the lead principal -------------------------------------------------------------------------


@for_homes(LEAD)
def alliance(request: PortalRequest) -> HttpResponse:
    """The alliances the school leads, their schools side by side."""
    school = _own_school(request)
    span = summaries.current_span(request.user)
    views = [
        summaries.alliance_side_by_side(request.user, a, span)
        for a in summaries.led_alliances(request.user, school, span)
    ]
    return _page(request, "portal/alliance.html", {"span": span, "views": views})


def _plan_cell(school_id: int, category: str) -> str:
    return f"c{school_id}_{category}"


MONEY_FIELD = forms.DecimalField(max_digits=14, decimal_places=2)


def _save_plan_lines(request: PortalRequest, plan: SpendingPlan, members, lines: dict) -> dict[str, list[str]]:
    """Write every cell of the grid in one transaction through the plan-line services (the same
    rules as the admin and the API); an empty cell removes its line. Any error: nothing kept,
    the errors by cell."""
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        for m in members:
            for category, _label in Category.choices:
                name = _plan_cell(m.school_id, category)
                raw = request.POST.get(name, "").strip().replace(",", "")
                line = lines.get((m.school_id, category))
                try:
                    if raw == "":
                        if line is not None:
                            funding_services.plan_line_delete(actor=request.user, line=line)
                        continue
                    amount = MONEY_FIELD.clean(raw)
                    if line is None:
                        funding_services.plan_line_add(
                            actor=request.user, plan=plan, school=m.school, category=category, amount=amount
                        )
                    elif line.amount != amount:
                        funding_services.plan_line_update(actor=request.user, line=line, amount=amount)
                except ValidationError as error:
                    errors[name] = error.messages
        if errors:
            transaction.set_rollback(True)
    return errors


@for_homes(LEAD)
def plan(request: PortalRequest, alliance_pk: int) -> HttpResponse:
    """The alliance's spending plan: member × category lines, the total against the fund."""
    user = request.user
    school = _own_school(request)
    span = summaries.current_span(user)
    led = get_object_or_404(summaries.led_alliances(user, school, span), pk=alliance_pk)
    year = FundingYear.objects.visible_to(user).filter(school_year=led.school_year).first()
    if year is None:
        raise Http404
    current = (
        SpendingPlan.objects.changeable_by(user).filter(funding_year=year, alliance=led).order_by("-revision").first()
    )
    members = list(
        Membership.objects.visible_to(user)
        .filter(alliance=led)
        .select_related("school")
        .order_by("role", "school__code")
    )
    lines = {}
    if current is not None:
        lines = {
            (line.school_id, line.category): line for line in PlanLine.objects.changeable_by(user).filter(plan=current)
        }
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "start":
            funding_services.spending_plan_create(actor=user, funding_year=year, alliance=led)
            return redirect("portal:plan", alliance_pk=led.pk)
        if action == "revise" and current is not None:
            funding_services.spending_plan_revise(actor=user, plan=current)
            return redirect("portal:plan", alliance_pk=led.pk)
        if action in ("save", "submit") and current is not None and current.is_editable:
            errors = _save_plan_lines(request, current, members, lines)
            if not errors:
                if action == "submit":
                    funding_services.spending_plan_submit(actor=user, plan=current)
                return redirect("portal:plan", alliance_pk=led.pk)
    except ValidationError as error:
        general = error.messages
    rows = []
    for m in members:
        cells = []
        for category, label in Category.choices:
            name = _plan_cell(m.school_id, category)
            line = lines.get((m.school_id, category))
            value = request.POST.get(name, "") if errors else ("" if line is None else str(line.amount))
            cells.append({"name": name, "label": label, "value": value, "errors": errors.get(name, [])})
        rows.append({"membership": m, "cells": cells})
    context = {
        "alliance": led,
        "year": year,
        "plan": current,
        "rows": rows,
        "fund": funding_services.alliance_fund_capacity(year, led),
        "total": sum((line.amount for line in lines.values()), summaries.ZERO),
        "general_errors": general,
    }
    return _page(request, "portal/plan.html", context, status=400 if (errors or general) else 200)


# --- cross-county programmes (seed 002) --------------------------------------------------------

# Who opens the programme pages: the participating schools' principals and both counties'
# readers (which programmes and which of their rows: the checkpoint's ``visible_to``).
PROGRAMME_HOMES = (*SCHOOL_HOMES, *COUNTY_HOMES)


@for_homes(*PROGRAMME_HOMES)
def programmes(request: PortalRequest) -> HttpResponse:
    """The cross-county programmes the user sees."""
    return _page(request, "portal/programmes.html", {"programmes": summaries.programmes_of(request.user)})


def _programme_of(request: PortalRequest, pk: int) -> Programme:
    return get_object_or_404(
        Programme.objects.visible_to(request.user).select_related("helper_county", "helped_county"), pk=pk
    )


def _task_forms(request: PortalRequest, programme: Programme, view: dict[str, Any], posted: dict) -> dict:
    """A progress form for each task of the programme the user's school reports on (a school
    of its pairing: the checkpoint's ``changeable_by``), none for a dropped one; the bureau keeps
    its task lists in the admin."""
    if request.portal_home.key not in SCHOOL_HOMES:
        return {}
    ids = set(
        PairingTask.objects.changeable_by(request.user)
        .filter(pairing__programme=programme)
        .exclude(status=PairingTask.Status.DROPPED)
        .values_list("pk", flat=True)
    )
    forms_by_task = {}
    for milestone in view["milestones"]:
        for task in milestone.tasks:
            if task.pk not in ids:
                continue
            initial = {"status": task.status, "completed_on": task.completed_on, "progress_notes": task.progress_notes}
            form = posted.get(task.pk) or ProgrammeTaskForm(initial=initial, prefix=f"t{task.pk}")
            forms_by_task[task.pk] = task.progress_form = form  # the template shows it with the task
    return forms_by_task


@for_homes(*PROGRAMME_HOMES)
def programme(request: PortalRequest, pk: int, posted: dict | None = None, status: int = 200) -> HttpResponse:
    """A programme: its pairings, the task timetable (milestones, dates, responsible persons,
    status, evidence) and the term meetings held or missing per term; a participating
    principal reports on its own tasks here (``programme_task``)."""
    found = _programme_of(request, pk)
    view = summaries.programme_view(request.user, found, timezone.localdate())
    view["task_forms"] = _task_forms(request, found, view, posted or {})
    return _page(request, "portal/programme.html", view, status=status)


@for_homes(*SCHOOL_HOMES)
def programme_task(request: PortalRequest, pk: int, task_pk: int) -> HttpResponse:
    """A participating principal's report on one of its programme tasks, through the alliance's
    service (``pairing_task_update``: the progress fields only)."""
    found = _programme_of(request, pk)
    task = get_object_or_404(
        PairingTask.objects.changeable_by(request.user)
        .filter(pairing__programme=found)
        .exclude(status=PairingTask.Status.DROPPED),
        pk=task_pk,
    )
    anchor = f"#task-{task.pk}"
    if request.method != "POST":
        return redirect(reverse("portal:programme", args=[found.pk]) + anchor)
    form = ProgrammeTaskForm(request.POST, request.FILES, prefix=f"t{task.pk}")
    if form.is_valid():
        try:
            alliance_services.pairing_task_update(actor=request.user, task=task, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect(reverse("portal:programme", args=[found.pk]) + f"?saved={task.pk}{anchor}")
    return programme.__wrapped__(request, found.pk, posted={task.pk: form}, status=400)
