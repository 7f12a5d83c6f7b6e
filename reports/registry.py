"""The report registry: each report is one function ``(user, params) → rows`` that starts from
what that user may read; the formatters (``reports.formats`` for CSV and XLSX, ``reports.pdf``)
and the auditor's package (``reports.package``) take any registered report.

A report module declares its columns and registers itself::

    @register(code="ledger", title=_("Fund ledger"), columns=(Column("date", _("Date"), "date"), ...))
    def ledger(user, params): yield (...), ...

Rows are tuples in the columns' order; values are ``str``, ``int``, ``Decimal`` (money: to the
fen), ``datetime.date``/``datetime`` or ``None``. Never a float.

A report whose rows are one query returns it, a ``values_list`` QuerySet of its columns (the
checkpoint asked before it is built, as for any report): its rows are then read in chunks, and
its CSV and XLSX are written by PostgreSQL (``reports.pgcopy``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import QuerySet

ROWS_CHUNK = 5000
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

    def source(self, user: Any, params: Params) -> Iterable[tuple[Any, ...]]:
        """What the report's function returns: its rows, or the query of its rows."""
        return self.rows_fn(user, params)

    def rows(self, user: Any, params: Params) -> Iterator[tuple[Any, ...]]:
        return iterate(self.source(user, params))


def iterate(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """A report's rows one by one: a query's read from a server-side cursor in chunks."""
    if isinstance(rows, QuerySet):
        return rows.iterator(chunk_size=ROWS_CHUNK)
    return iter(rows)


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
