"""Read queries built and compiled once per process, then run with each request's values.

A portal page's queries have the same SQL for every user of the same kind; only their values
differ (the user's school and county, today's date, the term's dates). Building such a query
through the checkpoint and compiling it costs more Python time than PostgreSQL takes to run it:
the principal's home spent about twice as long building and compiling its dozen statements as
the bare view it is measured against took for everything (bench/README.md, "Fourth pass").

A *compiled query* is a function of the user and named values that returns a ``values()`` or
``values_list()`` QuerySet, built without reading the database::

    @compiled.query(school=int, start=dt.date)
    def open_tasks(user, school, start):
        return PairingTask.objects.visible_to(user).filter(...).values("title", "due_date")

    rows = open_tasks(request.user, school=school.pk, start=span.start)  # a list of dicts

The first call for a *shape* (the user's shape as the checkpoint defines it,
``access.scope_shape``; which values are None; the language, the time zone and the database)
builds the QuerySet twice, for two stand-in users (``access.stand_in``: the shape and three ids
of the user, everything else of a user different between the two) and two sets of stand-in
values (far apart and mirrored: ids counting up from 17,000 and down from 32,000 at uneven gaps,
dates in the years 1 and 9000, strings framed by control characters), and compiles both. The two
compilations must give the same SQL, parameters that differ exactly where a stand-in went in
(each stand-in found where its twin is in the other), and every value must reach a parameter.
Anything else — a value the ORM wrote into the SQL text, a query whose shape depends on a value
or on a user's field outside the shape, a parameter computed from a value, a value decided on
in Python (``max(start, FLOOR)``) or left out, a read while building, a builder with a closure
(what it closes over would be kept for every user) — raises ``ImproperlyConfigured``. Every
later call of that shape puts the request's values in those positions and runs the SQL through
Django's cursor (the query log, the audit context and ``CaptureQueriesContext`` see it as they
see any query), and the rows go through the same converters ``values()`` applies. A QuerySet
that compiles to nothing for the stand-ins (``none()``) is run as a QuerySet each time.

A builder is a module's function of its arguments and the module's constants. It passes its
values on to the ORM and may ask whether one is None (that is part of the shape); it must not
read the clock (``timezone.localdate()`` would be kept for the life of the process: the caller
passes the date).

The rules stay where they are: the checkpoint's filter is the one ``visible_to`` builds, only
compiled once per shape instead of once per request. tests/test_compiled_demo.py compares every
compiled query with its QuerySet for every demo login.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import FlatValuesListIterable, QuerySet, ValuesIterable, ValuesListIterable
from django.utils import timezone, translation

from . import access

# The kinds of value a compiled query takes, each with its stand-ins: (kind, argument number,
# twin) → a value no query writes as a constant. The two twins lie far apart and mirror each
# other (twin 0 counts up from its base, twin 1 down from its own), at uneven gaps: a value
# computed from another (``start + 10 days``, ``school - 1000``) never equals a third one's
# stand-in in both twins, and a comparison in Python with a real value (``max(start, FLOOR)``)
# falls differently for the two. Integers stay inside every integer field's range (a
# ``PositiveSmallIntegerField``'s, 0–32767): Django 5 turns a comparison with a value beyond a
# column's range into an empty or a full result. A stand-in never reaches the database, so a
# real row with the same id does not matter; a constant equal to a stand-in would be refused
# (its twin differs), never taken for the value. A string's stand-ins are framed by the unit
# separator, which no name, code or choice of the portal holds.
_INT_BASES = (17_000, 32_000)
_DATE_BASES = (dt.date(1, 1, 1), dt.date(9000, 1, 1))
_DATETIME_BASES = (dt.datetime(2, 1, 1, 0, 0, 7, tzinfo=dt.UTC), dt.datetime(9000, 1, 1, 0, 0, 7, tzinfo=dt.UTC))


def _gap(number: int) -> int:
    return 11 * number + number * number  # uneven: no two pairs of stand-ins equally far apart


def _stand_in(kind: type, number: int, twin: int) -> Any:
    step = _gap(number) + 1 if twin == 0 else -_gap(number)
    if kind is int:
        return _INT_BASES[twin] + step
    if kind is dt.datetime:
        return _DATETIME_BASES[twin] + dt.timedelta(days=step)
    if kind is dt.date:
        return _DATE_BASES[twin] + dt.timedelta(days=step)
    if kind is str:  # compared as it is (a lookup that rewrites it, ``contains``, is refused)
        return f"\x1fcompiled stand-in {number}.{twin}\x1f"
    raise ImproperlyConfigured(f"A compiled query takes ints, strings, dates and datetimes, not {kind.__name__}.")


@dataclass(frozen=True)
class _Compiled:
    """One shape of a compiled query: its SQL, its parameters with the slots the values go in,
    and how its rows come back."""

    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (parameter position, value name)
    converters: tuple[tuple[int, tuple, Any], ...]  # (column, converters, expression)
    width: int | None  # columns to keep (an ordering's extra columns dropped), None for all
    names: tuple[str, ...]
    rows: str  # "dicts", "tuples" or "flat"


_UNCOMPILED = object()  # a shape whose QuerySet compiles to nothing (``none()``): run as a QuerySet
QUERIES: list[Callable[..., list]] = []  # every compiled query, as defined (tests compare each with its QuerySet)
_cache: dict[tuple, _Compiled | object] = {}
_lock = threading.Lock()


def _clear(**kwargs: Any) -> None:
    with _lock:
        _cache.clear()


setting_changed.connect(_clear, dispatch_uid="alliance.compiled")


class _NoReads:
    """An execute wrapper that refuses every statement: a compiled query is built, not read."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise ImproperlyConfigured(f"The compiled query {self.name} read the database while being built: {sql[:200]}")


