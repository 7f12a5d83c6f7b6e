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

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from django.apps import apps
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

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
# Declarative role sets for API actions (``action_roles``); ``may_act`` applies them.
BUREAU_ONLY = frozenset({Role.BUREAU})
LEAD_ONLY = frozenset({Role.LEAD_PRINCIPAL})


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
    counties: further lookups to counties whose bureau shares the row (the two counties of a
        cross-county programme: its bureau staff read and change it, its auditors read it).
    schools: lookups to the schools whose readers may read a row (any of them suffices).
    owners: lookups to the schools whose principals may change a row; empty = only the
        bureau changes such rows.
    assessed: lookups to the schools whose assigned assessors may change a row (scores).
    county_wide: every user of the county may read (school years, terms).
    """

    county: str
    counties: tuple[str, ...] = ()
    schools: tuple[str | Via, ...] = ()
    owners: tuple[str | Via, ...] = ()
    assessed: tuple[str | Via, ...] = ()
    county_wide: bool = False


ROLE_NAMES = tuple(r.value for r in Role)


def remember_role(user: Any, group_name: str | None) -> None:
    """Set the user's role from a group name read with the user (``alliance.authentication``),
    sparing ``role_of`` its query."""
    user._portal_role = Role(group_name) if group_name in ROLE_NAMES else None


def role_of(user: Any) -> Role | None:
    """The user's role, read once per user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not hasattr(user, "_portal_role"):
        names = set(user.groups.values_list("name", flat=True))
        user._portal_role = next((r for r in Role if r.value in names), None)
    return user._portal_role


def is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def has_role(user: Any) -> bool:
    """Signed in, active, and either a superuser or holding one of the portal's roles."""
    return is_superuser(user) or role_of(user) is not None


def may_act(user: Any, roles: frozenset[Role]) -> bool:
    """Whether the user's role is among ``roles`` (superusers always)."""
    return is_superuser(user) or role_of(user) in roles


def is_bureau(user: Any) -> bool:
    """Bureau staff of some county, or a superuser: may set the fields and run the actions only
    the bureau may (which rows is still ``changeable``'s business)."""
    return may_act(user, BUREAU_ONLY)


def is_bureau_of(user: Any, county_id: int | None) -> bool:
    if is_superuser(user):
        return True
    return role_of(user) == Role.BUREAU and county_id is not None and user.county_id == county_id


def is_bureau_of_any(user: Any, county_ids: Any) -> bool:
    """Bureau staff of one of these counties (a programme's two), or a superuser."""
    return any(is_bureau_of(user, county_id) for county_id in county_ids)


def require_bureau_of_any(user: Any, county_ids: Any, message: Any = None) -> None:
    if not is_bureau_of_any(user, county_ids):
        raise PermissionDenied(message or _("Only the bureau staff of this county may do this."))


def require_bureau_of(user: Any, county_id: int | None, message: Any = None) -> None:
    """Raise ``PermissionDenied`` unless the user is bureau staff of that county (or a superuser)."""
    if not is_bureau_of(user, county_id):
        raise PermissionDenied(message or _("Only the bureau staff of this county may do this."))


def require_superuser(user: Any, message: Any = None) -> None:
    if not is_superuser(user):
        raise PermissionDenied(message or _("Only an administrator may do this."))


def is_county_reader(user: Any, county_id: int | None = None) -> bool:
    """Bureau staff and auditors read every row of their county (``county_id``: of that county)."""
    if is_superuser(user):
        return True
    if role_of(user) not in COUNTY_READERS:
        return False
    return county_id is None or user.county_id == county_id


def is_principal_of(user: Any, *school_ids: int | None) -> bool:
    """A principal (lead or member) of one of these schools, or a superuser."""
    if is_superuser(user):
        return True
    return role_of(user) in PRINCIPALS and user.school_id is not None and user.school_id in school_ids


def require_principal_of(user: Any, *school_ids: int | None, message: Any = None) -> None:
    if not is_principal_of(user, *school_ids):
        raise PermissionDenied(message or _("Only the school's principal may do this."))


def require_principal(user: Any, message: Any = None) -> None:
    """A principal of some school (which school is the caller's next check)."""
    if not (role_of(user) in PRINCIPALS and user.school_id):
        raise PermissionDenied(message or _("Only a school's principal may do this."))


