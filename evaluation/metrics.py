"""The registry of computed indicators' metrics: the one place a developer adds one.

A metric is a function ``(period) -> {school_id: Decimal}`` over the data logged in the
period's county between its start and end dates. It must use database aggregation: one or
a few queries for all schools of the county, never a query per school (the overnight job's
query count is tested not to grow with the number of schools). A school missing from the
result has no value (0 points by a target or bands rule, left out of a ranking).

To add one::

    @metric("books_donated", _("Books donated"), unit=_("books"))
    def books_donated(period):
        ...

The staffing and funding apps are imported inside the functions: the registry must be
importable (for the rubric form's choices) whatever state their data is in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext_lazy as _

MetricFn = Callable[[Any], dict[int, Decimal]]

# Exchanges that count: approved, running or done (planned and cancelled ones do not).
COUNTED_EXCHANGE_STATUSES = ("approved", "active", "completed")
# The national exchange rule looks at teachers who have served at least six years.
ROTATION_ELIGIBLE_YEARS = 6
# Exchange kinds that move a teacher (an online lesson or a one-off 送教 does not rotate anyone).
ROTATION_KINDS = ("dispatched", "shadowing", "rotation", "itinerant", "posting", "substitute")
ACTIVITY_KINDS = {
    "teaching_research": _("Teaching-research activities held"),
    "training": _("Trainings held"),
    "visit": _("Visits and needs surveys held"),
    "term_meeting": _("Term meetings held"),
    "donation": _("Donations made or received"),
    "resource_sharing": _("Resource-sharing activities"),
    "culture_sports": _("Cultural and sports events"),
    "online_lesson": _("Online lessons"),
    "supervision_visit": _("Supervision visits"),
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any
    unit: Any
    fn: MetricFn

    def __call__(self, period: Any) -> dict[int, Decimal]:
        return self.fn(period)


REGISTRY: dict[str, Metric] = {}


def metric(key: str, label: Any, *, unit: Any = "") -> Callable[[MetricFn], MetricFn]:
    def register(fn: MetricFn) -> MetricFn:
        if key in REGISTRY:
            raise ValueError(f"metric {key!r} is registered twice")
        REGISTRY[key] = Metric(key=key, label=label, unit=unit, fn=fn)
        return fn

    return register


def choices() -> list[tuple[str, Any]]:
    return [(m.key, m.label) for m in REGISTRY.values()]


def _d(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(x or 0)


def _pct(part: Any, whole: Any) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.0001"))


def county_school_ids(period: Any) -> list[int]:
    """The ids of every school of the period's county (active or not), read once per period.

    Metrics restrict to the county by these ids rather than through a join on the school's
    county: PostgreSQL then answers each metric from the school-id indexes in proportion to
    the county's rows, not the whole province's (one county's query used to scan every
    county's activities)."""

    def read() -> list[int]:
        from alliance.models import School

        return list(School.objects.filter(county_id=period.county_id).order_by("pk").values_list("pk", flat=True))

    return _cached(period, "county_school_ids", read)


def _cached(period: Any, key: str, read: Callable[[], Any]) -> Any:
    """``read()`` once per period and computation: what several metrics share (the county's
    school ids, every activity kind's counts) is read in one query, not once per metric.
    Only within ``compute_period``, which gives the period an empty cache at its start; a
    metric called on its own reads afresh every time."""
    cache = getattr(period, "_metric_cache", None)
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


# --- exchanges ---------------------------------------------------------------------------


def _exchanges(period: Any):
    from staffing.models import Exchange

    return Exchange.objects.filter(
        status__in=COUNTED_EXCHANGE_STATUSES,
        start_date__lte=period.end_date,
        end_date__gte=period.start_date,
    )


def _teacher_days(qs, period: Any, prefix: str, group_by: str) -> dict[int, Decimal]:
    """Inclusive calendar days of each exchange clipped to the period, summed per school."""
    span = ExpressionWrapper(
        Least(F(f"{prefix}end_date"), Value(period.end_date))
        - Greatest(F(f"{prefix}start_date"), Value(period.start_date)),
        output_field=DurationField(),
    )
    rows = qs.values(group_by).annotate(span=Sum(span), n=Count("pk")).order_by()
    # Each row's span is end − start; the inclusive count adds one day per exchange.
    return {r[group_by]: Decimal((r["span"] or timedelta(0)).days + r["n"]) for r in rows}


@metric("exchange_days_sent", _("Exchange teacher-days sent"), unit=_("teacher-days"))
def exchange_days_sent(period: Any) -> dict[int, Decimal]:
    qs = _exchanges(period).filter(origin_school_id__in=county_school_ids(period))
    return _teacher_days(qs, period, "", "origin_school_id")


@metric("exchange_days_hosted", _("Exchange teacher-days hosted"), unit=_("teacher-days"))
def exchange_days_hosted(period: Any) -> dict[int, Decimal]:
    from staffing.models import ExchangeHost

    qs = ExchangeHost.objects.filter(
        school_id__in=county_school_ids(period),
        exchange__status__in=COUNTED_EXCHANGE_STATUSES,
        exchange__start_date__lte=period.end_date,
        exchange__end_date__gte=period.start_date,
    )
    return _teacher_days(qs, period, "exchange__", "school_id")


@metric("dispatched_teachers", _("Teachers dispatched (支教)"), unit=_("teachers"))
def dispatched_teachers(period: Any) -> dict[int, Decimal]:
    rows = (
        _exchanges(period)
        .filter(origin_school_id__in=county_school_ids(period), kind="dispatched")
        .values("origin_school_id")
        .annotate(n=Count("teacher_id", distinct=True))
        .order_by()
    )
    return {r["origin_school_id"]: Decimal(r["n"]) for r in rows}


@metric("rotation_ratio", _("Rotation ratio (% of eligible teachers who took part in an exchange)"), unit="%")
def rotation_ratio(period: Any) -> dict[int, Decimal]:
    from staffing.models import Teacher

    eligible = Q(active=True, years_of_service__gte=ROTATION_ELIGIBLE_YEARS)
    took_part = eligible & Q(
        exchanges__status__in=COUNTED_EXCHANGE_STATUSES,
        exchanges__kind__in=ROTATION_KINDS,
        exchanges__start_date__lte=period.end_date,
        exchanges__end_date__gte=period.start_date,
    )
    rows = (
        Teacher.objects.filter(school_id__in=county_school_ids(period))
        .values("school_id")
        .annotate(
            eligible=Count("pk", filter=eligible, distinct=True),
            took_part=Count("pk", filter=took_part, distinct=True),
        )
        .order_by()
    )
    return {r["school_id"]: _pct(r["took_part"], r["eligible"]) for r in rows if r["eligible"]}


# --- activities --------------------------------------------------------------------------


def _activities(period: Any, **filters: Any):
    from staffing.models import Activity

    return Activity.objects.filter(
        host_school_id__in=county_school_ids(period),
        date__gte=period.start_date,
        date__lte=period.end_date,
        **filters,
    )


def _activities_by_school(period: Any, kind: str) -> dict[int, Decimal]:
    """Activities of a kind each school took part in: as organiser or as a school involved."""
    return _cached(period, "activities_by_kind", lambda: _activities_by_kind_and_school(period)).get(kind, {})


def _activities_by_kind_and_school(period: Any) -> dict[str, dict[int, Decimal]]:
    """kind → school → activities of that kind the school took part in, every kind in the same
    two queries (the activity metrics of a rubric share them)."""
    from staffing.models import Activity

    qs = _activities(period)
    involved = (
        Activity.schools.through.objects.filter(activity__in=qs.values("pk"))
        .values("activity__kind", "school_id")
        .annotate(n=Count("activity_id", distinct=True))
        .order_by()
    )
    out: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in involved:
        out[r["activity__kind"]][r["school_id"]] += r["n"]
    hosted_only = (
        qs.exclude(schools=F("host_school")).values("kind", "host_school_id").annotate(n=Count("pk")).order_by()
    )
    for r in hosted_only:
        out[r["kind"]][r["host_school_id"]] += r["n"]
    return {kind: dict(by_school) for kind, by_school in out.items()}


def _register_activity_metrics() -> None:
    for kind, label in ACTIVITY_KINDS.items():
        metric(f"activities_{kind}", label, unit=_("activities"))(
            lambda period, kind=kind: _activities_by_school(period, kind)
        )


_register_activity_metrics()


@metric("training_person_times", _("Training person-times (人次) organised"), unit=_("person-times"))
def training_person_times(period: Any) -> dict[int, Decimal]:
    rows = _activities(period, kind="training").values("host_school_id").annotate(n=Sum("person_times")).order_by()
    return {r["host_school_id"]: _d(r["n"]) for r in rows}


@metric("lead_visit_share", _("Share of member schools visited by the lead school"), unit="%")
def lead_visit_share(period: Any) -> dict[int, Decimal]:
    from alliance.models import Membership
    from staffing.models import Activity

    members: dict[int, set[int]] = defaultdict(set)
    rows = (
        Membership.objects.filter(alliance__school_year_id=period.school_year_id)
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
    for alliance_id, lead in leads.items():
        members[lead] |= by_alliance[alliance_id]
    visited: dict[int, set[int]] = defaultdict(set)
    pairs = (
        Activity.schools.through.objects.filter(activity__in=_activities(period, kind="visit").values("pk"))
        .values_list("activity__host_school_id", "school_id")
        .distinct()
        .order_by()
    )
    for host, school in pairs:
        visited[host].add(school)
    return {lead: _pct(len(visited[lead] & ms), len(ms)) for lead, ms in members.items() if ms}


# --- pairings and mentoring --------------------------------------------------------------


@metric("pairing_tasks_on_time", _("Pairing tasks done on time (%)"), unit="%")
def pairing_tasks_on_time(period: Any) -> dict[int, Decimal]:
    """Tasks due in the period, per school on either side of the pairing."""
    from alliance.models import PairingTask

    qs = PairingTask.objects.filter(
        pairing__alliance__school_year_id=period.school_year_id,
        due_date__gte=period.start_date,
        due_date__lte=period.end_date,
    ).exclude(status="dropped")
    on_time = Q(status="done", completed_on__lte=F("due_date"))
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for side in ("pairing__helper_school_id", "pairing__helped_school_id"):
        for r in qs.values(side).annotate(n=Count("pk"), ok=Count("pk", filter=on_time)).order_by():
            totals[r[side]][0] += r["n"]
            totals[r[side]][1] += r["ok"]
    return {school: _pct(ok, n) for school, (n, ok) in totals.items() if n}


@metric("mentoring_meetings", _("Mentoring (青蓝结对) meetings held"), unit=_("meetings"))
def mentoring_meetings(period: Any) -> dict[int, Decimal]:
    from staffing.models import MentorMeeting

    qs = MentorMeeting.objects.filter(
        date__gte=period.start_date,
        date__lte=period.end_date,
        pair__mentor__school_id__in=county_school_ids(period),
    )
    out: dict[int, Decimal] = defaultdict(Decimal)
    for r in qs.values("pair__mentor__school_id").annotate(n=Count("pk")).order_by():
        out[r["pair__mentor__school_id"]] += r["n"]
    other_school = qs.exclude(pair__mentee__school_id=F("pair__mentor__school_id"))
    for r in other_school.values("pair__mentee__school_id").annotate(n=Count("pk")).order_by():
        out[r["pair__mentee__school_id"]] += r["n"]
    return dict(out)


# --- funding -----------------------------------------------------------------------------


@metric("plan_execution_rate", _("70 % plan execution rate"), unit="%")
def plan_execution_rate(period: Any) -> dict[int, Decimal]:
    from funding import metrics as funding_metrics
    from funding.models import FundingYear

    funding_year = FundingYear.objects.filter(county_id=period.county_id, school_year_id=period.school_year_id).first()
    if funding_year is None:
        return {}
    # From the sums, rounded once: a rate already rounded to 4 decimals of the ratio would lose
    # the percentage's last two decimals (33.3300 instead of 33.3333).
    rows = funding_metrics.planned_and_spent(funding_year)
    return {school: _pct(spent, planned) for school, (planned, spent) in rows.items() if planned}
