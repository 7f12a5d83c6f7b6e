"""Every write of the staffing app: teachers, exchanges with their host schools and the status
workflow planned → approved → active → completed / cancelled, mentoring pairs and their
meetings, activities with the schools involved and their attachments.

Conventions as in ``funding.services``: keyword-only, the acting user first, inside
``transaction.atomic``; a refused rule is a ``ValidationError`` with field errors and an
``ExchangeError``/``StaffingError`` code, a user who may not write here at all gets
``PermissionDenied`` (the access checkpoint decides). Single-row rules are the models'
``clean()`` (run by ``full_clean`` here); rules across rows are checked here. The admin and the
API call these functions, never ``save()`` themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance import access
from alliance.models import Membership, Pairing, Programme, School, SchoolYear

from .models import (
    Activity,
    ActivityAttachment,
    Exchange,
    ExchangeHost,
    MentorMeeting,
    MentorPair,
    Rectification,
    SupervisionVisit,
    Teacher,
)
from .querysets import CLOSED_EXCHANGE_STATUSES


class ExchangeError(StrEnum):
    """Codes of the ValidationErrors raised here (``ValidationError.code``)."""

    HOST_COUNT = "host_count"
    HOST_INACTIVE = "host_inactive"
    HOST_OTHER_COUNTY = "host_other_county"
    HOST_IS_ORIGIN = "host_is_origin"
    BAD_TRANSITION = "bad_transition"
    CLOSED = "closed"
    REASON_REQUIRED = "reason_required"
    # A non-bureau change to a running exchange's approved terms (an approved one goes back
    # to planned instead, for the bureau to approve again).
    ACTIVE_TERMS = "active_terms_fixed"
    UNKNOWN_FIELD = "unknown_field"
    # Only a still-planned exchange is deleted; one the bureau approved is cancelled instead.
    NOT_DELETABLE = "not_deletable"


class StaffingError(StrEnum):
    """Codes of the ValidationErrors of teachers, mentoring pairs and activities."""

    NOT_READABLE = "not_readable"  # a row the writer may not see (the same as one that does not exist)
    NOT_YOUR_TEACHER = "not_your_teacher"  # neither side of a mentoring pair is the writer's
    SCHOOL_OTHER_COUNTY = "school_other_county"  # a school involved of another county
    UNKNOWN_FIELD = "unknown_field"


class SupervisionError(StrEnum):
    """Codes of the ValidationErrors of supervision visits and rectification items."""

    NOT_ASSIGNED = "not_assigned"  # an assessor naming a school not assigned to it
    SUPERVISOR = "supervisor"  # the supervisor named is not an assessor of the school
    BAD_TRANSITION = "bad_transition"  # open → answered → closed, in that order
    ANSWER_REQUIRED = "answer_required"
    UNKNOWN_FIELD = "unknown_field"


# Fields a user edits; status, approval and the derived flag change only through this module.
EDITABLE_FIELDS = (
    "kind", "teacher", "origin_school", "subject", "class_count", "classes",
    "weekly_periods", "start_date", "end_date",
)  # fmt: skip

S = Exchange.Status
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PLANNED: (S.APPROVED, S.CANCELLED),
    S.APPROVED: (S.ACTIVE, S.CANCELLED),
    S.ACTIVE: (S.COMPLETED, S.CANCELLED),
    S.COMPLETED: (),
    S.CANCELLED: (),
}


def programme_of(origin_school: School, host: School) -> Programme | None:
    """The cross-county programme in which the two schools are paired (either way round)."""
    pairing = (
        Pairing.objects.filter(programme__isnull=False)
        .filter(Q(helper_school=origin_school, helped_school=host) | Q(helper_school=host, helped_school=origin_school))
        .select_related("programme")
        .order_by("pk")
        .first()
    )
    return pairing.programme if pairing is not None else None


def exchange_programme(*, origin_school: School, host_schools: Iterable[School]) -> Programme | None:
    """The programme an exchange hosted across the county line belongs to (None if none is)."""
    for host in host_schools:
        if host.county_id != origin_school.county_id:
            return programme_of(origin_school, host)
    return None


def exchange_counties(exchange: Exchange) -> tuple[int, ...]:
    """The counties whose bureau manages the exchange: the origin's, and its programme's."""
    counties: tuple[int, ...] = (exchange.origin_school.county_id,)
    if exchange.programme is not None:
        counties += exchange.programme.county_ids
    return counties


def exchange_hosts_check(*, kind: str, origin_school: School | None, host_schools: Iterable[School]) -> None:
    """The rules on host schools, for the service, the API and the admin's inline alike. A host
    of another county is allowed where a cross-county programme pairs it with the origin."""
    hosts = list(host_schools)
    errors: list[ValidationError] = []
    if kind in Exchange.MULTI_HOST_KINDS:
        if not hosts:
            errors.append(ValidationError(_("Name at least one host school."), code=ExchangeError.HOST_COUNT.value))
    elif len(hosts) != 1:
        errors.append(
            ValidationError(
                _("This kind of exchange has exactly one host school; only itinerant teaching has several."),
                code=ExchangeError.HOST_COUNT.value,
            )
        )
    if len({h.pk for h in hosts}) != len(hosts):
        errors.append(ValidationError(_("A host school is named twice."), code=ExchangeError.HOST_COUNT.value))
    for school in hosts:
        if origin_school is not None and school.pk == origin_school.pk:
            errors.append(
                ValidationError(
                    _("%(school)s is the origin school and cannot also host."),
                    code=ExchangeError.HOST_IS_ORIGIN.value,
                    params={"school": school},
                )
            )
        if (
            origin_school is not None
            and school.county_id != origin_school.county_id
            and programme_of(origin_school, school) is None
        ):
            errors.append(
                ValidationError(
                    _("%(school)s belongs to another county."),
                    code=ExchangeError.HOST_OTHER_COUNTY.value,
                    params={"school": school},
                )
            )
        if not school.active:
            errors.append(
                ValidationError(
                    _("%(school)s is not active."), code=ExchangeError.HOST_INACTIVE.value, params={"school": school}
                )
            )
    if errors:
        raise ValidationError({"hosts": errors})


def school_year_of(county_id: int, day: dt.date) -> SchoolYear | None:
    """The school year containing ``day``; in the summer break, the one that just ended."""
    year = SchoolYear.objects.filter(county_id=county_id, start_date__lte=day).order_by("-start_date").first()
    if year is None or day >= dt.date(year.start_year + 1, 9, 1):
        return None
    return year


def is_cross_alliance(*, origin_school: School, host_schools: Iterable[School], on: dt.date) -> bool:
    """Whether some host shares no alliance with the origin in the school year containing ``on``."""
    host_ids = {h.pk for h in host_schools}
    year = school_year_of(origin_school.county_id, on)
    if year is None:
        return bool(host_ids)
    origin_alliances = Membership.objects.filter(school=origin_school, school_year=year).values("alliance_id")
    shared = set(
        Membership.objects.filter(alliance_id__in=origin_alliances, school_id__in=host_ids).values_list(
            "school_id", flat=True
        )
    )
    return bool(host_ids - shared)


def _check_actor_may_write(actor: Any, exchange: Exchange) -> None:
    if not access.writable_schools(actor).filter(pk=exchange.origin_school_id).exists():
        raise PermissionDenied(_("You may not log exchanges for this school."))


def _save(exchange: Exchange, host_schools: list[School]) -> Exchange:
    # The row is locked by the caller's transaction; hosts are replaced as a set.
    exchange.full_clean()
    exchange_hosts_check(kind=exchange.kind, origin_school=exchange.origin_school, host_schools=host_schools)
    exchange.cross_alliance = is_cross_alliance(
        origin_school=exchange.origin_school, host_schools=host_schools, on=exchange.start_date
    )
    exchange.programme = exchange_programme(origin_school=exchange.origin_school, host_schools=host_schools)
    exchange.save()
    wanted = {h.pk for h in host_schools}
    exchange.hosts.exclude(school_id__in=wanted).delete()
    present = set(exchange.hosts.values_list("school_id", flat=True))
    ExchangeHost.objects.bulk_create([ExchangeHost(exchange=exchange, school_id=pk) for pk in wanted - present])
    return exchange


def exchange_create(
    *,
    actor: Any,
    teacher: Teacher,
    origin_school: School,
    host_schools: Iterable[School],
    kind: str,
    start_date: dt.date,
    end_date: dt.date,
    subject: str = "",
    class_count: int = 0,
    classes: str = "",
    weekly_periods: int = 0,
) -> Exchange:
    """Log a planned exchange. Raises ValidationError (field errors) when a rule is broken,
    PermissionDenied when the actor may not write rows of the origin school."""
    exchange = Exchange(
        kind=kind,
        teacher=teacher,
        origin_school=origin_school,
        subject=subject,
        class_count=class_count,
        classes=classes,
        weekly_periods=weekly_periods,
        start_date=start_date,
        end_date=end_date,
        status=Exchange.Status.PLANNED,
        logged_by=actor,
    )
    _check_actor_may_write(actor, exchange)
    with transaction.atomic():
        # Serialise writers per teacher so two requests cannot both pass the overlap check.
        Teacher.objects.select_for_update().filter(pk=teacher.pk).first()
        return _save(exchange, list(host_schools))


def exchange_update(
    *, actor: Any, exchange: Exchange, host_schools: Iterable[School] | None = None, **fields: Any
) -> Exchange:
    """Change the editable fields (``EDITABLE_FIELDS``) and, if given, the host schools."""
    _refuse_unknown(fields, EDITABLE_FIELDS, ExchangeError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this exchange."))
        exchange_open_check(exchange=locked)
        before = {name: getattr(locked, name) for name in EDITABLE_FIELDS}
        hosts_before = set(locked.hosts.values_list("school_id", flat=True))
        for name, value in fields.items():
            setattr(locked, name, value)
        _check_actor_may_write(actor, locked)
        Teacher.objects.select_for_update().filter(pk=locked.teacher_id).first()
        hosts = list(host_schools) if host_schools is not None else list(locked.host_schools.all())
        changed = any(getattr(locked, n) != v for n, v in before.items()) or {h.pk for h in hosts} != hosts_before
        if changed:
            _reapprove_if_needed(actor, locked)
        _save(locked, hosts)
    return locked


def exchange_open_check(*, exchange: Exchange) -> None:
    """A completed or cancelled exchange is history: nothing about it changes any more."""
    if exchange.status in CLOSED_EXCHANGE_STATUSES:
        raise ValidationError(
            _("A completed or cancelled exchange can no longer be changed."), code=ExchangeError.CLOSED.value
        )


def exchange_deletable(exchange: Exchange) -> bool:
    """Approvals mean what they say: an exchange is deleted only while it is still planned (a
    draft); once the bureau approved it, it is part of the record and is cancelled, with a
    reason, never deleted (by anyone)."""
    return exchange.status == S.PLANNED


def exchange_delete(*, actor: Any, exchange: Exchange) -> None:
    with transaction.atomic():
        locked = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not delete this exchange."))
        if not exchange_deletable(locked):
            raise ValidationError(
                _("Only a planned exchange may be deleted; cancel this one, with a reason, instead."),
                code=ExchangeError.NOT_DELETABLE.value,
            )
        locked.delete()


def exchange_terms_check(*, actor: Any, exchange: Exchange) -> None:
    """Whether the actor may change the terms of ``exchange`` (as stored): what the bureau
    approved is the bureau's, so a school may not change a running exchange (the teacher is
    already at the host: cancel it and log the new posting); an approved one goes back to
    planned instead (``exchange_update``)."""
    if exchange.status == S.ACTIVE and not access.is_bureau_of_any(actor, exchange_counties(exchange)):
        raise ValidationError(
            _("A running exchange keeps the terms the bureau approved; cancel it and log the new one."),
            code=ExchangeError.ACTIVE_TERMS.value,
        )


def _reapprove_if_needed(actor: Any, exchange: Exchange) -> None:
    """A change by the school sends an approved exchange back to planned, for the bureau to
    approve again; a change by the bureau itself stands as approved by it."""
    if exchange.status not in (S.APPROVED, S.ACTIVE):
        return
    exchange_terms_check(actor=actor, exchange=exchange)
    if access.is_bureau_of_any(actor, exchange_counties(exchange)):
        exchange.approved_by, exchange.approved_at = actor, timezone.now()
        return
    exchange.status = S.PLANNED
    exchange.approved_by, exchange.approved_at = None, None


def _refuse_unknown(fields: dict, allowed: Iterable[str], code: StrEnum) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(
            {name: [ValidationError(_("This field cannot be set here."), code=code.value)] for name in sorted(unknown)}
        )


def exchange_transition_check(*, exchange: Exchange, to: str, reason: str = "") -> None:
    """Whether ``exchange`` (as stored) may move to status ``to``: the workflow's one rule, for
    the service, the admin's status field and the API's actions alike."""
    if to not in TRANSITIONS[exchange.status]:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("An exchange that is %(current)s cannot become %(target)s."),
                    code=ExchangeError.BAD_TRANSITION.value,
                    params={"current": exchange.get_status_display(), "target": S(to).label},
                )
            }
        )
    if to == S.CANCELLED and not (reason or "").strip():
        raise ValidationError(
            {"reason": ValidationError(_("Give a reason for cancelling."), code=ExchangeError.REASON_REQUIRED.value)}
        )


def _transition(*, actor: Any, exchange: Exchange, to: str, reason: str = "", **changes: Any) -> Exchange:
    with transaction.atomic():
        locked = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this exchange."))
        exchange_transition_check(exchange=locked, to=to, reason=reason)
        locked.status = to
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", *changes])
    return locked


def exchange_approve(*, actor: Any, exchange: Exchange) -> Exchange:
    """Bureau staff approve a planned exchange of their county."""
    access.require_bureau_of_any(actor, exchange_counties(exchange), _("Only bureau staff approve exchanges."))
    return _transition(actor=actor, exchange=exchange, to=S.APPROVED, approved_by=actor, approved_at=timezone.now())


def exchange_start(*, actor: Any, exchange: Exchange) -> Exchange:
    return _transition(actor=actor, exchange=exchange, to=S.ACTIVE)


def exchange_complete(*, actor: Any, exchange: Exchange) -> Exchange:
    return _transition(actor=actor, exchange=exchange, to=S.COMPLETED)


def exchange_cancel(*, actor: Any, exchange: Exchange, reason: str) -> Exchange:
    return _transition(
        actor=actor, exchange=exchange, to=S.CANCELLED, reason=reason, cancel_reason=(reason or "").strip()
    )


def exchange_set_status(*, actor: Any, exchange: Exchange, status: str, reason: str = "") -> Exchange:
    """The admin's status field: the same transitions as the API's actions."""
    if status == S.APPROVED:
        return exchange_approve(actor=actor, exchange=exchange)
    if status == S.ACTIVE:
        return exchange_start(actor=actor, exchange=exchange)
    if status == S.COMPLETED:
        return exchange_complete(actor=actor, exchange=exchange)
    if status == S.CANCELLED:
        return exchange_cancel(actor=actor, exchange=exchange, reason=reason)
    return _transition(actor=actor, exchange=exchange, to=status)


# --- teachers ----------------------------------------------------------------------------

TEACHER_FIELDS = ("school", "name", "gender", "subject", "title", "years_of_service", "is_key_teacher", "active")


def _require_school_writable(actor: Any, school: School | None, field: str = "school") -> None:
    """Rows are created for schools whose rows the actor may write (the checkpoint's list);
    another school is refused beside the field, the same whether it exists or not."""
    if school is None or not access.writable_schools(actor).filter(pk=school.pk).exists():
        raise ValidationError(
            {field: ValidationError(_("You may not write rows of this school."), code=StaffingError.NOT_READABLE.value)}
        )


def teacher_create(*, actor: Any, school: School, name: str, subject: str, **fields: Any) -> Teacher:
    _refuse_unknown(fields, TEACHER_FIELDS, StaffingError.UNKNOWN_FIELD)
    with transaction.atomic():
        _require_school_writable(actor, school)
        teacher = Teacher(school=school, name=name, subject=subject, **fields)
        teacher.full_clean()
        teacher.save()
    return teacher


def teacher_update(*, actor: Any, teacher: Teacher, **fields: Any) -> Teacher:
    _refuse_unknown(fields, TEACHER_FIELDS, StaffingError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = Teacher.objects.select_for_update().get(pk=teacher.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this teacher."))
        if "school" in fields and fields["school"].pk != locked.school_id:
            _require_school_writable(actor, fields["school"])
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked


def teacher_delete(*, actor: Any, teacher: Teacher) -> None:
    """A teacher with exchanges or mentoring pairs is PROTECTed (kept as history; set inactive)."""
    with transaction.atomic():
        locked = Teacher.objects.select_for_update().get(pk=teacher.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not delete this teacher."))
        locked.delete()


# --- mentoring pairs and meetings --------------------------------------------------------

PAIR_FIELDS = ("mentor", "mentee", "start_date", "end_date", "goals")
MEETING_FIELDS = ("pair", "date", "kind", "notes")


def mentor_pair_check(
    *, actor: Any, mentor: Teacher | None, mentee: Teacher | None, naming: Iterable[str] = ("mentor", "mentee")
) -> None:
    """The rules of a pair across rows: each teacher this write names (``naming``) is one the
    actor may read (another one is refused as if it did not exist, so a write never reveals
    another school's teacher), and at least one side is a teacher whose rows the actor may
    change (its own school's)."""
    sides = {field: t for field, t in (("mentor", mentor), ("mentee", mentee)) if t is not None}
    named = {field: t for field, t in sides.items() if field in naming}
    readable = set(
        Teacher.objects.filter(pk__in=[t.pk for t in named.values()]).visible_to(actor).values_list("pk", flat=True)
    )
    errors = {
        field: ValidationError(
            _("Name a %(model)s you may see; this one is not among them.") % {"model": Teacher._meta.verbose_name},
            code=StaffingError.NOT_READABLE.value,
        )
        for field, t in named.items()
        if t.pk not in readable
    }
    if errors:
        raise ValidationError(errors)
    if sides and not Teacher.objects.filter(pk__in=[t.pk for t in sides.values()]).changeable_by(actor).exists():
        raise ValidationError(
            {
                "mentee": ValidationError(
                    _("The mentor or the mentee must be a teacher of your school."),
                    code=StaffingError.NOT_YOUR_TEACHER.value,
                )
            }
        )


def mentor_pair_create(
    *,
    actor: Any,
    mentor: Teacher,
    mentee: Teacher,
    start_date: dt.date,
    end_date: dt.date | None = None,
    goals: str = "",
) -> MentorPair:
    with transaction.atomic():
        mentor_pair_check(actor=actor, mentor=mentor, mentee=mentee)
        pair = MentorPair(mentor=mentor, mentee=mentee, start_date=start_date, end_date=end_date, goals=goals)
        pair.full_clean()
        pair.save()
    return pair


def mentor_pair_update(*, actor: Any, pair: MentorPair, **fields: Any) -> MentorPair:
    _refuse_unknown(fields, PAIR_FIELDS, StaffingError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = MentorPair.objects.select_for_update().get(pk=pair.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this mentoring pair."))
        naming = [n for n in ("mentor", "mentee") if n in fields and fields[n].pk != getattr(locked, f"{n}_id")]
        for name, value in fields.items():
            setattr(locked, name, value)
        mentor_pair_check(actor=actor, mentor=locked.mentor, mentee=locked.mentee, naming=naming)
        locked.full_clean()
        locked.save()
        # The meetings must still lie within the pair's dates.
        for meeting in locked.meetings.all():
            meeting.pair = locked
            meeting.full_clean()
    return locked


def mentor_pair_delete(*, actor: Any, pair: MentorPair) -> None:
    with transaction.atomic():
        locked = MentorPair.objects.select_for_update().get(pk=pair.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not delete this mentoring pair."))
        locked.delete()


def _require_pair_changeable(actor: Any, pair: MentorPair | None) -> None:
    if pair is None or not access.can_change(actor, pair):
        raise ValidationError(
            {"pair": ValidationError(_("Name a mentoring pair of your school."), code=StaffingError.NOT_READABLE.value)}
        )


def mentor_meeting_create(*, actor: Any, pair: MentorPair, date: dt.date, kind: str, notes: str = "") -> MentorMeeting:
    with transaction.atomic():
        _require_pair_changeable(actor, pair)
        meeting = MentorMeeting(pair=pair, date=date, kind=kind, notes=notes)
        meeting.full_clean()
        meeting.save()
    return meeting


def mentor_meeting_update(*, actor: Any, meeting: MentorMeeting, **fields: Any) -> MentorMeeting:
    _refuse_unknown(fields, MEETING_FIELDS, StaffingError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = MentorMeeting.objects.select_for_update().get(pk=meeting.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this meeting."))
        if "pair" in fields and fields["pair"].pk != locked.pair_id:
            _require_pair_changeable(actor, fields["pair"])
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked


def mentor_meeting_delete(*, actor: Any, meeting: MentorMeeting) -> None:
    with transaction.atomic():
        if not access.can_change(actor, meeting):
            raise PermissionDenied(_("You may not delete this meeting."))
        meeting.delete()


# --- activities and attachments ----------------------------------------------------------

ACTIVITY_FIELDS = (
    "kind", "date", "host_school", "title", "participants", "person_times", "description",
    "donation_amount", "goods_description", "goods_count", "goods_value", "resource_count",
    "programme",
)  # fmt: skip


def activity_schools_check(
    *, host_school: School | None, schools: Iterable[School], programme: Programme | None = None
) -> None:
    """The schools involved are of the organising school's county (another county's schools
    take part through their own bureau's records); a programme's activity (its term meeting)
    may involve the schools of both the programme's counties."""
    if host_school is None:
        return
    counties = set(programme.county_ids) if programme is not None else {host_school.county_id}
    errors = [
        ValidationError(
            _("%(school)s belongs to another county."),
            code=StaffingError.SCHOOL_OTHER_COUNTY.value,
            params={"school": school},
        )
        for school in schools
        if school.county_id not in counties
    ]
    if errors:
        raise ValidationError({"schools": errors})


def activity_create(*, actor: Any, host_school: School, schools: Iterable[School] = (), **fields: Any) -> Activity:
    _refuse_unknown(fields, ACTIVITY_FIELDS, StaffingError.UNKNOWN_FIELD)
    schools = list(schools)
    with transaction.atomic():
        _require_school_writable(actor, host_school, "host_school")
        activity = Activity(host_school=host_school, **fields)
        activity.full_clean()
        activity_schools_check(host_school=host_school, schools=schools, programme=activity.programme)
        activity.save()
        activity.schools.set(schools)
    return activity


def activity_update(
    *, actor: Any, activity: Activity, schools: Iterable[School] | None = None, **fields: Any
) -> Activity:
    """Change the activity's fields and, if given, the schools involved (replaced as a set)."""
    _refuse_unknown(fields, ACTIVITY_FIELDS, StaffingError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this activity."))
        if "host_school" in fields and fields["host_school"].pk != locked.host_school_id:
            _require_school_writable(actor, fields["host_school"], "host_school")
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        involved = list(schools) if schools is not None else list(locked.schools.all())
        activity_schools_check(host_school=locked.host_school, schools=involved, programme=locked.programme)
        locked.save()
        if schools is not None:
            locked.schools.set(involved)
    return locked


def activity_delete(*, actor: Any, activity: Activity) -> None:
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not delete this activity."))
        locked.delete()


def _require_activity_changeable(actor: Any, activity: Activity | None) -> None:
    if activity is None or not access.can_change(actor, activity):
        raise ValidationError(
            {"activity": ValidationError(_("Name an activity of your school."), code=StaffingError.NOT_READABLE.value)}
        )


def attachment_create(*, actor: Any, activity: Activity, file: Any, caption: str = "") -> ActivityAttachment:
    with transaction.atomic():
        _require_activity_changeable(actor, activity)
        attachment = ActivityAttachment(activity=activity, file=file, caption=caption)
        attachment.full_clean()
        attachment.save()
    return attachment


def attachment_update(*, actor: Any, attachment: ActivityAttachment, **fields: Any) -> ActivityAttachment:
    _refuse_unknown(fields, ("activity", "file", "caption"), StaffingError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = ActivityAttachment.objects.select_for_update().get(pk=attachment.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this attachment."))
        if "activity" in fields and fields["activity"].pk != locked.activity_id:
            _require_activity_changeable(actor, fields["activity"])
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked


def attachment_delete(*, actor: Any, attachment: ActivityAttachment) -> None:
    with transaction.atomic():
        if not access.can_change(actor, attachment):
            raise PermissionDenied(_("You may not delete this attachment."))
        attachment.delete()


# --- supervision (seed 004) -------------------------------------------------------------

VISIT_FIELDS = ("date", "forms", "findings")


def _supervisor_check(*, actor: Any, school: School, supervisor: Any | None) -> Any:
    """Who the visit's supervisor is: an assessor logs its own visits; the bureau names an
    assessor of the county to whom the school is assigned, or is the supervisor itself."""
    if not access.is_bureau(actor):
        if supervisor is not None and supervisor.pk != actor.pk:
            raise ValidationError(
                {"supervisor": ValidationError(_("You log your own visits."), code=SupervisionError.SUPERVISOR.value)}
            )
        return actor
    if supervisor is None:
        return actor
    if not access.is_assessor_of(supervisor, school):
        raise ValidationError(
            {
                "supervisor": ValidationError(
                    _("Name an assessor to whom this school is assigned."), code=SupervisionError.SUPERVISOR.value
                )
            }
        )
    return supervisor


def supervision_visit_check(*, actor: Any, school: School, supervisor: Any | None = None) -> Any:
    """Whether ``actor`` may log a visit of ``school`` naming ``supervisor``; the supervisor
    recorded. A role that logs no visits is refused outright (``PermissionDenied``)."""
    # bureau staff and assessors (the checkpoint's writers of supervision rows)
    if not access.can_write_model(actor, SupervisionVisit):
        raise PermissionDenied(_("Only supervisors and bureau staff log supervision visits."))
    access.require_assessor_of(actor, school, school.county_id, code=SupervisionError.NOT_ASSIGNED.value)
    return _supervisor_check(actor=actor, school=school, supervisor=supervisor)


def supervision_visit_create(
    *,
    actor: Any,
    school: School,
    date: dt.date,
    forms: Iterable[str] = (),
    findings: str = "",
    supervisor: Any | None = None,
) -> SupervisionVisit:
    """Log a visit: an assessor for one of its assigned schools, or the bureau of the school's county."""
    with transaction.atomic():
        visit = SupervisionVisit(
            school=school,
            supervisor=supervision_visit_check(actor=actor, school=school, supervisor=supervisor),
            date=date,
            forms=list(forms),
            findings=findings,
        )
        visit.full_clean()
        visit.save()
    return visit


def supervision_visit_update(*, actor: Any, visit: SupervisionVisit, **fields: Any) -> SupervisionVisit:
    """Correct a visit's date, forms or findings: its supervisor or the bureau."""
    _refuse_unknown(fields, VISIT_FIELDS, SupervisionError.UNKNOWN_FIELD)
    with transaction.atomic():
        locked = SupervisionVisit.objects.select_for_update().get(pk=visit.pk)
        _require_supervisor_or_bureau(actor, locked)
        for name, value in fields.items():
            setattr(locked, name, list(value) if name == "forms" else value)
        locked.full_clean()
        locked.save()
    return locked


def _require_supervisor_or_bureau(actor: Any, visit: SupervisionVisit) -> None:
    if access.is_bureau_of(actor, visit.school.county_id):
        return
    if visit.supervisor_id == actor.pk and access.is_assessor_of(actor, visit.school):
        return
    raise PermissionDenied(_("Only the visit's supervisor or the bureau may do this."))


def rectification_check(*, visit: SupervisionVisit, due_date: dt.date) -> None:
    if due_date < visit.date:
        raise ValidationError({"due_date": _("The due date may not be before the visit.")})


def rectification_create(*, actor: Any, visit: SupervisionVisit, item: str, due_date: dt.date) -> Rectification:
    """A rectification item (整改) of a visit, by its supervisor or the bureau."""
    with transaction.atomic():
        _require_supervisor_or_bureau(actor, visit)
        rectification_check(visit=visit, due_date=due_date)
        rectification = Rectification(visit=visit, item=item, due_date=due_date)
        rectification.full_clean()
        rectification.save()
    return rectification


def _transition_check(rectification: Rectification, *, want: str) -> None:
    if rectification.status != want:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("This rectification item is %(status)s."),
                    code=SupervisionError.BAD_TRANSITION.value,
                    params={"status": rectification.get_status_display()},
                )
            }
        )


def rectification_answer(*, actor: Any, rectification: Rectification, answer: str) -> Rectification:
    """The school's principal says what was done (open → answered); answering again before the
    supervisor closes replaces the answer."""
    with transaction.atomic():
        locked = Rectification.objects.select_for_update().select_related("visit").get(pk=rectification.pk)
        access.require_principal_of(actor, locked.visit.school_id)
        if locked.status == Rectification.Status.CLOSED:
            _transition_check(locked, want=Rectification.Status.OPEN)
        if not answer.strip():
            raise ValidationError(
                {"answer": ValidationError(_("Say what was done."), code=SupervisionError.ANSWER_REQUIRED.value)}
            )
        locked.answer = answer
        locked.answered_at = timezone.now()
        locked.answered_by = actor
        locked.status = Rectification.Status.ANSWERED
        locked.save()
    return locked


def rectification_close(*, actor: Any, rectification: Rectification) -> Rectification:
    """The visit's supervisor (or the bureau) accepts the answer (answered → closed)."""
    with transaction.atomic():
        locked = Rectification.objects.select_for_update().select_related("visit__school").get(pk=rectification.pk)
        _require_supervisor_or_bureau(actor, locked.visit)
        _transition_check(locked, want=Rectification.Status.ANSWERED)
        locked.status = Rectification.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save()
    return locked
