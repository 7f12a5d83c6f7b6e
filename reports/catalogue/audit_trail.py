"""An extract of the audit trail: who changed what, when and from where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from alliance.models import School
from audit.models import AuditRecord

from ..registry import Column, Params, register
from ..scoping import COUNTS, checked, labels, school_ids, span

AUDIT_COLUMNS = (
    Column("record", gettext_lazy("Record no."), "int"),
    Column("at", gettext_lazy("When"), "datetime"),
    Column("action", gettext_lazy("Action")),
    Column("model", gettext_lazy("Object type")),
    Column("object_id", gettext_lazy("Object id")),
    Column("username", gettext_lazy("User")),
    Column("role", gettext_lazy("Role")),
    Column("school", gettext_lazy("School")),
    Column("client_addr", gettext_lazy("Client address")),
    Column("source", gettext_lazy("Request or command")),
    Column("before", gettext_lazy("Before")),
    Column("after", gettext_lazy("After")),
)


def records_of(user: Any, params: Params) -> QuerySet:
    """The county's records of the term's days, or of the school year from its first day on (a
    year's books and results are still published, corrected and closed after its last day)."""
    start, end = span(params)
    records = AuditRecord.objects.visible_to(user).filter(county_id=params.county_id, at__date__gte=start)
    if params.term_id is not None:
        records = records.filter(at__date__lte=end)
    schools = school_ids(params)
    if schools is not None:
        records = records.filter(school_id__in=schools)
    return records


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _audit_rows(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    actions = labels(AuditRecord.Action.choices)
    names = dict(School.objects.filter(county_id=params.county_id).values_list("pk", "name"))
    tz = timezone.get_current_timezone()
    rows = (
        records_of(user, params)
        .order_by("pk")
        .values_list(
            "pk", "at", "action", "model", "object_id", "username", "role", "school_id", "client_addr", "source",
            "before", "after",
        )
    )  # fmt: skip
    for pk, at, action, model, object_id, username, role, school, addr, source, before, after in rows.iterator(
        chunk_size=2000
    ):
        yield (
            pk, at.astimezone(tz), actions.get(action, action), model, object_id, username, role,
            names.get(school, "" if school is None else str(school)), addr or "", source, _json(before), _json(after),
        )  # fmt: skip


@register(code="audit", title=gettext_lazy("Audit trail extract"), columns=AUDIT_COLUMNS)
def audit(user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
    """The trail's records of the county in the span (of the school or alliance's schools)."""
    return _audit_rows(user, checked(user, "audit", params))


COUNTS["audit"] = lambda user, params: records_of(user, checked(user, "audit", params)).count()
