"""The exchange register with its totals by school and kind, and the activity register."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy

from staffing.models import Activity, Exchange
from staffing.querysets import COUNTED_EXCHANGE_STATUSES, clipped_span

from ..registry import Column, Params, register
from ..scoping import COUNTS, any_school, checked, labels, school_ids, span

SEPARATOR = "、"

EXCHANGE_COLUMNS = (
    Column("teacher", gettext_lazy("Teacher")),
    Column("kind", gettext_lazy("Kind")),
    Column("origin_code", gettext_lazy("Origin school code")),
    Column("origin", gettext_lazy("Origin school")),
    Column("hosts", gettext_lazy("Host schools")),
    Column("subject", gettext_lazy("Subject")),
    Column("start", gettext_lazy("Start date"), "date"),
    Column("end", gettext_lazy("End date"), "date"),
    Column("status", gettext_lazy("Status")),
    Column("teacher_days", gettext_lazy("Teacher-days"), "int"),
    Column("logged_by", gettext_lazy("Logged by")),
    Column("approved_by", gettext_lazy("Approved by")),
)


def exchanges_of(user: Any, params: Params) -> Any:  # an ExchangeQuerySet
    """The exchanges of the report (``params`` checked) that meet its span."""
    start, end = span(params)
    exchanges = (
        Exchange.objects.visible_to(user).filter(origin_school__county_id=params.county_id).overlapping(start, end)
    )
    schools = school_ids(params)
    if schools is not None:
        exchanges = exchanges.filter(
            pk__in=Exchange.objects.filter(any_school(schools, "origin_school_id", "hosts__school_id")).values("pk")
        )
    return exchanges


def _exchange_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    start, end = span(params)
    kinds, statuses = labels(Exchange.Kind.choices), labels(Exchange.Status.choices)
    subjects = labels(Exchange._meta.get_field("subject").choices or ())
    rows = (
        exchanges_of(user, params)
        .annotate(
            host_names=StringAgg("hosts__school__name", delimiter=SEPARATOR, order_by="hosts__school__code"),
            span=clipped_span(start, end),
        )
        .order_by("origin_school__code", "start_date", "pk")
        .values_list(
            "teacher__name", "kind", "origin_school__code", "origin_school__name", "host_names", "subject",
            "start_date", "end_date", "status", "span", "logged_by__username", "approved_by__username",
        )
    )  # fmt: skip
    for teacher, kind, code, origin, hosts, subject, begin, finish, status, days, logged, approved in rows.iterator(
        chunk_size=2000
    ):
        counted = status in COUNTED_EXCHANGE_STATUSES
        yield (
            teacher,
            kinds.get(kind, kind),
            code,
            origin,
            hosts or "",
            subjects.get(subject, subject),
            begin,
            finish,
            statuses.get(status, status),
            days.days + 1 if counted else 0,
            logged or "",
            approved or "",
        )


@register(code="exchanges", title=gettext_lazy("Exchange register"), columns=EXCHANGE_COLUMNS)
def exchanges(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """Every exchange that meets the span; teacher-days are the counted ones' days inside it
    (both ends included), as the evaluation counts them."""
    return _exchange_rows(user, checked(user, "exchanges", params))


COUNTS["exchanges"] = lambda user, params: exchanges_of(user, checked(user, "exchanges", params)).count()

TOTAL_COLUMNS = (
    Column("school_code", gettext_lazy("School code")),
    Column("school", gettext_lazy("School")),
    Column("kind", gettext_lazy("Kind")),
    Column("exchanges", gettext_lazy("Exchanges"), "int"),
    Column("teacher_days", gettext_lazy("Teacher-days"), "int"),
)


def _total_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    start, end = span(params)
    kinds = labels(Exchange.Kind.choices)
    rows = (
        Exchange.objects.filter(pk__in=exchanges_of(user, params).counted().values("pk"))
        .annotate(span=clipped_span(start, end))
        .values("origin_school__code", "origin_school__name", "kind")
        .annotate(n=Count("pk"), days=Sum("span"))
        .order_by("origin_school__code", "kind")
        .values_list("origin_school__code", "origin_school__name", "kind", "n", "days")
    )
    for code, school, kind, n, days in rows:
        yield code, school, kinds.get(kind, kind), n, days.days + n


@register(code="exchange_totals", title=gettext_lazy("Exchanges by school and kind"), columns=TOTAL_COLUMNS)
def exchange_totals(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """The counted exchanges of the register and their teacher-days, per origin school and kind."""
    return _total_rows(user, checked(user, "exchange_totals", params))


ACTIVITY_COLUMNS = (
    Column("date", gettext_lazy("Date"), "date"),
    Column("kind", gettext_lazy("Kind")),
    Column("title", gettext_lazy("Title")),
    Column("host_code", gettext_lazy("Host school code")),
    Column("host", gettext_lazy("Host school")),
    Column("schools", gettext_lazy("Schools involved")),
    Column("person_times", gettext_lazy("Person-times"), "int"),
    Column("donation", gettext_lazy("Donated amount"), "money"),
    Column("goods_value", gettext_lazy("Value of goods"), "money"),
    Column("resources", gettext_lazy("Resources shared"), "int"),
)


def activities_of(user: Any, params: Params) -> QuerySet:
    start, end = span(params)
    activities = Activity.objects.visible_to(user).filter(host_school__county_id=params.county_id).between(start, end)
    schools = school_ids(params)
    if schools is not None:
        activities = activities.filter(
            pk__in=Activity.objects.filter(any_school(schools, "host_school_id", "schools")).values("pk")
        )
    return activities


def _activity_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    kinds = labels(Activity.Kind.choices)
    rows = (
        activities_of(user, params)
        .annotate(names=StringAgg("schools__name", delimiter=SEPARATOR, order_by="schools__code"))
        .order_by("date", "pk")
        .values_list(
            "date", "kind", "title", "host_school__code", "host_school__name", "names", "person_times",
            "donation_amount", "goods_value", "resource_count",
        )
    )  # fmt: skip
    for date, kind, *rest in rows.iterator(chunk_size=2000):
        rest[3] = rest[3] or ""
        yield (date, kinds.get(kind, kind), *rest)


@register(code="activities", title=gettext_lazy("Activity register"), columns=ACTIVITY_COLUMNS)
def activities(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """Every activity of the span with its schools and person-times (人次)."""
    return _activity_rows(user, checked(user, "activities", params))


COUNTS["activities"] = lambda user, params: activities_of(user, checked(user, "activities", params)).count()
