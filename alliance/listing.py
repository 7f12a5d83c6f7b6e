"""The API's list path: a page of rows read as values, not as model instances.

A list serializes the same fields as the row's serializer, but reading 50 model instances (and
those of their prefetched relations) and walking DRF's fields over each cost four to ten times
the bare query (bench/api.py). When every field of the list's serializer is a plain value of the
row — a column, a column through forward foreign keys, an annotation of the queryset, the ids
of a many-valued relation, or a nested list of rows that are themselves plain — the page is
read with ``values()`` (one query, the ids of many-valued relations as arrays in it, plus one
per nested list, as its prefetch was) and each value goes through its DRF field's
``to_representation``: the same JSON as the serializer's. Anything else (a method field, a
custom field) keeps DRF's path. tests/test_query_counts.py compares both paths for every list
endpoint, byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Window
from django.urls import reverse
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.settings import api_settings

_UNSUPPORTED = (
    serializers.SerializerMethodField,
    serializers.HiddenField,
    serializers.ModelField,
    serializers.HyperlinkedRelatedField,
    serializers.HyperlinkedIdentityField,
)


class Unsupported(Exception):
    """A field the values path does not read: the list keeps DRF's path."""


@dataclass
class _Column:
    name: str
    key: str
    field: drf_fields.Field
    # Foreign key columns along a dotted source: a null one means DRF's get_attribute meets None
    # half-way (the key is left out, or None where the field allows null).
    hops: tuple[str, ...] = ()
    file: str = ""  # a ProtectedFileField's name: the value is the address of the row's file


@dataclass
class _Many:
    name: str
    back: str  # the lookup from the related model to this one
    related: type[models.Model]
    base: QuerySet | None  # the prefetch's own queryset, where the view gives one
    plan: _Plan | None  # None: the related rows' ids (a PrimaryKeyRelatedField(many=True))


@dataclass
class _Plan:
    model: type[models.Model]
    columns: list[_Column] = field(default_factory=list)
    many: list[_Many] = field(default_factory=list)
    order: list[tuple[str, int]] = field(default_factory=list)  # (kind, index) in field order
    steps: list[tuple] | None = None  # ``_steps``: the same, as ``_represent`` reads it

    def keys(self) -> list[str]:
        keys = ["pk"]
        for c in self.columns:
            keys.append(c.key)
            keys.extend(c.hops)
        return list(dict.fromkeys(keys))


def _prefetches(queryset: QuerySet | None) -> dict[str, QuerySet]:
    found: dict[str, QuerySet] = {}
    for lookup in getattr(queryset, "_prefetch_related_lookups", ()) if queryset is not None else ():
        if isinstance(lookup, Prefetch) and lookup.queryset is not None and "__" not in lookup.prefetch_through:
            found[lookup.prefetch_through] = lookup.queryset
    return found


def _many_relation(model: type[models.Model], name: str) -> tuple[type[models.Model], str]:
    try:
        f: Any = model._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise Unsupported(name) from exc
    if not (f.many_to_many or f.one_to_many) or getattr(f, "is_relation", False) is False:
        raise Unsupported(name)
    if f.concrete:  # a forward many-to-many field
        return f.related_model, f.related_query_name()
    return f.related_model, f.field.name  # a reverse foreign key or many-to-many


def _column(model: type[models.Model], name: str, fld: drf_fields.Field, annotations: set[str]) -> _Column:
    attrs = list(fld.source_attrs)
    if not attrs:
        raise Unsupported(name)
    if len(attrs) == 1 and attrs[0] in annotations:
        return _Column(name, attrs[0], fld)
    current: Any = model
    hops: list[str] = []
    for i, attr in enumerate(attrs):
        try:
            f: Any = current._meta.get_field(attr)
        except FieldDoesNotExist as exc:
            by_attname = {c.attname: c for c in current._meta.concrete_fields}
            if attr in by_attname and i == len(attrs) - 1:
                return _Column(name, "__".join(attrs), fld, tuple(hops))
            if attr == "pk" and i == len(attrs) - 1:
                return _Column(name, "__".join([*attrs[:-1], "pk"]), fld, tuple(hops))
            raise Unsupported(name) from exc
        last = i == len(attrs) - 1
        if last:
            if f.concrete and attr == f.attname != f.name:  # a foreign key's column (``ledger_entry_id``)
                return _Column(name, "__".join(attrs), fld, tuple(hops))
            if not f.concrete or f.many_to_many or f.is_relation:
                raise Unsupported(name)
            return _Column(name, "__".join(attrs), fld, tuple(hops))
        if not (f.concrete and (f.many_to_one or f.one_to_one)):
            raise Unsupported(name)
        hops.append("__".join([*attrs[:i], f.attname]))
        current = f.related_model
    raise Unsupported(name)


