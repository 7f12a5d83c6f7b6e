from __future__ import annotations

import datetime as dt

from django.db.models import Q

from alliance.querysets import ScopedQuerySet


class TeacherQuerySet(ScopedQuerySet):
    def active(self) -> TeacherQuerySet:
        return self.filter(active=True)


class ExchangeQuerySet(ScopedQuerySet):
    def blocking(self) -> ExchangeQuerySet:
        """Postings that hold a teacher's calendar: the rows the no-overlap rule compares."""
        from .models import Exchange

        return self.filter(status__in=Exchange.BLOCKING_STATUSES).exclude(kind__in=Exchange.EVENT_KINDS)

    def counted(self) -> ExchangeQuerySet:
        """Exchanges that count as work done (teacher-days, evaluation indicators)."""
        from .models import Exchange

        return self.filter(status__in=Exchange.COUNTED_STATUSES)

    def overlapping(self, start: dt.date, end: dt.date) -> ExchangeQuerySet:
        """Exchanges whose inclusive [start_date, end_date] meets the inclusive [start, end]."""
        return self.filter(Q(start_date__lte=end) & Q(end_date__gte=start))

    def teacher_days(self, start: dt.date, end: dt.date) -> int:
        """Inclusive calendar days of the counted exchanges, each clipped to [start, end]."""
        total = 0
        for s, e in self.counted().overlapping(start, end).values_list("start_date", "end_date"):
            total += (min(e, end) - max(s, start)).days + 1
        return total


class ActivityQuerySet(ScopedQuerySet):
    def between(self, start: dt.date, end: dt.date) -> ActivityQuerySet:
        return self.filter(date__gte=start, date__lte=end)
