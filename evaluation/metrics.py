"""The registry of computed indicators' metrics: the one place a developer adds one.

A metric is a function ``(window) -> {school_id: Decimal}``. A ``Window`` is some schools,
the first and last day of a period and the school years concerned: a period's window is its
county's schools (``Window.of(period)``); the nightly run computes a metric once for many
counties' periods that share their dates (``evaluation.compute``). A metric must therefore
be **per school**: a school's value depends on the school's own rows and the window's dates,
never on which other schools share the window. It must use database aggregation: one or a
few queries for all the window's schools, never a query per school (the overnight job's
query count is tested not to grow with the number of schools). A school missing from the
result has no value (0 points by a target or bands rule, left out of a ranking). The nightly
run computes a window's metrics at the same time on several connections (in one snapshot,
``pgtools.snapshots``): a metric only reads, and keeps nothing between calls but what it
puts in ``window.shared``; metrics that share such a read say so with ``shares`` (the
activity metrics do), and are then computed one after another in one thread.

To add one::

    @metric("books_donated", _("Books donated"), unit=_("books"))
    def books_donated(window):
        rows = Donation.objects.filter(window.any_of("school_id"), date__range=window.dates) ...
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils.translation import gettext_lazy as _

from alliance.models import Membership, PairingTask, School
from funding import metrics as funding_metrics
from pgtools.querysets import AnyOf, tuples
from staffing.models import Activity, Exchange, ExchangeHost, MentorMeeting, Rectification, SupervisionVisit, Teacher
from staffing.querysets import ACTIVITY_KINDS as STAFFING_ACTIVITY_KINDS
from staffing.querysets import COUNTED_EXCHANGE_STATUSES, ROTATION_ELIGIBLE_YEARS, ROTATION_KINDS, clipped_span

MetricFn = Callable[["Window"], dict[int, Decimal]]

# The staffing rows' vocabulary is the staffing app's (``staffing.querysets``: plain values,
# importable before the models): which exchanges count, which kinds rotate a teacher, the
# activity kinds. Here only each activity kind's metric label.
_ACTIVITY_LABELS = {
    "teaching_research": _("Teaching-research activities held"),
    "training": _("Trainings held"),
    "visit": _("Visits and needs surveys held"),
    "term_meeting": _("Term meetings held"),
    "donation": _("Donations made or received"),
    "resource_sharing": _("Resource-sharing activities"),
    "culture_sports": _("Cultural and sports events"),
    "online_lesson": _("Online lessons"),
    "supervision_visit": _("Supervision visits"),
    "quarterly_supervision_meeting": _("Quarterly supervision feedback meetings held"),
    "programme_term_meeting": _("Programme term meetings held"),
}
ACTIVITY_KINDS = {kind: _ACTIVITY_LABELS[kind] for kind in STAFFING_ACTIVITY_KINDS}


@dataclass
class Window:
    """What metrics are computed over: ``school_ids`` between ``start_date`` and ``end_date``
    (both included), in the school years ``school_year_ids`` (a county's school year; one per
    county of the window). ``keys`` names the metrics that will be computed on it, so that
    metrics sharing a query ask for all of them at once. ``cache`` holds what several metrics share (one query for every
    activity kind, say) for as long as the window lives: a window is made for one computation
    and dropped after it."""

    school_ids: list[int]
    start_date: date
    end_date: date
    school_year_ids: list[int]
    keys: frozenset[str] = frozenset()  # the metrics to be computed on the window, when known
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def of(cls, period: Any, school_ids: Iterable[int] | None = None) -> Window:
        """A period's window: every school of its county (active or not), or ``school_ids``."""
        if school_ids is None:
            school_ids = School.objects.filter(county_id=period.county_id).order_by("pk").values_list("pk", flat=True)
        return cls(list(school_ids), period.start_date, period.end_date, [period.school_year_id])

    def any_of(self, field: str) -> AnyOf:
        """A filter: ``field`` is one of the window's schools (one array parameter)."""
        return AnyOf(field, self.school_ids)

    @property
    def dates(self) -> tuple[date, date]:
        return (self.start_date, self.end_date)

    def shared(self, key: str, read: Callable[[], Any]) -> Any:
        """``read()`` once per window: what several metrics share is read in one query. Safe
        when metrics of the window run in several threads (a second thread waits for the
        read); the metrics that share a read name it in ``shares`` so that the nightly run
        computes them in one thread and nobody waits."""
        with self._lock:
            if key not in self.cache:
                self.cache[key] = read()
            return self.cache[key]


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any
    unit: Any
    fn: MetricFn
    shares: str = ""  # metrics that share a ``Window.shared`` read name the same group

    def __call__(self, window: Any) -> dict[int, Decimal]:
        """Values per school of a ``Window``, or of a period (its county's window)."""
        return self.fn(window if isinstance(window, Window) else Window.of(window))


