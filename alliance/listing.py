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
import functools
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Window
from django.urls import reverse
from django.utils import timezone
from rest_framework import ISO_8601, relations, serializers
from rest_framework import fields as drf_fields
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
    m2m: Any = None  # the model's own many-to-many field, where the relation is one


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
            own: Any = model._meta.get_field(source)
            m2m = own if own.many_to_many and own.concrete else None
            plan.order.append(("many", len(plan.many)))
            plan.many.append(_Many(name, back, related, prefetches.get(source), None, m2m))
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
    if method is drf_fields.BigIntegerField.to_representation and not _coerced(fld, "BIGINT"):
        return int  # an id, a big count: DRF's IntegerField, as the setting says
    if method is drf_fields.DecimalField.to_representation:
        return _decimal_converter(cast(drf_fields.DecimalField, fld))
    return _BUILTIN_REPRESENTATIONS.get(method, fld.to_representation)


def _coerced(fld: drf_fields.Field, kind: str) -> bool:
    return bool(getattr(fld, "coerce_to_string", getattr(api_settings, f"COERCE_{kind}_TO_STRING")))


def _decimal_converter(fld: drf_fields.DecimalField) -> Any:
    """DRF's ``DecimalField.to_representation`` for a ``Decimal`` (money, scores) without its two
    costs per value: a copy of the thread's decimal context and the exponent computed again."""
    if fld.decimal_places is None or fld.normalize_output or fld.localize or not _coerced(fld, "DECIMAL"):
        return fld.to_representation
    exponent = decimal.Decimal(".1") ** fld.decimal_places
    context = decimal.getcontext().copy()
    if fld.max_digits is not None:
        context.prec = fld.max_digits
    rounding, slow = fld.rounding, fld.to_representation

    def represent(value: Any) -> Any:
        if type(value) is not decimal.Decimal:
            return slow(value)
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"

    return represent


def _is_plain_datetime(fld: drf_fields.Field) -> bool:
    """A ``DateTimeField`` written as ISO 8601 in the current time zone: ``_represent`` converts
    its values with the zone read once per page (DRF reads it again for every value)."""
    return (
        type(fld).to_representation is drf_fields.DateTimeField.to_representation
        and cast(Any, type(fld)).enforce_timezone is drf_fields.DateTimeField.enforce_timezone
        and not hasattr(fld, "timezone")
        and str(getattr(fld, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
        and settings.USE_TZ
    )


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
            kind = "file" if column.file else "datetime" if _is_plain_datetime(column.field) else "column"
            steps.append((
                kind, column.name, column.key, column.hops, bool(column.field.allow_null),
                _converter(column.field), column,
            ))  # fmt: skip
        plan.steps = steps
    return plan.steps


def _represent(plan: _Plan, row: dict, many_values: list[dict[Any, list]], request: Any, zone: Any) -> dict:
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
        if kind == "datetime" and value and isinstance(value, datetime.datetime) and value.utcoffset() is not None:
            text = value.astimezone(zone).isoformat()
            out[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
            continue
        out[name] = value if value is None or convert is None else convert(value)
    return out


def _many_values(plan: _Plan, pks: list, request: Any, zone: Any) -> list[dict[Any, list]]:
    found: list[dict[Any, list]] = []
    for many in plan.many:
        by_parent: dict[Any, list] = defaultdict(list)
        if pks and many.plan is not None:  # (ids come with the rows: ``_with_ids``)
            base = many.base if many.base is not None else many.related._default_manager.all()
            base = base.filter(**{f"{many.back}__in": pks})
            base = base.order_by(*flat_ordering(base))
            for parent, data in represent_rows(many.plan, base, request, zone, parent_key=many.back):
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
            ids = _link_ids(many, base)
            if ids is None:
                ids = base.filter(**{many.back: OuterRef("pk")}).values("pk")
            arrays[f"_ids_{index}"] = ArraySubquery(ids)
    return (queryset.annotate(**arrays) if arrays else queryset), list(arrays)


def _link_ids(many: _Many, base: QuerySet) -> QuerySet | None:
    """A many-to-many relation's ids straight from its link table, where the related rows are all
    of them in id order (an exchange's hosts, ``Prefetch("host_schools", School.objects.order_by("pk"))``):
    the same ids in the same order, without joining the related table (and what its ordering
    joins) for each row of the page. None where the related rows are filtered or ordered otherwise."""
    query = base.query
    if many.m2m is None or query.where or query.extra or tuple(query.order_by) != ("pk",):
        return None
    link = many.m2m.remote_field.through
    own, other = many.m2m.m2m_field_name(), link._meta.get_field(many.m2m.m2m_reverse_field_name()).attname
    return link._base_manager.filter(**{own: OuterRef("pk")}).order_by(other).values(other)


def represent_rows(
    plan: _Plan, queryset: QuerySet, request: Any, zone: Any, parent_key: str | None = None
) -> list[tuple[Any, dict]]:
    keys = plan.keys()
    extra = [parent_key] if parent_key else []
    queryset, arrays = _with_ids(plan, queryset.prefetch_related(None))
    rows = list(queryset.values(*keys, *(k for k in extra if k not in keys), *arrays))
    many_values = _many_values(plan, [row["pk"] for row in rows], request, zone)
    return [
        (row[parent_key] if parent_key else None, _represent(plan, row, many_values, request, zone)) for row in rows
    ]


# --- Orderings ------------------------------------------------------------------------------
#
# Ordering by a related row (``"plan"``) orders by that row's model's own ordering, which Django
# expands in turn (a plan line by its plan's funding year's county's code and school year's
# start, its alliance's …: ten tables joined for a page of lines). PostgreSQL then spends more
# planning the join than running the query (indicator values: 3.4 ms of planning, 2.8 ms of
# sorting 729 joined rows, for a page of 50; bench/api.py). A list names the related row by its id
# instead: the rows are grouped as before (a plan's lines together, in the same order within the
# plan), the groups in the order of their ids, and the row's own id breaks every tie, so a page
# boundary never moves between two requests.


def flat_ordering(queryset: QuerySet) -> tuple[Any, ...]:
    """``queryset``'s ordering with each term that ends on a related row ordered by the row's id,
    and the row's own id last."""
    query = queryset.query
    terms = query.order_by or (queryset.model._meta.ordering if query.default_ordering else ())
    model: Any = queryset.model
    return _flat_terms(model, tuple(terms))


@functools.cache
def _flat_terms(model: type[models.Model], terms: tuple[Any, ...]) -> tuple[Any, ...]:
    flat: list[Any] = []
    for term in terms:
        if not isinstance(term, str) or term == "?":
            flat.append(term)  # an expression orders as it says
            continue
        sign, parts = ("-" if term.startswith("-") else ""), term.lstrip("-").split("__")
        current: Any = model
        for i, part in enumerate(parts):
            try:
                f: Any = current._meta.get_field(part)
            except FieldDoesNotExist:
                break  # "pk", an id column or an annotation: as it is
            if not f.is_relation:
                break
            if i == len(parts) - 1 and f.concrete and (f.many_to_one or f.one_to_one):
                parts[i] = f.attname
            current = f.related_model
        flat.append(sign + "__".join(parts))
    if not any(isinstance(t, str) and t.lstrip("-") in ("pk", model._meta.pk.attname) for t in flat):
        flat.append("pk")
    return tuple(flat)


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
    zone = timezone.get_current_timezone()  # DRF's DateTimeField's, read once for the page
    many_values = _many_values(plan, [row["pk"] for row in rows], request, zone)
    return [_represent(plan, row, many_values, request, zone) for row in rows]


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
