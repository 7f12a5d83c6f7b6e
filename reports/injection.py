"""No exported cell runs as a formula (CSV injection): a text that begins with ``= + - @``, a tab
or a carriage return is written with a leading quote ``'``, in every format. The rule in Python
(the writers' rows) and in SQL (a report exported by PostgreSQL, ``reports.pgcopy``), side by
side; tests/test_reports_pgcopy.py holds them equal."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARS = frozenset(FORMULA_STARTS)
_CODES = ", ".join(str(ord(c)) for c in FORMULA_STARTS)


def neutralised(text: str) -> str:
    """Text as a spreadsheet shows it and never runs (a leading quote before a formula start)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralised_sql(expr: str) -> str:
    """The same in SQL, for a text expression (``ascii`` is the first character's code, 0 for
    the empty text; NULL stays NULL)."""
    return f"CASE WHEN ascii({expr}) IN ({_CODES}) THEN '''' || {expr} ELSE {expr} END"
