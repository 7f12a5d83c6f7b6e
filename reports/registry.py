"""The report registry: each report is one function ``(user, params) → rows`` that starts from
what that user may read; the formatters (``reports.formats`` for CSV and XLSX, ``reports.pdf``)
and the auditor's package (``reports.package``) take any registered report.

A report module declares its columns and registers itself::

    @register(code="ledger", title=_("Fund ledger"), columns=(Column("date", _("Date"), "date"), ...))
    def ledger(user, params): yield (...), ...

Rows are tuples in the columns' order; values are ``str``, ``int``, ``Decimal`` (money: to the
fen), ``datetime.date``/``datetime`` or ``None``. Never a float."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

ColumnKind = Literal["text", "int", "decimal", "money", "date", "datetime"]


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Params:
    """What a report is asked for: a county and school year, optionally narrowed."""

    county_id: int
    school_year_id: int
    term_id: int | None = None
    alliance_id: int | None = None
    school_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


RowsFn = Callable[[Any, Params], Iterable[tuple[Any, ...]]]


@dataclass(frozen=True)
class Report:
    code: str
    title: Any
    columns: tuple[Column, ...]
    rows_fn: RowsFn

    def rows(self, user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows_fn(user, params))


REPORTS: dict[str, Report] = {}


def register(*, code: str, title: Any, columns: tuple[Column, ...]) -> Callable[[RowsFn], RowsFn]:
    def wrap(fn: RowsFn) -> RowsFn:
        if code in REPORTS:
            raise ValueError(f"report {code!r} registered twice")
        REPORTS[code] = Report(code=code, title=title, columns=columns, rows_fn=fn)
        return fn

    return wrap


def get(code: str) -> Report:
    return REPORTS[code]
