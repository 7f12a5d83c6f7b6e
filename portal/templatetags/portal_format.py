"""How the portal writes money and draws its bar charts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()

FEN = Decimal("0.01")


@register.filter
def yuan(value: Any) -> str:
    """¥1,234.56: a Decimal (or its text, or an int) to the fen with thousands separators.
    A float is refused: money never passes through binary floating point."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        raise TypeError("money is a Decimal, not a float")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return "—"
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.inclusion_tag("portal/_bar_chart.html")
def bar_chart(rows: list[dict[str, Any]], title: str = "") -> dict[str, Any]:
    """A horizontal bar chart drawn as SVG on the server; rows come from ``portal.charts.bars``."""
    return {"rows": rows, "title": title}


@register.filter
def plain_number(value: Any) -> str:
    """A stored value without its trailing zeros: 50.0000 → 50, 12.5000 → 12.5."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number.normalize(), "f")
