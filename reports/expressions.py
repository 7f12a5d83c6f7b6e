"""A report's values worked out in its query, so that the report stays one query that PostgreSQL
can export (``reports.pgcopy``): a choice's words in the current language, a translated
sentence with values put in, the first of several texts that is not empty."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Case, CharField, F, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Concat, NullIf

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def _expression(value: str | Combinable) -> Combinable:
    return F(value) if isinstance(value, str) else value


def choice_label(field: str, labels: dict[Any, str]) -> Case:
    """The field's choice as its words (``scoping.labels``); a value not among them as it is."""
    return Case(
        *(When(**{field: value}, then=Value(label)) for value, label in labels.items()),
        default=Cast(field, CharField()),
        output_field=CharField(),
    )


def sentence(template: str, **values: str | Combinable) -> Combinable:
    """``template % values`` in SQL: a (translated) sentence with ``%(name)s`` placeholders,
    each filled with a field (by name) or an expression, as text (an int as its digits)."""
    parts: list[Combinable] = []
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        literal = template[at : match.start()] + ("%" if match.group(0) == "%%" else "")
        if literal:
            parts.append(Value(literal))
        if match.group(1):
            parts.append(Cast(_expression(values[match.group(1)]), CharField()))
        at = match.end()
    if template[at:]:
        parts.append(Value(template[at:]))
    if "%" in _PLACEHOLDER.sub("", template):
        raise ValueError(f"only %(name)s placeholders are supported: {template!r}")
    if len(parts) == 1:
        return Cast(parts[0], CharField())
    return Concat(*parts, output_field=CharField())


def first_text(*fields: str, default: str = "") -> Coalesce:
    """The first of the text fields that is neither NULL nor empty (``a or b or default``)."""
    return Coalesce(*(NullIf(F(f), Value("")) for f in fields), Value(default), output_field=CharField())