def is_lead_of(user: Any, school_id: int | None) -> bool:
    """The principal of this lead school (or a superuser)."""
    if is_superuser(user):
        return True
    return role_of(user) == Role.LEAD_PRINCIPAL and school_id is not None and user.school_id == school_id


def require_lead_of(user: Any, school_id: int | None, message: Any = None) -> None:
    if not is_lead_of(user, school_id):
        raise PermissionDenied(message or _("Only the principal of the alliance's lead school may do this."))


def require_assessor_of(user: Any, school: School, county_id: int, *, code: str = "not_assigned") -> None:
    """Who may enter a score for ``school`` in a period of ``county_id``: bureau staff of that
    county, or an assessor of that county to whom the school is assigned. Another role is
    refused outright (``PermissionDenied``); an assessor naming a school outside its assignment
    gets a ``ValidationError`` on ``school`` that says which rule refused it, without revealing
    whether a school of another county exists."""
    if is_bureau_of(user, county_id):
        return
    if role_of(user) != Role.ASSESSOR or user.county_id != county_id:
        raise PermissionDenied(_("Only assessors and bureau staff enter indicator values."))
    if school.county_id != county_id or not user.assessed_schools.filter(pk=school.pk).exists():
        raise ValidationError(
            {"school": ValidationError(_("This school is not among the schools assigned to you."), code=code)}
        )


def is_assessor_of(user: Any, school: School) -> bool:
    """An assessor of the school's county to whom the school is assigned (its supervisor, 责任督学)."""
    if role_of(user) != Role.ASSESSOR or user.county_id != school.county_id:
        return False
    return user.assessed_schools.filter(pk=school.pk).exists()


def sees_working_results(user: Any) -> bool:
    """Results before they are proposed are the bureau's working figures: the county's readers
    see them; schools see their result only once proposed."""
    return is_county_reader(user)


def visible_person_results(qs: QuerySet, user: Any) -> QuerySet:
    """Principals' and teachers' results (``evaluation.PersonResult``): each person sees only
    their own. County readers: the county's. A principal: its own principal result (its school's
    principal position) and the teachers' results of its school. A lead principal also the
    teachers' results of the schools of the alliances it leads (not their principals'). Nobody
    else: an assessor enters the values of its assigned schools' people but reads no result, and
    teachers have no logins (docs/adr/0008)."""
    role = role_of(user)
    if is_superuser(user):
        return qs
    if role in COUNTY_READERS:
        return qs.filter(school__county_id=user.county_id)
    if role not in PRINCIPALS or user.school_id is None:
        return qs.none()
    own = Q(school_id=user.school_id)
    if role == Role.LEAD_PRINCIPAL:
        alliance_teachers = Q(subject="teacher", school_id__in=led_school_ids(user))
        return qs.filter(own | alliance_teachers)
    return qs.filter(own)


# Reports and who may export them: every report is the county readers' (every school of their
# county); principals export the school reports, of their own school only (``require_report``).
SCHOOL_REPORTS = frozenset({"ledger", "balances", "execution", "exchanges", "exchange_totals", "activities", "results"})
COUNTY_REPORTS = SCHOOL_REPORTS | frozenset({"award_sheet", "audit"})


def _is_school_reporter(user: Any, county_id: int | None) -> bool:
    if role_of(user) not in PRINCIPALS or not user.school_id:
        return False
    return county_id is None or user.county_id == county_id


def can_export(user: Any, report: str, county_id: int | None = None) -> bool:
    """Whether the user may export ``report`` (of ``county_id``, where given)."""
    if report in COUNTY_REPORTS and is_county_reader(user, county_id):
        return True
    return report in SCHOOL_REPORTS and _is_school_reporter(user, county_id)


def reports_of(user: Any) -> list[str]:
    """The codes of the reports the user's role may run at all (which rows: ``require_report``)."""
    return sorted(code for code in COUNTY_REPORTS if can_export(user, code))


