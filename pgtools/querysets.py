"""Query helpers for the large reads of the nightly evaluation: ``AnyOf`` (a filter on
thousands of ids) and ``tuples`` (a ``values_list()`` queryset's rows fetched at once)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models.expressions import Col


class AnyOf(models.Expression):
    """``field`` is one of ``ids``, for thousands of ids (the nightly evaluation's batch of
    counties) without Django preparing, and PostgreSQL parsing, one parameter per id. Use as
    ``qs.filter(AnyOf("school_id", ids))``.

    Ids that fall into a few runs of consecutive numbers (a county's schools are mostly
    created together, so a batch of counties is a few runs) become ``field BETWEEN first AND
    last`` per run: exact, and PostgreSQL neither plans nor checks each row against a list.
    Otherwise ``field = ANY('{1,2,…}'::bigint[])`` (one text literal, read as an array in one
    go: an ``ARRAY[1, 2, …]`` of as many constants takes longer to parse and plan than the
    query), within the range of the ids so that an index is read only over that part."""

    output_field = models.BooleanField()
    conditional = True
    # More runs than this and the list is shorter to send and to plan than the ranges.
    MAX_RUNS = 32

    def __init__(self, field: str | models.Expression, ids: Any) -> None:
        super().__init__()
        self.lhs: models.F | models.Expression = models.F(field) if isinstance(field, str) else field
        self.ids = sorted({int(i) for i in ids})

    def get_source_expressions(self) -> list[Any]:
        return [self.lhs]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.lhs,) = exprs

    def runs(self) -> list[tuple[int, int]] | None:
        """The ids as runs of consecutive numbers, (first, last) each; None past ``MAX_RUNS``."""
        out: list[list[int]] = []
        for i in self.ids:
            if out and i == out[-1][1] + 1:
                out[-1][1] = i
            else:
                if len(out) == self.MAX_RUNS:
                    return None
                out.append([i, i])
        return [(first, last) for first, last in out]

    # Params as a list, as Django's own expressions return them (the stubs say a tuple).
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        sql, params = compiler.compile(self.lhs)
        if not self.ids:
            return "1 = 0", []
        runs = self.runs()
        if runs is not None:
            clauses = " OR ".join([f"{sql} BETWEEN %s AND %s"] * len(runs))
            return f"({clauses})", [p for first, last in runs for p in (*params, first, last)]
        literal = "{" + ",".join(map(str, self.ids)) + "}"
        return (
            f"{sql} BETWEEN %s AND %s AND {sql} = ANY(%s::bigint[])",
            [*params, self.ids[0], self.ids[-1], *params, literal],
        )


def _as_django_gives(expression: Any, connection: Any) -> bool:
    """Whether psycopg2 returns this selected column's values as Django would give them: a
    plain column without a converting field (not JSON), a count (bigint), or a sum whose type
    the driver already matches (numeric → Decimal, interval → timedelta, and a sum of 16- or
    32-bit integers, which PostgreSQL makes a bigint; a sum of bigints is numeric, not int)."""
    field = expression.output_field
    if hasattr(field, "from_db_value") or connection.ops.get_db_converters(expression):
        return False
    if isinstance(expression, Col):
        return True
    if isinstance(expression, models.Count):
        return True
    if isinstance(expression, models.Sum):
        internal = field.get_internal_type()
        if internal in ("DecimalField", "DurationField"):
            return True
        if internal.endswith("IntegerField"):
            wide = ("BigIntegerField", "BigAutoField", "PositiveBigIntegerField")
            return all(f is not None and f.get_internal_type() not in wide for f in expression.get_source_fields())
    return False


def tuples(queryset: models.QuerySet) -> list[tuple]:
    """A ``values_list()`` queryset's rows, all at once. They come from the driver
    in one call instead of Django's chunks of 100 rows with a converter per value (the
    evaluation reads hundreds of thousands of rows), when every column is one the driver
    already returns as Django would (``_as_django_gives``); otherwise the ordinary way."""
    connection = connections[queryset.db]
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    columns = [expression for expression, _sql, _alias in compiler.select[: compiler.col_count]]
    if not all(_as_django_gives(expression, connection) for expression in columns):
        return list(queryset)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if compiler.has_extra_select:
        return [row[: compiler.col_count] for row in rows]
    return rows
