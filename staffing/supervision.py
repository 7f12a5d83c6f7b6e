"""The bureau's view of the supervision rule (seed 004): each school visited by its supervisor
at least ``SUPERVISION_VISITS_PER_MONTH`` times a calendar month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from alliance.models import School, SchoolYear

from .models import SupervisionVisit


@dataclass(frozen=True)
class GridCell:
    month: dt.date  # the month's first day
    visits: int
    gap: bool  # a month begun with fewer visits than the rule asks


@dataclass(frozen=True)
class GridRow:
    school: School
    cells: list[GridCell]

    @property
    def gaps(self) -> int:
        return sum(cell.gap for cell in self.cells)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every calendar month that meets [start, end]."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def school_year_months(school_year: SchoolYear) -> list[dt.date]:
    return months_between(school_year.start_date, school_year.end_date)


def visit_grid(*, schools: QuerySet[School], months: Iterable[dt.date], today: dt.date | None = None) -> list[GridRow]:
    """School × month visit counts for ``schools`` (already scoped by the caller), with the
    months marked whose count is below the rule. Two queries, whatever the number of schools:
    the schools, and the visits counted per school and month."""
    months = sorted(months)
    today = today or timezone.localdate()
    required = settings.SUPERVISION_VISITS_PER_MONTH
    rows = list(schools.order_by("code"))
    counts: dict[tuple[int, dt.date], int] = {}
    if months and rows:
        last = (months[-1] + dt.timedelta(days=32)).replace(day=1)
        visits = (
            SupervisionVisit.objects.filter(school__in=schools, date__gte=months[0], date__lt=last)
            .annotate(month=TruncMonth("date"))
            .values("school_id", "month")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("school_id", "month", "n")
        )
        counts = {(school_id, month): n for school_id, month, n in visits}
    return [
        GridRow(
            school=school,
            cells=[
                GridCell(month=m, visits=(n := counts.get((school.pk, m), 0)), gap=m <= today and n < required)
                for m in months
            ],
        )
        for school in rows
    ]