def require_report(
    user: Any, report: str, *, county_id: int, school_id: int | None = None, alliance_id: int | None = None
) -> int | None:
    """The checkpoint of every report: a role that may not run it is refused (403); a county,
    school or alliance out of the user's reach is "not found" (404, as another school's row);
    a principal's report is forced to its own school. Returns the school the report is for
    (``None``: every school the user may read)."""
    from .models import Alliance

    if report not in COUNTY_REPORTS:
        raise Http404
    if not can_export(user, report):
        raise PermissionDenied(_("Your role may not export this report."))
    if not can_export(user, report, county_id):
        raise Http404
    schools = readable_schools(user).filter(county_id=county_id)
    if school_id is not None and not schools.filter(pk=school_id).exists():
        raise Http404
    if alliance_id is not None:
        alliances = Alliance.objects.filter(school_year__county_id=county_id)
        if not visible(alliances, user).filter(pk=alliance_id).exists():
            raise Http404
    if is_county_reader(user, county_id):
        return school_id
    if school_id is not None and school_id != user.school_id:
        raise Http404
    return user.school_id


def visible_report_files(qs: QuerySet, user: Any) -> QuerySet:
    """Finished report files wait for their owner only (not even the owner's bureau reads them:
    the file is re-checked against ``require_report`` when it is served)."""
    if not has_role(user):
        return qs.none()
    return qs.filter(owner_id=user.pk)


def require_export(user: Any, report: str, county_id: int | None = None) -> None:
    if not can_export(user, report, county_id):
        raise PermissionDenied(_("Your role may not export this report."))


# The documents of ``reports.pdf`` and ``reports.package``: the county's readers export each of
# them; a school's award notice is also its own principal's (of that school only).
COUNTY_DOCUMENTS = frozenset({"award_notices", "county_summary", "audit_package"})
SCHOOL_DOCUMENTS = frozenset({"award_notices"})


def can_export_document(user: Any, document: str, county_id: int | None, school_id: int | None = None) -> bool:
    """Whether the user may export ``document`` of the county (``school_id``: of that one school)."""
    if document in COUNTY_DOCUMENTS and is_county_reader(user, county_id):
        return True
    if document in SCHOOL_DOCUMENTS and school_id is not None:
        return role_of(user) in PRINCIPALS and user.county_id == county_id and user.school_id == school_id
    return False


def require_export_document(user: Any, document: str, county_id: int | None, school_id: int | None = None) -> None:
    if not can_export_document(user, document, county_id, school_id):
        raise PermissionDenied(_("Your role may not export this report."))


# Imports (Excel in): every kind is the bureau's, into its own county only.
IMPORT_KINDS = frozenset({"schools", "teachers", "alliances", "pairings", "quotas"})


def can_import(user: Any, kind: str, county_id: int | None = None) -> bool:
    """Whether the user may import ``kind`` (into ``county_id``, where given)."""
    if kind not in IMPORT_KINDS:
        return False
    if county_id is None:
        return is_bureau(user)
    return is_bureau_of(user, county_id)


def require_import(user: Any, kind: str, county_id: int | None) -> None:
    if not can_import(user, kind, county_id):
        raise PermissionDenied(_("Only the bureau staff of this county may do this."))


def visible_runs(qs: QuerySet, user: Any) -> QuerySet:
    """Evaluation runs: a county's runs to that county's readers; a run of every county (no
    county) to every county's readers; none to schools or assessors."""
    if is_superuser(user):
        return qs
    if role_of(user) in COUNTY_READERS:
        return qs.filter(Q(county_id=user.county_id) | Q(county__isnull=True))
    return qs.none()


# The roles bureau staff may give and manage: every role but their own (only a superuser
# creates or changes bureau staff).
BUREAU_MANAGES = frozenset(Role) - BUREAU_ONLY


def visible_users(qs: QuerySet, user: Any) -> QuerySet:
    """User rows: superusers all; bureau staff the principals, assessors and auditors of their
    county (never a superuser, never another bureau user, not even themselves: their own
    password is changed on the admin's password page); nobody else."""
    if is_superuser(user):
        return qs
    if role_of(user) == Role.BUREAU:
        return qs.filter(county_id=user.county_id, is_superuser=False).exclude(groups__name=Role.BUREAU.value)
    return qs.none()


