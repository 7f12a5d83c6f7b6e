from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from alliance import access
from alliance.querysets import ScopedQuerySet

if TYPE_CHECKING:
    from alliance.models import AnyUser


class SchoolResultQuerySet(ScopedQuerySet):
    """Results (school, alliance, warnings) reach schools only once the bureau proposes them:
    before that they are the bureau's working figures."""

    def visible_to(self, user: AnyUser) -> SchoolResultQuerySet:
        qs = cast(SchoolResultQuerySet, access.visible(self, user))
        if access.sees_working_results(user):
            return qs
        return qs.filter(period__status__in=("proposed", "published"))

    def of_period(self, period: Any) -> SchoolResultQuerySet:
        return self.filter(period=period)


class EvaluationRunQuerySet(ScopedQuerySet):
    """A run without a county (all counties) is shown to every county's bureau and auditors."""

    def visible_to(self, user: AnyUser) -> EvaluationRunQuerySet:
        return cast(EvaluationRunQuerySet, access.visible_runs(self, user))


class PersonResultQuerySet(ScopedQuerySet):
    """Principals' and teachers' results: each reader its own (``access.visible_person_results``),
    schools only once the bureau proposes them."""

    def visible_to(self, user: AnyUser) -> PersonResultQuerySet:
        qs = cast(PersonResultQuerySet, access.visible_person_results(self, user))
        if access.sees_working_results(user):
            return qs
        return qs.filter(period__status__in=("proposed", "published"))
