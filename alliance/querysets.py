from __future__ import annotations

from typing import Any, Self, cast

from django.db import models

from . import access


class ScopedQuerySet(models.QuerySet):
    """Adds the access checkpoint to a model's queryset (the model declares ``scope``)."""

    # The checkpoint filters the queryset it is given, so the class (and its methods) stays.
    def visible_to(self, user: Any) -> Self:
        return cast("Self", access.visible(self, user))

    def changeable_by(self, user: Any) -> Self:
        return cast("Self", access.changeable(self, user))


class SchoolQuerySet(ScopedQuerySet):
    def active(self) -> SchoolQuerySet:
        return self.filter(active=True)


class AllianceQuerySet(ScopedQuerySet):
    def of_year(self, school_year: Any) -> AllianceQuerySet:
        return self.filter(school_year=school_year)