def assignable_groups(qs: QuerySet, user: Any) -> QuerySet:
    """The role groups a user may give in the User admin: a superuser any, bureau staff the
    roles they manage (``BUREAU_MANAGES``), nobody else any."""
    if is_superuser(user):
        return qs
    if role_of(user) == Role.BUREAU:
        return qs.filter(name__in=[r.value for r in BUREAU_MANAGES])
    return qs.none()


def narrow_related(qs: QuerySet, user: Any, *, kind: str = "read") -> QuerySet:
    """The choices a form or serializer offers for a related field, the same in the admin, the
    API and the pages. ``kind``: ``"write"`` rows the user may change (for schools: the schools
    whose rows it may create), ``"county"`` rows of the user's county, ``"read"`` rows it may
    read, ``"partners"`` (schools) those of the user's county and its programme partners. Models
    without a scope are left as they are."""
    if not hasattr(qs.model, "scope") or is_superuser(user):
        return qs
    if kind == "write":
        if qs.model._meta.label == "alliance.School":
            return qs.filter(pk__in=writable_schools(user).values("pk"))
        return changeable(qs, user)
    if kind == "partners" and qs.model._meta.label == "alliance.School":
        # A school of the user's county, or one paired with a school of it in a cross-county
        # programme (an exchange's host across the line, a programme meeting's participant).
        partners = programme_partner_schools(user).values("pk")
        return qs.filter(Q(county_id=getattr(user, "county_id", None)) | Q(pk__in=partners))
    if kind in ("county", "partners"):
        return qs.filter(_county_q(qs.model.scope, getattr(user, "county_id", None)))
    return visible(qs, user)


def out_of_reach_message(user: Any, model: type[models.Model], kind: str = "read") -> StrOrPromise:
    """What a related field of a write says when the row it names is outside the user's reach
    (``narrow_related``): which rule refused it, the same for a row that does not exist and
    one of another county (never "exists but is not yours")."""
    if model._meta.label == "alliance.School" and role_of(user) == Role.ASSESSOR:
        return _("This school is not among the schools assigned to you.")
    name = model._meta.verbose_name
    if kind == "write":
        return _("Name a %(model)s you may change; this one is not among them.") % {"model": name}
    if kind == "county":
        return _("Name a %(model)s of your county; this one is not among them.") % {"model": name}
    return _("Name a %(model)s you may see; this one is not among them.") % {"model": name}


# The portal's homes by role: principals land on their school, assessors on their assigned
# schools, bureau staff on the county overview, auditors on the reports.
HOMES = {
    Role.MEMBER_PRINCIPAL: "principal",
    Role.LEAD_PRINCIPAL: "lead",
    Role.ASSESSOR: "assessor",
    Role.BUREAU: "bureau",
    Role.AUDITOR: "auditor",
}


def home_of(user: Any) -> str | None:
    """The key of the user's home in the portal (``HOMES``), None for a user without a role."""
    role = role_of(user)
    return HOMES.get(role) if role is not None else None


def role_value(user: Any) -> str:
    """The role as recorded (the audit trail): its value, "superuser" for a superuser without a
    role, "" for none."""
    role = role_of(user)
    if role is not None:
        return role.value
    return "superuser" if is_superuser(user) else ""


def role_label(user: Any) -> str:
    role = role_of(user)
    return str(role.label) if role is not None else ""


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
    if is_superuser(user):
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


def _readable_subquery(user: Any) -> RawSQL:
    """``readable_schools(user)`` as a compiled subquery, once per user object (a request's)."""
    # Keyed by what the user object says of itself, in case a caller changes it in between.
    key = (role_of(user), is_superuser(user), user.pk, user.county_id, user.school_id)
    cached = getattr(user, "_readable_schools_sql", None)
    if cached is None or cached[0] != key:
        cached = user._readable_schools_sql = (key, _compiled(readable_schools(user)))
    return cached[1]


def programme_partner_schools(user: Any) -> QuerySet[School]:
    """Schools of another county paired, in a cross-county programme, with a school of the
    user's county: bureau staff may name them where a programme allows (an exchange's host, a
    programme meeting), and see their names on the programme's rows, never their other rows."""
    from .models import Pairing

    schools = _all_schools()
    if role_of(user) != Role.BUREAU or not user.county_id:
        return schools.none()
    pairings = Pairing.objects.filter(programme__isnull=False)
    helped = pairings.filter(helper_school__county_id=user.county_id).values("helped_school_id")
    helpers = pairings.filter(helped_school__county_id=user.county_id).values("helper_school_id")
    return schools.filter(Q(pk__in=helped) | Q(pk__in=helpers)).exclude(county_id=user.county_id)


