"""How the portal writes money and draws its bar charts."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from django import template
from django.db import models
from django.utils.encoding import force_str
from django.utils.translation import get_language

from alliance import formatting

register = template.Library()

# The one way amounts and figures are written (alliance.formatting), as template filters.
register.filter("yuan", formatting.yuan)
register.filter("plain_number", formatting.plain_number)


@cache
def _labels(field: models.Field, language: str | None) -> dict[Any, str]:
    """A field's choice labels by value, translated into the language (built once per field and
    language: the labels are the code's)."""
    return {value: force_str(label) for value, label in field.flatchoices}


def choice_labels(model: type[models.Model], name: str) -> dict[Any, str]:
    """A field's choice labels by value in the current language: what ``get_<name>_display()``
    shows, for rows read as values."""
    return _labels(cast(models.Field, model._meta.get_field(name)), get_language())


@register.filter
def display(row: models.Model, name: str) -> Any:
    """``row.get_<name>_display()``, written as Django writes it, for a row shown in a loop:
    Django's builds a dictionary of every choice per call, hashing (so translating) each label,
    which was a third of the principal's home's template time (bench/portal.py)."""
    field = cast(models.Field, row._meta.get_field(name))
    value = getattr(row, field.attname)
    return force_str(_labels(field, get_language()).get(value, value), strings_only=True)


@register.inclusion_tag("portal/_bar_chart.html")
def bar_chart(rows: list[dict[str, Any]], title: str = "") -> dict[str, Any]:
    """A horizontal bar chart drawn as SVG on the server; rows come from ``portal.charts.bars``."""
    return {"rows": rows, "title": title}