def build_plan(serializer: serializers.BaseSerializer, queryset: QuerySet | None) -> _Plan:
    """What a page of ``serializer``'s rows reads; ``Unsupported`` where DRF's path must stay."""
    if not isinstance(serializer, serializers.ModelSerializer):
        raise Unsupported(type(serializer).__name__)
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        raise Unsupported("to_representation")
    model: Any = serializer.Meta.model
    annotations = set(queryset.query.annotations) if queryset is not None else set()
    prefetches = _prefetches(queryset)
    plan = _Plan(model)
    fields: dict[str, Any] = dict(serializer.fields)
    for name, fld in fields.items():
        source: str = fld.source
        if fld.write_only:
            continue
        if isinstance(fld, _UNSUPPORTED):
            raise Unsupported(name)
        if isinstance(fld, serializers.ListSerializer):
            related, back = _many_relation(model, source)
            base = prefetches.get(source)
            child_serializer: Any = fld.child
            plan.order.append(("many", len(plan.many)))
            plan.many.append(_Many(name, back, related, base, build_plan(child_serializer, base)))
        elif isinstance(fld, relations.ManyRelatedField):
            child = fld.child_relation
            if type(child) is not relations.PrimaryKeyRelatedField or child.pk_field is not None:
                raise Unsupported(name)
            related, back = _many_relation(model, source)
            plan.order.append(("many", len(plan.many)))
            plan.many.append(_Many(name, back, related, prefetches.get(source), None))
        elif isinstance(fld, serializers.BaseSerializer):
            raise Unsupported(name)
        elif isinstance(fld, relations.RelatedField):
            if type(fld) is not relations.PrimaryKeyRelatedField or fld.pk_field is not None:
                raise Unsupported(name)
            try:
                f: Any = model._meta.get_field(fld.source)
            except FieldDoesNotExist as exc:
                raise Unsupported(name) from exc
            if not (f.concrete and (f.many_to_one or f.one_to_one)):
                raise Unsupported(name)
            plan.order.append(("column", len(plan.columns)))
            plan.columns.append(_Column(name, f.attname, drf_fields.ReadOnlyField()))
        elif isinstance(fld, serializers.FileField):
            plan.order.append(("column", len(plan.columns)))
            plan.columns.append(_file_column(model, name, fld))
        else:
            column = _column(model, name, fld, annotations)
            if column.hops and fld.default is not drf_fields.empty:
                raise Unsupported(name)  # DRF would show the default where a hop is null
            plan.order.append(("column", len(plan.columns)))
            plan.columns.append(column)
    return plan


def _file_column(model: Any, name: str, fld: Any) -> _Column:
    from .uploads import ProtectedFileField

    try:
        f: Any = model._meta.get_field(fld.source)
    except FieldDoesNotExist as exc:
        raise Unsupported(name) from exc
    if not isinstance(f, ProtectedFileField) or not getattr(fld, "use_url", api_settings.UPLOADED_FILES_USE_URL):
        raise Unsupported(name)
    return _Column(name, f.attname, fld, file=f.name)


def _file_url(plan: _Plan, column: _Column, row: dict, request: Any) -> str | None:
    if not row[column.key]:
        return None
    url = reverse("upload", kwargs={"label": plan.model._meta.label_lower, "pk": row["pk"], "field": column.file})
    return request.build_absolute_uri(url) if request is not None else url


# What DRF's own fields do to a value, without a call through the field where it is a builtin:
# CharField's to_representation is str(value), IntegerField's int(value), ReadOnlyField's the
# value itself (a page of 50 rows calls them hundreds of times).
_BUILTIN_REPRESENTATIONS = {
    drf_fields.CharField.to_representation: str,
    drf_fields.IntegerField.to_representation: int,
}


def _converter(fld: drf_fields.Field) -> Any:
    method = type(fld).to_representation
    if method is drf_fields.ReadOnlyField.to_representation:
        return None
    return _BUILTIN_REPRESENTATIONS.get(method, fld.to_representation)


