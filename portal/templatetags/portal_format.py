"""How the portal writes money and draws its bar charts."""

from __future__ import annotations

from typing import Any

from django import template

from alliance import formatting

register = template.Library()

# The one way amounts and figures are written (alliance.formatting), as template filters.
register.filter("yuan", formatting.yuan)
register.filter("plain_number", formatting.plain_number)


@register.inclusion_tag("portal/_bar_chart.html")
def bar_chart(rows: list[dict[str, Any]], title: str = "") -> dict[str, Any]:
    """A horizontal bar chart drawn as SVG on the server; rows come from ``portal.charts.bars``."""
    return {"rows": rows, "title": title}