REGISTRY: dict[str, Metric] = {}


def metric(key: str, label: Any, *, unit: Any = "", shares: str = "") -> Callable[[MetricFn], MetricFn]:
    def register(fn: MetricFn) -> MetricFn:
        if key in REGISTRY:
            raise ValueError(f"metric {key!r} is registered twice")
        REGISTRY[key] = Metric(key=key, label=label, unit=unit, fn=fn, shares=shares)
        return fn

    return register


def choices() -> list[tuple[str, Any]]:
    return [(m.key, m.label) for m in REGISTRY.values()]


def _d(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(x or 0)


def _pct(part: Any, whole: Any) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.0001"))


# --- exchanges ---------------------------------------------------------------------------


def _exchanges(window: Window):
    return Exchange.objects.filter(
        status__in=COUNTED_EXCHANGE_STATUSES,
        start_date__lte=window.end_date,
        end_date__gte=window.start_date,
    )


def _teacher_days(qs, window: Window, prefix: str, group_by: str) -> dict[int, Decimal]:
    """Inclusive calendar days of each exchange clipped to the window, summed per school."""
    span = clipped_span(window.start_date, window.end_date, prefix)
    rows = tuples(
        qs.values(group_by).annotate(span=Sum(span), n=Count("pk")).order_by().values_list(group_by, "span", "n")
    )
    # Each row's span is end − start; the inclusive count adds one day per exchange.
    return {school: Decimal((total or timedelta(0)).days + n) for school, total, n in rows}


@metric("exchange_days_sent", _("Exchange teacher-days sent"), unit=_("teacher-days"))
def exchange_days_sent(window: Window) -> dict[int, Decimal]:
    qs = _exchanges(window).filter(window.any_of("origin_school_id"))
    return _teacher_days(qs, window, "", "origin_school_id")


@metric("exchange_days_hosted", _("Exchange teacher-days hosted"), unit=_("teacher-days"))
def exchange_days_hosted(window: Window) -> dict[int, Decimal]:
    """Each host school of an exchange counts its whole clipped length (a 走教 teacher serving
    two schools in turn gives each the full teacher-days: the exchange does not say how the
    days were divided)."""
    qs = ExchangeHost.objects.filter(
        window.any_of("school_id"),
        exchange__status__in=COUNTED_EXCHANGE_STATUSES,
        exchange__start_date__lte=window.end_date,
        exchange__end_date__gte=window.start_date,
    )
    return _teacher_days(qs, window, "exchange__", "school_id")


@metric("dispatched_teachers", _("Teachers dispatched (支教)"), unit=_("teachers"))
def dispatched_teachers(window: Window) -> dict[int, Decimal]:
    rows = tuples(
        _exchanges(window)
        .filter(window.any_of("origin_school_id"), kind="dispatched")
        .values("origin_school_id")
        .annotate(n=Count("teacher_id", distinct=True))
        .order_by()
        .values_list("origin_school_id", "n")
    )
    return {school: Decimal(n) for school, n in rows}


@metric("rotation_ratio", _("Rotation ratio (% of eligible teachers who took part in an exchange)"), unit="%")
def rotation_ratio(window: Window) -> dict[int, Decimal]:
    took_part = Q(
        exchanges__status__in=COUNTED_EXCHANGE_STATUSES,
        exchanges__kind__in=ROTATION_KINDS,
        exchanges__start_date__lte=window.end_date,
        exchanges__end_date__gte=window.start_date,
    )
    rows = tuples(
        Teacher.objects.filter(window.any_of("school_id"), active=True, years_of_service__gte=ROTATION_ELIGIBLE_YEARS)
        .values("school_id")
        .annotate(eligible=Count("pk", distinct=True), took_part=Count("pk", filter=took_part, distinct=True))
        .order_by()
        .values_list("school_id", "eligible", "took_part")
    )
    return {school: _pct(took, eligible) for school, eligible, took in rows}


# --- activities --------------------------------------------------------------------------


def _activities_by_school(window: Window, kind: str) -> dict[int, Decimal]:
    """Activities of a kind each school took part in: as organiser or as a school involved.
    The window's other activity metrics (``window.keys``) are counted in the same queries."""
    kinds = sorted({k for k in ACTIVITY_KINDS if f"activities_{k}" in window.keys} | {kind})
    return window.shared("activities:" + ",".join(kinds), lambda: _activities_by_kind_and_school(window, kinds)).get(
        kind, {}
    )


def _activities_by_kind_and_school(window: Window, kinds: list[str]) -> dict[str, dict[int, Decimal]]:
    """kind → school → activities of that kind the school took part in, for several kinds in
    the same two queries (the activity metrics of a rubric share them). A school involved counts the
    activity whoever organised it, another county's school included (跨区域 activities are
    the school's too; only a county's own staff can name its schools as involved); an
    organiser counts it once more only when it is not among the schools involved."""
    involved_in = Activity.schools.through.objects
    involved = tuples(
        involved_in.filter(window.any_of("school_id"), activity__date__range=window.dates, activity__kind__in=kinds)  # type: ignore[misc]
        .values("activity__kind", "school_id")
        .annotate(n=Count("activity_id"))
        .order_by()
        .values_list("activity__kind", "school_id", "n")
    )
    out: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for kind, school, n in involved:
        out[kind][school] += n
    itself = involved_in.filter(activity_id=OuterRef("pk"), school_id=OuterRef("host_school_id"))
    hosted_only = tuples(
        Activity.objects.filter(window.any_of("host_school_id"), date__range=window.dates, kind__in=kinds)
        .filter(~Exists(itself))
        .values("kind", "host_school_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("kind", "host_school_id", "n")
    )
    for kind, school, n in hosted_only:
        out[kind][school] += n
    return {kind: {school: Decimal(n) for school, n in by_school.items()} for kind, by_school in out.items()}


def _register_activity_metrics() -> None:
    for kind, label in ACTIVITY_KINDS.items():
        metric(f"activities_{kind}", label, unit=_("activities"), shares="activities")(
            lambda window, kind=kind: _activities_by_school(window, kind)  # type: ignore[misc]
        )


_register_activity_metrics()


@metric("training_person_times", _("Training person-times (人次) organised"), unit=_("person-times"))
def training_person_times(window: Window) -> dict[int, Decimal]:
    rows = tuples(
        Activity.objects.filter(window.any_of("host_school_id"), date__range=window.dates, kind="training")
        .values("host_school_id")
        .annotate(n=Sum("person_times"))
        .order_by()
        .values_list("host_school_id", "n")
    )
    return {school: _d(n) for school, n in rows}


@metric("lead_visit_share", _("Share of member schools visited by the lead school"), unit="%")
def lead_visit_share(window: Window) -> dict[int, Decimal]:
    """Per lead school of an alliance of the window's school years: the share of its member
    schools that took part in a visit it organised."""
    ids = set(window.school_ids)
    rows = tuples(
        Membership.objects.filter(alliance__school_year_id__in=window.school_year_ids)
        .values_list("alliance_id", "school_id", "role")
        .order_by()
    )
    leads: dict[int, int] = {}
    by_alliance: dict[int, set[int]] = defaultdict(set)
    for alliance_id, school_id, role in rows:
        if role == "lead":
            leads[alliance_id] = school_id
        else:
            by_alliance[alliance_id].add(school_id)
    members: dict[int, set[int]] = defaultdict(set)
    for alliance_id, lead in leads.items():
        if lead in ids:
            members[lead] |= by_alliance[alliance_id]
    visited: dict[int, set[int]] = defaultdict(set)
    pairs = tuples(
        Activity.schools.through.objects.filter(
            window.any_of("activity__host_school_id"),
            activity__kind="visit",
            activity__date__range=window.dates,
        )
        .values_list("activity__host_school_id", "school_id")
        .distinct()
        .order_by()
    )
    for host, school in pairs:
        visited[host].add(school)
    return {lead: _pct(len(visited[lead] & ms), len(ms)) for lead, ms in members.items() if ms}


# --- pairings and mentoring --------------------------------------------------------------


@metric("pairing_tasks_on_time", _("Pairing tasks done on time (%)"), unit="%")
def pairing_tasks_on_time(window: Window) -> dict[int, Decimal]:
    """Tasks due in the window, per school on either side of a pairing of the school years'
    alliances or of a cross-county programme (seed 002: a programme's tasks are the school's
    own work, reported by the school like its alliance's; a programme pairing has no school
    year, so its tasks count by their due date alone). A helper school of another county
    counts them in its own county's window."""
    qs = PairingTask.objects.filter(
        Q(pairing__alliance__school_year_id__in=window.school_year_ids) | Q(pairing__programme__isnull=False),
        due_date__range=window.dates,
    ).exclude(status="dropped")
    on_time = Q(status="done", completed_on__lte=F("due_date"))
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for side in ("pairing__helper_school_id", "pairing__helped_school_id"):
        rows = qs.filter(window.any_of(side)).values(side)
        for school, n, ok in tuples(
            rows.annotate(n=Count("pk"), ok=Count("pk", filter=on_time)).order_by().values_list(side, "n", "ok")
        ):
            totals[school][0] += n
            totals[school][1] += ok
    return {school: _pct(ok, n) for school, (n, ok) in totals.items() if n}


@metric("mentoring_meetings", _("Mentoring (青蓝结对) meetings held"), unit=_("meetings"))
def mentoring_meetings(window: Window) -> dict[int, Decimal]:
    """Meetings in the window, for the mentor's school and (once more) the mentee's when it is
    another school, whichever county the other side is in."""
    meetings = MentorMeeting.objects.filter(date__range=window.dates)
    out: dict[int, int] = defaultdict(int)
    mentors = meetings.filter(window.any_of("pair__mentor__school_id"))
    side = "pair__mentor__school_id"
    for school, n in tuples(mentors.values(side).annotate(n=Count("pk")).order_by().values_list(side, "n")):
        out[school] += n
    mentees = meetings.filter(window.any_of("pair__mentee__school_id")).exclude(
        pair__mentee__school_id=F("pair__mentor__school_id")
    )
    side = "pair__mentee__school_id"
    for school, n in tuples(mentees.values(side).annotate(n=Count("pk")).order_by().values_list(side, "n")):
        out[school] += n
    return {school: Decimal(n) for school, n in out.items()}


# --- supervision (seed 004) -------------------------------------------------------------


@metric("supervision_visits", _("Supervision visits received"), unit=_("visits"))
def supervision_visits(window: Window) -> dict[int, Decimal]:
    """Visits of the school's supervisors (责任督学) in the window."""
    rows = SupervisionVisit.objects.filter(window.any_of("school_id"), date__range=window.dates)
    return {
        school: Decimal(n)
        for school, n in tuples(
            rows.values("school_id").annotate(n=Count("pk")).order_by().values_list("school_id", "n")
        )
    }


@metric("rectifications_on_time", _("Rectification items closed on time (%)"), unit="%")
def rectifications_on_time(window: Window) -> dict[int, Decimal]:
    """Of the rectification items due in the window, the share the supervisor closed by the due date."""
    rows = Rectification.objects.filter(window.any_of("visit__school_id"), due_date__range=window.dates)
    on_time = Q(status="closed", closed_at__date__lte=F("due_date"))
    side = "visit__school_id"
    return {
        school: _pct(ok, n)
        for school, n, ok in tuples(
            rows.values(side)
            .annotate(n=Count("pk"), ok=Count("pk", filter=on_time))
            .order_by()
            .values_list(side, "n", "ok")
        )
        if n
    }


# --- funding -----------------------------------------------------------------------------


@metric("plan_execution_rate", _("70 % plan execution rate"), unit="%")
def plan_execution_rate(window: Window) -> dict[int, Decimal]:
    """Spent ÷ planned of the funding year of the school's school year (the year's approved
    plan, whichever dates the period has)."""
    # From the sums, rounded once: a rate already rounded to 4 decimals of the ratio would lose
    # the percentage's last two decimals (33.3300 instead of 33.3333).
    rows = funding_metrics.planned_and_spent_by_school(window.school_year_ids, window.school_ids)
    return {school: _pct(spent, planned) for school, (planned, spent) in rows.items() if planned}