def _steps(plan: _Plan) -> list[tuple]:
    """The plan's fields in order, each as what ``_represent`` does with it, worked out once."""
    if plan.steps is None:
        steps: list[tuple] = []
        for kind, index in plan.order:
            if kind == "many":
                many = plan.many[index]
                if many.plan is None:
                    steps.append(("ids", many.name, f"_ids_{index}", (), False, None, None))
                else:
                    steps.append(("many", many.name, index, (), False, None, None))
                continue
            column = plan.columns[index]
            steps.append((
                "file" if column.file else "column", column.name, column.key, column.hops,
                bool(column.field.allow_null), _converter(column.field), column,
            ))  # fmt: skip
        plan.steps = steps
    return plan.steps


def _represent(plan: _Plan, row: dict, many_values: list[dict[Any, list]], request: Any) -> dict:
    out: dict[str, Any] = {}
    for kind, name, key, hops, allow_null, convert, column in _steps(plan):
        if kind == "ids":
            out[name] = row[key]
            continue
        if kind == "many":
            out[name] = many_values[key].get(row["pk"], [])
            continue
        if hops and any(row[hop] is None for hop in hops):
            if allow_null:
                out[name] = None
            continue  # DRF's SkipField: the key is left out
        if kind == "file":
            out[name] = _file_url(plan, column, row, request)
            continue
        value = row[key]
        out[name] = value if value is None or convert is None else convert(value)
    return out


def _many_values(plan: _Plan, pks: list, request: Any) -> list[dict[Any, list]]:
    found: list[dict[Any, list]] = []
    for many in plan.many:
        by_parent: dict[Any, list] = defaultdict(list)
        if pks and many.plan is not None:  # (ids come with the rows: ``_with_ids``)
            base = many.base if many.base is not None else many.related._default_manager.all()
            base = base.filter(**{f"{many.back}__in": pks})
            for parent, data in represent_rows(many.plan, base, request, parent_key=many.back):
                by_parent[parent].append(data)
        found.append(by_parent)
    return found


def _with_ids(plan: _Plan, queryset: QuerySet) -> tuple[QuerySet, list[str]]:
    """The ids of each many-valued relation shown as ids, as an array in the rows' own query (in
    the related rows' order, as their prefetch had them): one query less per relation."""
    arrays = {}
    for index, many in enumerate(plan.many):
        if many.plan is None:
            base = many.base if many.base is not None else many.related._default_manager.all()
            arrays[f"_ids_{index}"] = ArraySubquery(base.filter(**{many.back: OuterRef("pk")}).values("pk"))
    return (queryset.annotate(**arrays) if arrays else queryset), list(arrays)


def represent_rows(
    plan: _Plan, queryset: QuerySet, request: Any, parent_key: str | None = None
) -> list[tuple[Any, dict]]:
    keys = plan.keys()
    extra = [parent_key] if parent_key else []
    queryset, arrays = _with_ids(plan, queryset.prefetch_related(None))
    rows = list(queryset.values(*keys, *(k for k in extra if k not in keys), *arrays))
    many_values = _many_values(plan, [row["pk"] for row in rows], request)
    return [(row[parent_key] if parent_key else None, _represent(plan, row, many_values, request)) for row in rows]


# Each row of a page carries the number of rows in the whole list (``COUNT(*) OVER ()``, counted
# before the page's LIMIT), so a list longer than a page needs no COUNT(*) query of its own
# (alliance.pagination reads it). Not for DISTINCT lists: the window counts before DISTINCT.
TOTAL = "_list_total"


def values_queryset(plan: _Plan, queryset: QuerySet) -> QuerySet:
    """The page's rows as values (paginated like the queryset)."""
    queryset, arrays = _with_ids(plan, queryset.prefetch_related(None))
    rows = queryset.values(*plan.keys(), *arrays)
    return rows if queryset.query.distinct else rows.annotate(**{TOTAL: Window(Count("*"))})


def represent_page(plan: _Plan, rows: list[dict], request: Any) -> list[dict]:
    many_values = _many_values(plan, [row["pk"] for row in rows], request)
    return [_represent(plan, row, many_values, request) for row in rows]


