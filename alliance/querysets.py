from __future__ import annotations

from typing import Any

from django.db import models

from . import access


class ScopedQuerySet(models.QuerySet):
    """Adds the access checkpoint to a model's queryset (the model declares ``scope``)."""

    def visible_to(self, user: Any) -> ScopedQuerySet:
        return access.visible(self, user)

    def changeable_by(self, user: Any) -> ScopedQuerySet:
        return access.changeable(self, user)


class SchoolQuerySet(ScopedQuerySet):
    def active(self) -> SchoolQuerySet:
        return self.filter(active=True)


class AllianceQuerySet(ScopedQuerySet):
    def of_year(self, school_year: Any) -> AllianceQuerySet:
        return self.filter(school_year=school_year)


class AnyOf(models.Expression):
    """``field = ANY(%s)`` with the ids as one array parameter: a filter on thousands of ids
    (the nightly evaluation's batch of counties) without Django preparing, and PostgreSQL
    parsing, one parameter per id. Elsewhere (SQLite) an ``IN`` list. Use as
    ``qs.filter(AnyOf("school_id", ids))``."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, field: str | models.Expression, ids: Any) -> None:
        super().__init__()
        self.lhs = models.F(field) if isinstance(field, str) else field
        self.ids = [int(i) for i in ids]

    def get_source_expressions(self) -> list[models.Expression]:
        return [self.lhs]

    def set_source_expressions(self, exprs: list[models.Expression]) -> None:
        (self.lhs,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.lhs)
        if not self.ids:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            # One text literal ('{1,2,…}'), which PostgreSQL reads as an array in one go: an
            # ARRAY[1, 2, …] of as many constants takes longer to parse and plan than the query.
            # The range around it changes no result; when the ids are close together (a batch
            # of counties, whose schools were mostly created together) it lets PostgreSQL read
            # just that part of an index instead of the whole table.
            literal = "{" + ",".join(map(str, self.ids)) + "}"
            return (
                f"{sql} BETWEEN %s AND %s AND {sql} = ANY(%s::bigint[])",
                [*params, min(self.ids), max(self.ids), *params, literal],
            )
        return f"{sql} IN ({', '.join(['%s'] * len(self.ids))})", [*params, *self.ids]