def writable_schools(user: Any) -> QuerySet[School]:
    """Schools whose rows the user may create or change."""
    schools = _all_schools()
    role = role_of(user)
    if is_superuser(user):
        return schools
    if role == Role.BUREAU:
        return schools.filter(county_id=user.county_id)
    if role in PRINCIPALS:
        return schools.filter(pk=user.school_id, active=True)
    return schools.none()


def _compiled(schools: QuerySet) -> RawSQL:
    """A subquery of the schools' ids, compiled once: the checkpoint names it in every path of
    every scoped query of a request, and building and compiling it again for each costs more
    Python time than the rest of a short query (bench/portal.py)."""
    # The SQL is Django's own compiler's, every value a parameter (the same for the two below).
    sql, params = schools.order_by().values("pk").query.sql_with_params()
    return RawSQL(sql, params)  # noqa: S611


def _any_of(paths: tuple[str | Via, ...], schools: QuerySet | RawSQL) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        if isinstance(path, Via):
            # One Q, so the conditions apply to the same joined row (the same membership).
            q |= Q(**{f"{path.path}__in": _ids(schools)}, **path.where)
        else:
            q |= Q(**{f"{path}__in": _ids(schools)})
    return q


def _ids(schools: QuerySet | RawSQL) -> QuerySet | RawSQL:
    return schools if isinstance(schools, RawSQL) else schools.values("pk")


def _is_direct(model: type[models.Model], paths: tuple[str | Via, ...]) -> bool:
    """One path on the model's own column: filtering on it repeats no row."""
    if len(paths) != 1 or not isinstance(path := paths[0], str) or "__" in path:
        return False
    return path == "pk" or not model._meta.get_field(path).many_to_many


def _filter(qs: QuerySet, q: Q, paths: tuple[str | Via, ...]) -> QuerySet:
    # A path through a many-valued relation would repeat rows; a subquery on pk does not.
    if _is_direct(qs.model, paths):
        return qs.filter(q)
    return qs.filter(pk__in=qs.model._base_manager.filter(q).values("pk"))


def _filter_compiled(qs: QuerySet, paths: tuple[str | Via, ...], schools: RawSQL) -> QuerySet:
    """``_filter(qs, _any_of(paths, schools), paths)`` for a compiled subquery of schools: the
    subquery on pk compiled once per model, paths and schools (``_rows_of``)."""
    if _is_direct(qs.model, paths):
        return qs.filter(_any_of(paths, schools))
    return qs.filter(pk__in=_rows_of(qs.model._meta.label, paths, schools.sql, tuple(schools.params)))


@lru_cache(maxsize=4096)
def _rows_of(label: str, paths: tuple[str | Via, ...], sql: str, params: tuple) -> RawSQL:
    """The ids of the rows of the model (its label) reached from these schools (a subquery's SQL), compiled once:
    a pure function of its arguments, so shared by every request whose user reads the same
    schools."""
    rows = apps.get_model(label)._base_manager.filter(_any_of(paths, RawSQL(sql, params))).order_by().values("pk")  # noqa: S611
    return RawSQL(*rows.query.sql_with_params())  # noqa: S611


def _county_q(scope: Scope, county_id: int | None) -> Q:
    """Rows of the county, and rows it shares through ``scope.counties`` (a programme's)."""
    q = Q(**{scope.county: county_id})
    for path in scope.counties:
        q |= Q(**{path: county_id})
    return q


def visible(qs: QuerySet, user: Any) -> QuerySet:
    """Rows of ``qs`` the user may read."""
    scope: Scope = qs.model.scope
    role = role_of(user)
    if is_superuser(user):
        return qs
    if role is None:
        return qs.none()
    if role in COUNTY_READERS or scope.county_wide:
        return qs.filter(_county_q(scope, user.county_id))
    if not scope.schools:
        return qs.none()
    try:
        schools = _readable_subquery(user)
    except EmptyResultSet:  # ``readable_schools`` is ``none()`` for this user: nothing to compile
        return qs.none()
    return _filter_compiled(qs, scope.schools, schools)


