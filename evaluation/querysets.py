from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db.models import Q

from alliance import access
from alliance.querysets import ScopedQuerySet

if TYPE_CHECKING:
    from alliance.models import AnyUser


class SchoolResultQuerySet(ScopedQuerySet):
    """Results (school, alliance, warnings) reach schools only once the bureau proposes them:
    before that they are the bureau's working figures."""

    def visible_to(self, user: AnyUser) -> SchoolResultQuerySet:
        qs = cast(SchoolResultQuerySet, access.visible(self, user))
        role = access.role_of(user)
        if user.is_superuser or role in access.COUNTY_READERS:
            return qs
        return qs.filter(period__status__in=("proposed", "published"))

    def of_period(self, period: Any) -> SchoolResultQuerySet:
        return self.filter(period=period)


class EvaluationRunQuerySet(ScopedQuerySet):
    """A run without a county (all counties) is shown to every county's bureau and auditors."""

    def visible_to(self, user: AnyUser) -> EvaluationRunQuerySet:
        role = access.role_of(user)
        if getattr(user, "is_superuser", False) and user.is_active:
            return self
        if role in access.COUNTY_READERS:
            return self.filter(Q(county_id=user.county_id) | Q(county__isnull=True))  # type: ignore[union-attr]  # a county reader is a User
        return self.none()
