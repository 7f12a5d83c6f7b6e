from __future__ import annotations

import datetime as dt

from django.db.models import DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Greatest, Least

from alliance.querysets import ScopedQuerySet

# The staffing rows' vocabulary, defined here once for the app, the evaluation's metrics and
# reports (plain values, importable before the models; the models' choices use the same ones
# and tests/test_rules_staffing.py holds them together).
# Exchanges that count as work done (teacher-days, evaluation indicators): approved, running or
# done; planned and cancelled ones do not.
COUNTED_EXCHANGE_STATUSES = ("approved", "active", "completed")
# Postings that hold a teacher's calendar (the no-overlap rule; migration 0002 repeats it in SQL).
BLOCKING_EXCHANGE_STATUSES = ("planned", "approved", "active")
# History: a completed or cancelled exchange no longer changes.
CLOSED_EXCHANGE_STATUSES = ("completed", "cancelled")
# One-off events: they take no posting slot and may last a single day.
EVENT_EXCHANGE_KINDS = ("lesson_delivery", "online")
# Kinds that move a teacher to another school (the rotation indicator): every kind but the events.
ROTATION_KINDS = ("dispatched", "shadowing", "rotation", "itinerant", "posting", "substitute")
# The national exchange rule looks at teachers who have served at least six years.
ROTATION_ELIGIBLE_YEARS = 6
# Rectification items (整改) still waiting for the supervisor, and the one that is done.
OPEN_RECTIFICATION_STATUSES = ("open", "answered")
CLOSED_RECTIFICATION_STATUS = "closed"
ACTIVITY_KINDS = (
    "teaching_research", "training", "visit", "term_meeting", "donation", "resource_sharing",
    "culture_sports", "online_lesson", "supervision_visit", "quarterly_supervision_meeting",
    "programme_term_meeting",
)  # fmt: skip


def clipped_span(start: dt.date, end: dt.date, prefix: str = "") -> ExpressionWrapper:
    """An exchange's ``end − start`` clipped to [start, end] (a duration): its teacher-days are
    this plus one (both days count). ``prefix`` reaches the exchange from another row
    (``"exchange__"`` from a host)."""
    return ExpressionWrapper(
        Least(F(f"{prefix}end_date"), Value(end)) - Greatest(F(f"{prefix}start_date"), Value(start)),
        output_field=DurationField(),
    )


class TeacherQuerySet(ScopedQuerySet):
    def active(self) -> TeacherQuerySet:
        return self.filter(active=True)


class ExchangeQuerySet(ScopedQuerySet):
    def blocking(self) -> ExchangeQuerySet:
        """Postings that hold a teacher's calendar: the rows the no-overlap rule compares."""
        return self.filter(status__in=BLOCKING_EXCHANGE_STATUSES).exclude(kind__in=EVENT_EXCHANGE_KINDS)

    def counted(self) -> ExchangeQuerySet:
        """Exchanges that count as work done (teacher-days, evaluation indicators)."""
        return self.filter(status__in=COUNTED_EXCHANGE_STATUSES)

    def rotations(self) -> ExchangeQuerySet:
        """Exchanges that move a teacher to another school."""
        return self.filter(kind__in=ROTATION_KINDS)

    def overlapping(self, start: dt.date, end: dt.date) -> ExchangeQuerySet:
        """Exchanges whose inclusive [start_date, end_date] meets the inclusive [start, end]."""
        return self.filter(Q(start_date__lte=end) & Q(end_date__gte=start))

    def teacher_days(self, start: dt.date, end: dt.date) -> int:
        """Inclusive calendar days of the counted exchanges, each clipped to [start, end] (the
        evaluation's teacher-days, ``clipped_span``)."""
        total = 0
        for span in (
            self.counted()
            .overlapping(start, end)
            .annotate(span=clipped_span(start, end))
            .values_list("span", flat=True)
        ):
            total += span.days + 1
        return total


class ActivityQuerySet(ScopedQuerySet):
    def between(self, start: dt.date, end: dt.date) -> ActivityQuerySet:
        return self.filter(date__gte=start, date__lte=end)