def changeable(qs: QuerySet, user: Any) -> QuerySet:
    """Rows of ``qs`` the user may change or delete."""
    scope: Scope = qs.model.scope
    role = role_of(user)
    if is_superuser(user):
        return qs
    if role == Role.BUREAU:
        return qs.filter(_county_q(scope, user.county_id))
    if role in PRINCIPALS and scope.owners:
        return _filter(qs, _any_of(scope.owners, writable_schools(user)), scope.owners)
    if role == Role.ASSESSOR and scope.assessed:
        return _filter(qs, _any_of(scope.assessed, readable_schools(user)), scope.assessed)
    return qs.none()


def can_change(user: Any, obj: models.Model) -> bool:
    return changeable(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def can_delete_pairing_task(user: Any, task: Any) -> bool:
    """A pairing's task list is the bureau's and its alliance lead's: bureau staff of the county
    and the principal of the alliance's lead school may take a task off it; the pairing's other
    schools report on their tasks (``can_change``) but never delete one."""
    if not can_change(user, task):
        return False
    role = role_of(user)
    if is_superuser(user) or role == Role.BUREAU:
        return True
    if role != Role.LEAD_PRINCIPAL:
        return False
    from .models import Membership

    leads = Membership.objects.filter(alliance_id=task.pairing.alliance_id, role=Membership.Role.LEAD)
    return leads.filter(school_id=user.school_id).exists()


def can_write_model(user: Any, model: type[models.Model]) -> bool:
    """Whether the user may create rows of this model at all (which rows is the serializer's or
    form's business, through ``writable_schools``)."""
    role = role_of(user)
    if is_superuser(user):
        return True
    if role == Role.BUREAU:
        return True
    if role == Role.ASSESSOR:
        return bool(cast(Any, model).scope.assessed)  # a scoped model declares ``scope``
    return role in PRINCIPALS and bool(cast(Any, model).scope.owners)


# --- the checkpoint compiled once per shape (``alliance.compiled``) --------------------------
#
# What the checkpoint answers for a user depends on the user's role and flags (its *shape*) and,
# within a shape, only through three values: the user's id, county and school. A query built
# for a stand-in user of the same shape with other values compiles to the same SQL with those
# values in its parameters; ``alliance.compiled`` checks that of every query it keeps.

USER_VALUES = ("pk", "county_id", "school_id")


def scope_shape(user: Any) -> tuple:
    """What of the user decides the shape of the checkpoint's SQL (the rest are its values)."""
    return (
        role_of(user),
        is_superuser(user),
        bool(getattr(user, "is_active", False)),
        *(getattr(user, name, None) is None for name in USER_VALUES),
    )


def user_values(user: Any) -> dict[str, Any]:
    """The user's values the checkpoint's SQL takes as parameters (``USER_VALUES``)."""
    return {name: getattr(user, name, None) for name in USER_VALUES}


def stand_in(user: Any, values: dict[str, Any], twin: int = 0) -> Any:
    """A user of ``user``'s shape with other values (never saved): the checkpoint answers for it
    with the same SQL as for ``user``, these values in place of the user's. Everything else of
    the user differs between the two twins (0 and 1), so that a query that reads any of it shows
    up as two different compilations (``alliance.compiled``)."""
    from .models import User

    role, _superuser, active, *missing = scope_shape(user)
    ids = {name: None if gone else values[name] for name, gone in zip(USER_VALUES, missing, strict=True)}
    other: Any = User(
        **ids,
        is_active=active,
        is_superuser=bool(getattr(user, "is_superuser", False)),
        is_staff=bool(twin),
        username=f"\x1fstand-in {twin}\x1f",
        email=f"stand-in-{twin}@invalid",
        first_name=f"\x1ffirst {twin}",
        last_name=f"\x1flast {twin}",
        last_login=None if twin == 0 else dt.datetime(9000, 1, 1, tzinfo=dt.UTC),
        date_joined=dt.datetime(1, 1, 2, tzinfo=dt.UTC) if twin == 0 else dt.datetime(9000, 1, 2, tzinfo=dt.UTC),
    )
    other._portal_role = role
    return other