# --- Prepared statements -------------------------------------------------------------------
#
# A list's page query joins every table its ordering names (a plan line's ordering is its
# plan's, whose is its funding year's and alliance's, … : ten tables), and PostgreSQL's join
# search over them took 4–10 ms of planning for a query that runs in 1–2 ms (EXPLAIN ANALYZE
# on the demo county: indicator values 4.7 ms planning, plan lines 4.0, programme fund lines
# 6.3; the bare view's query plans in 0.2). A list's statements differ between requests only in
# their parameters, so inside ``prepared_reads()`` each SELECT is prepared once per database
# connection (``PREPARE``, parameter types from the Python values) and then run as ``EXECUTE``:
# PostgreSQL plans it for the first five runs and then keeps a generic plan when that is no
# dearer, as it does for every prepared statement. The rows, and what Django makes of them,
# are the same. A statement that cannot be prepared (a parameter of a type not listed, or
# PostgreSQL refusing the types) runs as it is, and is not tried again on that connection.
# This is opt-in (``API_PREPARED_STATEMENTS``, off by default): a generic plan is chosen on
# estimates, and one (a lead principal's membership list, on tables whose statistics said empty)
# ran for over seven minutes in a test run; off, every statement runs as it is.

_PLACEHOLDERS = re.compile(r"%s|%%")
_MAX_STATEMENTS = 500  # per connection; beyond them, statements run unprepared
_SCALAR_TYPES: tuple[tuple[type, str], ...] = (  # in this order: a bool is an int, a datetime a date
    (bool, "boolean"),
    (int, "bigint"),  # and IntegerChoices
    (str, "text"),  # and TextChoices
    (float, "double precision"),
    (decimal.Decimal, "numeric"),
    (datetime.datetime, "timestamptz"),
    (datetime.date, "date"),
    (datetime.time, "time"),
    (uuid.UUID, "uuid"),
)


def _scalar_type(value: Any) -> str | None:
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return "timestamp"
    for kind, name in _SCALAR_TYPES:
        if isinstance(value, kind):
            return name
    return None


def _pg_type(value: Any) -> str | None:
    if type(value) is list:  # (a tuple would go as a row)
        types = {_scalar_type(v) for v in value}
        return f"{types.pop()}[]" if len(types) == 1 and None not in types else None
    return _scalar_type(value)


class _Statements:
    """The statements prepared on one database connection: SQL → name (None: not preparable)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.names: dict[str, str | None] = {}


def _statements(db: Any) -> _Statements:
    found = getattr(db, "_prepared_lists", None)
    if found is None or found.raw is not db.connection:  # a new connection has none
        found = db._prepared_lists = _Statements(db.connection)
    return found


def _prepare(db: Any, cursor: Any, sql: str, params: Any) -> str | None:
    values = list(params or ())
    types = [_pg_type(v) for v in values]
    count = [0]

    def number(match: re.Match) -> str:
        if match.group() == "%%":
            return "%"
        count[0] += 1
        return f"${count[0]}"

    text = _PLACEHOLDERS.sub(number, sql)
    statements = _statements(db)
    if None in types or count[0] != len(values) or len(statements.names) >= _MAX_STATEMENTS:
        return None
    name = f"list_{len(statements.names) + 1}"
    declared = f" ({', '.join(t for t in types if t)})" if values else ""
    raw = cursor.cursor  # the driver's cursor: no wrapper, no query log, as PREPARE is no read
    savepoint = db.in_atomic_block  # an error would break the transaction otherwise
    try:
        if savepoint:
            raw.execute("SAVEPOINT list_prepare")
        raw.execute(f"PREPARE {name}{declared} AS {text}")
    except db.Database.Error:
        if savepoint:
            raw.execute("ROLLBACK TO SAVEPOINT list_prepare")
        return None
    if savepoint:
        raw.execute("RELEASE SAVEPOINT list_prepare")
    return name


def _run_prepared(execute: Any, sql: str, params: Any, many: bool, context: dict) -> Any:
    if many or not sql.startswith("SELECT"):
        return execute(sql, params, many, context)
    db = context["connection"]
    statements = _statements(db)
    if sql not in statements.names:
        statements.names[sql] = _prepare(db, context["cursor"], sql, params)
    name = statements.names[sql]
    if name is None:
        return execute(sql, params, many, context)
    args = list(params or ())
    return execute(f"EXECUTE {name}" + (f" ({', '.join(['%s'] * len(args))})" if args else ""), args, False, context)


@contextlib.contextmanager
def prepared_reads() -> Iterator[None]:
    """The block's SELECTs run as statements prepared on the connection (see above), unless
    ``API_PREPARED_STATEMENTS`` is off."""
    if not getattr(settings, "API_PREPARED_STATEMENTS", False):
        yield
        return
    with connection.execute_wrapper(_run_prepared):
        yield
