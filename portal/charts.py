"""Bar lengths for the server-drawn SVG charts: each bar's share of the longest, in percent."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

HUNDRED = Decimal(100)


def bars(items: Iterable[tuple[str, Any, str]], top: Any = None) -> list[dict[str, str]]:
    """``(label, value, shown)`` → rows with ``pct``, the bar's length (0–100, one decimal) as
    a share of ``top`` (default: the largest value). Values are Decimals or ints; negative ones
    draw no bar."""
    items = [(label, Decimal(value or 0), shown) for label, value, shown in items]
    if top is None:
        top = max((value for _label, value, _shown in items), default=Decimal(0))
    top = Decimal(top)
    rows = []
    for label, value, shown in items:
        pct = (min(max(value, Decimal(0)), top) * HUNDRED / top).quantize(Decimal("0.1")) if top > 0 else Decimal(0)
        rows.append({"label": label, "pct": str(pct), "shown": shown})
    return rows
