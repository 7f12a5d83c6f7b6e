"""The one checkpoint for row-level access.

Every admin page, API view, portal page and export asks this module which rows a user may
read or change. A model opts in by declaring ``scope = Scope(...)`` and using
``ScopedQuerySet`` (``alliance.querysets``). Rules:

- superusers: everything;
- bureau staff: read and change every row of their county, nothing elsewhere;
- auditors: read every row of their county, change nothing;
- lead principals: read rows of their school and of the schools of alliances it leads,
  change rows owned by their own school;
- member principals: read and change rows of their own school only;
- assessors: read rows of the schools assigned to them, change none here (scores are
  entered through the evaluation app's own checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import School


class Role(models.TextChoices):
    """A role is a Django group of the same name; a user has one."""

    BUREAU = "bureau_staff", _("Bureau staff")
    LEAD_PRINCIPAL = "lead_principal", _("Lead school principal")
    MEMBER_PRINCIPAL = "member_principal", _("Member school principal")
    ASSESSOR = "assessor", _("Assessor")
    AUDITOR = "auditor", _("Auditor")


PRINCIPALS = frozenset({Role.LEAD_PRINCIPAL, Role.MEMBER_PRINCIPAL})
COUNTY_READERS = frozenset({Role.BUREAU, Role.AUDITOR})


@dataclass(frozen=True)
class Via:
    """A lookup to schools that counts only where extra conditions hold on the same join, e.g. an
    alliance's *lead* school: ``Via("alliance__memberships__school", alliance__memberships__role="lead")``."""

    path: str
    where: dict

    def __init__(self, path: str, **where: Any) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "where", where)

    def __hash__(self) -> int:
        return hash((self.path, tuple(sorted(self.where.items()))))


@dataclass(frozen=True)
class Scope:
    """How a model's rows relate to the county and to schools.

    county: lookup from the model to its County.
    schools: lookups to the schools whose readers may read a row (any of them suffices).
    owners: lookups to the schools whose principals may change a row; empty = only the
        bureau changes such rows.
    assessed: lookups to the schools whose assigned assessors may change a row (scores).
    county_wide: every user of the county may read (school years, terms).
    """

    county: str
    schools: tuple[str | Via, ...] = ()
    owners: tuple[str | Via, ...] = ()
    assessed: tuple[str | Via, ...] = ()
    county_wide: bool = False


def role_of(user: Any) -> Role | None:
    """The user's role, read once per user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not hasattr(user, "_portal_role"):
        names = set(user.groups.values_list("name", flat=True))
        user._portal_role = next((r for r in Role if r.value in names), None)
    return user._portal_role


def _all_schools() -> QuerySet[School]:
    from .models import School

    return School.objects.all()


def led_school_ids(user: Any) -> QuerySet:
    """Ids of the schools in alliances the user's school leads (its own included)."""
    from .models import Membership

    led_alliances = Membership.objects.filter(school_id=user.school_id, role=Membership.Role.LEAD).values("alliance_id")
    return Membership.objects.filter(alliance_id__in=led_alliances).values("school_id")


def readable_schools(user: Any) -> QuerySet[School]:
    schools = _all_schools()
    role = role_of(user)
    if getattr(user, "is_superuser", False) and user.is_active:
        return schools
    if role in COUNTY_READERS:
        return schools.filter(county_id=user.county_id)
    if role == Role.LEAD_PRINCIPAL:
        return schools.filter(Q(pk=user.school_id) | Q(pk__in=led_school_ids(user)))
    if role == Role.MEMBER_PRINCIPAL:
        return schools.filter(pk=user.school_id)
    if role == Role.ASSESSOR:
        return schools.filter(county_id=user.county_id, assessors=user)
    return schools.none()


def writable_schools(user: Any) -> QuerySet[School]:
    """Schools whose rows the user may create or change."""
    schools = _all_schools()
    role = role_of(user)
    if getattr(user, "is_superuser", False) and user.is_active:
        return schools
    if role == Role.BUREAU:
        return schools.filter(county_id=user.county_id)
    if role in PRINCIPALS:
        return schools.filter(pk=user.school_id, active=True)
    return schools.none()


def _any_of(paths: tuple[str | Via, ...], schools: QuerySet) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        if isinstance(path, Via):
            # One Q, so the conditions apply to the same joined row (the same membership).
            q |= Q(**{f"{path.path}__in": schools.values("pk")}, **path.where)
        else:
            q |= Q(**{f"{path}__in": schools.values("pk")})
    return q


def _filter(qs: QuerySet, q: Q, paths: tuple[str | Via, ...]) -> QuerySet:
    # A path through a many-valued relation would repeat rows; a subquery on pk does not.
    single = len(paths) == 1 and isinstance(paths[0], str) and "__" not in paths[0]
    if single and (paths[0] == "pk" or not qs.model._meta.get_field(paths[0]).many_to_many):
        return qs.filter(q)
    return qs.filter(pk__in=qs.model._base_manager.filter(q).values("pk"))


def visible(qs: QuerySet, user: Any) -> QuerySet:
    """Rows of ``qs`` the user may read."""
    scope: Scope = qs.model.scope
    role = role_of(user)
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    if role is None:
        return qs.none()
    if role in COUNTY_READERS or scope.county_wide:
        return qs.filter(**{scope.county: user.county_id})
    if not scope.schools:
        return qs.none()
    return _filter(qs, _any_of(scope.schools, readable_schools(user)), scope.schools)


def changeable(qs: QuerySet, user: Any) -> QuerySet:
    """Rows of ``qs`` the user may change or delete."""
    scope: Scope = qs.model.scope
    role = role_of(user)
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    if role == Role.BUREAU:
        return qs.filter(**{scope.county: user.county_id})
    if role in PRINCIPALS and scope.owners:
        return _filter(qs, _any_of(scope.owners, writable_schools(user)), scope.owners)
    if role == Role.ASSESSOR and scope.assessed:
        return _filter(qs, _any_of(scope.assessed, readable_schools(user)), scope.assessed)
    return qs.none()


def can_change(user: Any, obj: models.Model) -> bool:
    return changeable(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def can_write_model(user: Any, model: type[models.Model]) -> bool:
    """Whether the user may create rows of this model at all (which rows is the serializer's or
    form's business, through ``writable_schools``)."""
    role = role_of(user)
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    if role == Role.BUREAU:
        return True
    if role == Role.ASSESSOR:
        return bool(model.scope.assessed)
    return role in PRINCIPALS and bool(model.scope.owners)