def _build(
    build: Callable, name: str, user: Any, kinds: dict[str, type], present: tuple[str, ...], twin: int, using: str
) -> tuple[Any, dict[str, Any]]:
    """The query's compiler and SQL for stand-ins (twin 0 or 1); the stand-ins by name."""
    user_stand_ins = {n: _stand_in(int, i, twin) for i, n in enumerate(access.USER_VALUES)}
    values = {n: _stand_in(kinds[n], 10 + i, twin) for i, n in enumerate(present)}
    arguments = {n: values.get(n) for n in kinds}
    with connections[using].execute_wrapper(_NoReads(name)):
        queryset = build(access.stand_in(user, user_stand_ins, twin), **arguments)
        if not isinstance(queryset, QuerySet) or queryset._iterable_class not in _ROWS:
            raise ImproperlyConfigured(f"The compiled query {name} must return a values() or values_list() QuerySet.")
        if queryset.db != using:
            raise ImproperlyConfigured(f"The compiled query {name} reads {queryset.db}, not {using}.")
        compiler = queryset.query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None, {}
    return (queryset, compiler, sql, tuple(params)), {f"user.{k}": v for k, v in user_stand_ins.items()} | values


_ROWS = {ValuesIterable: "dicts", ValuesListIterable: "tuples", FlatValuesListIterable: "flat"}


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _compile(
    build: Callable, name: str, user: Any, kinds: dict[str, type], present: tuple[str, ...], using: str
) -> _Compiled | object:
    first, stand_ins = _build(build, name, user, kinds, present, 0, using)
    second, twins = _build(build, name, user, kinds, present, 1, using)
    if first is None or second is None:
        if first is None and second is None:
            # Nothing to keep: the QuerySet is empty for the stand-ins. It may be so for every
            # value (``none()``), or only for the stand-ins (a lookup that finds them out of a
            # field's range): either way it runs as a QuerySet, with the request's values.
            return _UNCOMPILED
        raise ImproperlyConfigured(f"The compiled query {name} is empty for some values only.")
    queryset, compiler, sql, params = first
    if sql != second[2] or len(params) != len(second[3]):
        raise ImproperlyConfigured(f"The compiled query {name} has SQL that depends on its values.")
    slots = []
    for position, (one, other) in enumerate(zip(params, second[3], strict=True)):
        found = [n for n, v in stand_ins.items() if _same(one, v)]
        if found:
            if not _same(other, twins[found[0]]):
                raise ImproperlyConfigured(f"The compiled query {name} moves the value {found[0]} between builds.")
            slots.append((position, found[0]))
        elif not _same(one, other):
            raise ImproperlyConfigured(
                f"The compiled query {name} has a parameter ({position}) that is neither a constant nor one of its "
                "values: it was computed from a value."
            )
    unused = set(present) - {n for _position, n in slots}
    if unused:
        raise ImproperlyConfigured(
            f"The compiled query {name} does not pass {', '.join(sorted(unused))} on to its SQL: a value decided "
            "something in Python, or the ORM left its condition out."
        )
    query = queryset.query
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        raise ImproperlyConfigured(f"The compiled query {name} reads a composite field.")
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    return _Compiled(
        sql=sql,
        params=params,
        slots=tuple(slots),
        converters=tuple((pos, tuple(convs), expr) for pos, (convs, expr) in compiler.get_converters(fields).items()),
        width=compiler.col_count if compiler.has_extra_select else None,
        names=names,
        rows=_ROWS[queryset._iterable_class],
    )


def _run(compiled: _Compiled, values: dict[str, Any], using: str) -> list:
    params = list(compiled.params)
    for position, name in compiled.slots:
        params[position] = values[name]
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if compiled.width is not None:
        rows = [row[: compiled.width] for row in rows]
    if compiled.converters:
        converted = []
        for row in rows:
            row = list(row)
            for position, convs, expression in compiled.converters:
                value = row[position]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[position] = value
            converted.append(row)
        rows = converted
    if compiled.rows == "dicts":
        names = compiled.names
        return [dict(zip(names, row, strict=True)) for row in rows]
    if compiled.rows == "flat":
        return [row[0] for row in rows]
    return [tuple(row) for row in rows]


def query(**kinds: type) -> Callable[[Callable], Callable[..., list]]:
    """A compiled query taking these values (by keyword; each an int, a string, a date or an
    aware datetime, or None); see the module's docstring. A builder passes its values to the ORM
    and may ask whether one is None; it never decides anything else by them."""
    for kind in kinds.values():
        _stand_in(kind, 0, 0)  # a kind without stand-ins fails here, at import

    def decorate(build: Callable) -> Callable[..., list]:
        name = f"{build.__module__}.{build.__qualname__}"
        # What a builder reads besides its arguments is the same in both builds, so it would be
        # kept as a constant for every user of the shape: a builder is a module's function, of
        # its arguments and the module's constants only.
        if build.__closure__ or "<locals>" in build.__qualname__:
            raise ImproperlyConfigured(f"The compiled query {name} must be a function of a module, without a closure.")

        @functools.wraps(build)
        def run(user: Any, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list:
            if set(values) != set(kinds):
                raise TypeError(f"{name} takes the values {sorted(kinds)}, given {sorted(values)}")
            for named, value in values.items():
                if value is not None and not _same_kind(value, kinds[named]):
                    raise TypeError(f"{name}: {named} must be a {kinds[named].__name__}, not {type(value).__name__}")
            present = tuple(n for n in kinds if values[n] is not None)
            shape = (
                run,
                using,
                access.scope_shape(user),
                present,
                translation.get_language(),
                timezone.get_current_timezone_name(),
            )
            compiled = _cache.get(shape)
            if compiled is None:
                compiled = _compile(build, name, user, kinds, present, using)
                with _lock:
                    _cache[shape] = compiled
            if compiled is _UNCOMPILED:
                return list(build(user, **values).using(using))
            assert isinstance(compiled, _Compiled)
            given = {f"user.{k}": v for k, v in access.user_values(user).items()} | values
            return _run(compiled, given, using)

        run.build = build  # type: ignore[attr-defined]  # the builder itself, for tests
        run.kinds = dict(kinds)  # type: ignore[attr-defined]
        QUERIES.append(run)
        return run

    return decorate


def _same_kind(value: Any, kind: type) -> bool:
    if kind is dt.date:  # a datetime is a date to isinstance
        return type(value) is dt.date
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is dt.datetime:
        return isinstance(value, dt.datetime) and value.tzinfo is not None
    return isinstance(value, kind)


def instance(
    model: Any,
    row: dict[str, Any],
    prefix: str = "",
    fields: tuple[str, ...] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Any:
    """A model instance from a compiled query's row: the fields (attnames; all concrete fields by
    default) read as ``<prefix><attname>``, as the ORM would have loaded them (``from_db``). A
    field not read is deferred, and a relation not set is not cached: reading either later costs
    a query (per instance), as with ``only()``."""
    names = attnames(model) if fields is None else tuple(n for n in attnames(model) if n in fields)
    return model.from_db(using, list(names), [row[prefix + name] for name in names])


@functools.cache
def attnames(model: Any) -> tuple[str, ...]:
    """The model's concrete fields' attnames, in the order ``from_db`` takes them."""
    return tuple(f.attname for f in model._meta.concrete_fields)


def columns(model: Any, prefix: str = "") -> tuple[str, ...]:
    """The names to read a whole ``model`` row with, through a relation ``prefix`` (``"period__"``)."""
    return tuple(prefix + name for name in attnames(model))
