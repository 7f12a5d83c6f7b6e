"""Writes of the alliance app with a rule beyond one row: the pairings' task lists (任务清单).

The task list is the bureau's: it creates the tasks, names their titles, due dates and
responsible persons. The schools of a pairing — the helper and the helped school, and the lead
school of the pairing's alliance — report on them: status, completion date and progress notes
(the evidence of the work), and nothing else (a school that moved a due date would move its
own "done on time" indicator). Other rows of this app (schools, years, alliances, memberships,
pairings) have no rule beyond their model's and are written by their serializer's ``save()``.

Cross-county programmes (跨区域结对帮扶): a pairing may join schools of two counties only inside
a programme whose helper county is the helper school's and whose helped county is the helped
school's (``programme_pairing_check``); an ordinary pairing stays inside its alliance, whose
schools are of its county. The programme's term meeting is expected each term
(``programmes_missing_term_meeting``)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import access
from .models import Membership, Pairing, PairingTask, Programme, School, Term


class AllianceError(StrEnum):
    NOT_SCHOOLS_TO_SET = "bureau_sets_this"  # a school set a field of the bureau's task list
    UNKNOWN_FIELD = "unknown_field"
    NOT_ONE_LEAD = "not_one_lead"
    PROGRAMME_COUNTY = "programme_county"  # a programme pairing's school outside the programme's counties
    TERM_OUTSIDE = "term_outside_programme"  # a term of neither of the programme's counties


TASK_FIELDS = (
    "pairing", "title", "milestone", "due_date", "responsible_person", "status", "completed_on",
    "progress_notes", "evidence",
)  # fmt: skip
# What a pairing's schools report on a task: its status with the evidence.
PROGRESS_FIELDS = ("status", "completed_on", "progress_notes", "evidence")


def alliance_members_check(*, roles: list[str]) -> None:
    """An alliance's whole composition, as the bureau sets it at once (the admin's membership
    rows): exactly one lead school. A single membership row can only say "at most one lead"
    (``Membership.clean`` and the database), since the API writes memberships one by one."""
    if roles and sum(role == Membership.Role.LEAD for role in roles) != 1:
        raise ValidationError(_("An alliance has exactly one lead school."), code=AllianceError.NOT_ONE_LEAD.value)


def _counties_of(pairing: Pairing) -> tuple[int, ...]:
    """The counties whose bureau manages the pairing: its alliance's, or its programme's two."""
    if pairing.programme_id:
        return pairing.programme.county_ids  # type: ignore[union-attr]
    return (pairing.alliance.school_year.county_id,)  # type: ignore[union-attr]


def programme_pairing_check(*, pairing: Pairing) -> dict[str, Any]:
    """The cross-row rule of a programme's pairing: the helper school of the programme's helper
    county, the helped school of its helped county (field → message; empty when it holds)."""
    errors: dict[str, Any] = {}
    programme = pairing.programme
    if programme is None:
        return errors
    if pairing.helper_school_id and pairing.helper_school.county_id != programme.helper_county_id:
        errors["helper_school"] = _("The helper school must be of the programme's helper county.")
    if pairing.helped_school_id and pairing.helped_school.county_id != programme.helped_county_id:
        errors["helped_school"] = _("The helped school must be of the programme's helped county.")
    for field in ("helper_school", "helped_school"):
        school = getattr(pairing, field) if getattr(pairing, f"{field}_id") else None
        if school is not None and not school.active and field not in errors:
            errors[field] = _("The school is not active.")
    return errors


def programme_schools(programme: Programme) -> Any:
    """The schools a programme's pairing may name: those of its two counties."""
    return School.objects.filter(county_id__in=programme.county_ids)


def programme_pairing_create(
    *,
    actor: Any,
    programme: Programme,
    helper_school: School,
    helped_school: School,
    start_date: dt.date,
    end_date: dt.date | None = None,
    agreement_date: dt.date | None = None,
    focus_areas: list[str] | None = None,
) -> Pairing:
    """A pairing across the two counties of a programme: either county's bureau makes it."""
    with transaction.atomic():
        access.require_bureau_of_any(
            actor, programme.county_ids, _("The bureau staff of the programme's counties pair its schools.")
        )
        pairing = Pairing(
            programme=programme,
            helper_school=helper_school,
            helped_school=helped_school,
            start_date=start_date,
            end_date=end_date,
            agreement_date=agreement_date,
            focus_areas=focus_areas or [],
        )
        pairing.full_clean()
        pairing.save()
    return pairing


PROGRAMME_FIELDS = ("name", "helper_county", "helped_county", "agreement", "start_date", "end_date")


def programme_create(*, actor: Any, **fields: Any) -> Programme:
    """A programme agreed between two bureaus: the bureau of either county records it."""
    _refuse_unknown(fields, PROGRAMME_FIELDS)
    with transaction.atomic():
        programme = Programme(**fields)
        access.require_bureau_of_any(
            actor,
            (programme.helper_county_id, programme.helped_county_id),
            _("The bureau staff of one of the programme's two counties record it."),
        )
        programme.full_clean()
        programme.save()
    return programme


def programme_update(*, actor: Any, programme: Programme, **fields: Any) -> Programme:
    _refuse_unknown(fields, PROGRAMME_FIELDS)
    with transaction.atomic():
        locked = Programme.objects.select_for_update().get(pk=programme.pk)
        access.require_bureau_of_any(actor, locked.county_ids, _("You may not change this programme."))
        for name, value in fields.items():
            setattr(locked, name, value)
        # Still one of the writer's counties after the change (it cannot hand it to two others).
        access.require_bureau_of_any(actor, locked.county_ids, _("You may not change this programme."))
        if locked.pairings.exists() and {"helper_county", "helped_county"} & set(fields):
            before = Programme.objects.get(pk=locked.pk)
            if before.county_ids != locked.county_ids:
                raise ValidationError(_("A programme with pairings keeps its two counties."))
        locked.full_clean()
        locked.save()
    return locked


def programme_delete(*, actor: Any, programme: Programme) -> None:
    with transaction.atomic():
        access.require_bureau_of_any(actor, programme.county_ids, _("You may not change this programme."))
        programme.delete()


def programme_terms(*, programme: Programme, today: dt.date) -> list[tuple[Term, list[dt.date]]]:
    """The terms of the helped county, begun by ``today`` and within the programme's dates, each
    with the dates of the programme's term meetings held in it (none: the meeting is missing)."""
    terms = Term.objects.filter(
        school_year__county_id=programme.helped_county_id, start_date__lte=today, end_date__gte=programme.start_date
    )
    if programme.end_date:
        terms = terms.filter(start_date__lte=programme.end_date)
    dates = sorted(programme.activities.filter(kind=Programme.TERM_MEETING_KIND).values_list("date", flat=True))
    return [
        (term, [day for day in dates if term.start_date <= day <= term.end_date])
        for term in terms.select_related("school_year").order_by("start_date")
    ]


def programme_terms_missing_meeting(*, programme: Programme, today: dt.date) -> list[Term]:
    """The terms of the helped county, begun by ``today`` and within the programme's dates, in
    which the programme held no term meeting (the admin shows them on the programme)."""
    return [term for term, held in programme_terms(programme=programme, today=today) if not held]


def _refuse_unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(
            {
                n: ValidationError(_("This field cannot be set here."), code=AllianceError.UNKNOWN_FIELD.value)
                for n in unknown
            }
        )


def programmes_missing_term_meeting(*, actor: Any, term: Term) -> list[Programme]:
    """The programmes the actor may see, running in ``term`` and of its county, that held no
    term meeting (an activity of kind ``Programme.TERM_MEETING_KIND``) within the term's dates."""
    county_id = term.school_year.county_id
    running = (
        Programme.objects.visible_to(actor)
        .filter(Q(helper_county_id=county_id) | Q(helped_county_id=county_id))
        .filter(start_date__lte=term.end_date)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=term.start_date))
    )
    # ``activities`` is the staffing app's Activity.programme (this app imports nothing of ours).
    held = Programme.objects.filter(
        activities__kind=Programme.TERM_MEETING_KIND,
        activities__date__gte=term.start_date,
        activities__date__lte=term.end_date,
    ).values("pk")
    return list(running.exclude(pk__in=held).select_related("helper_county", "helped_county").order_by("name", "pk"))


def pairing_task_create(
    *,
    actor: Any,
    pairing: Pairing,
    title: str,
    due_date: dt.date,
    responsible_person: str,
    status: str = PairingTask.Status.PLANNED,
    completed_on: dt.date | None = None,
    progress_notes: str = "",
    milestone: str = "",
    evidence: Any = None,
) -> PairingTask:
    """A task of a pairing's list: the bureau's."""
    with transaction.atomic():
        access.require_bureau_of_any(actor, _counties_of(pairing), _("The bureau draws up a pairing's task list."))
        task = PairingTask(
            pairing=pairing,
            title=title,
            milestone=milestone,
            due_date=due_date,
            responsible_person=responsible_person,
            status=status,
            completed_on=completed_on,
            progress_notes=progress_notes,
        )
        if evidence:
            task.evidence = evidence
        task.full_clean()
        task.save()
    return task


def pairing_task_check(*, actor: Any, task: PairingTask, fields: dict[str, Any]) -> None:
    """Which fields the actor may change: the bureau of the task's county every one, a school of
    the pairing (who may change the task at all: the checkpoint's ``can_change``) only its
    progress; another field is refused beside it and nothing is written."""
    unknown = sorted(set(fields) - set(TASK_FIELDS))
    if unknown:
        raise ValidationError(
            {
                n: ValidationError(_("This field cannot be set here."), code=AllianceError.UNKNOWN_FIELD.value)
                for n in unknown
            }
        )
    if access.is_bureau_of_any(actor, _counties_of(task.pairing)):
        return
    changed = [n for n, v in fields.items() if n not in PROGRESS_FIELDS and getattr(task, n) != v]
    if fields.get("status", task.status) == PairingTask.Status.DROPPED and task.status != PairingTask.Status.DROPPED:
        # A dropped task leaves the "done on time" count: dropping is the bureau's decision.
        changed.append("status")
    if changed:
        raise ValidationError(
            {
                n: ValidationError(
                    _("The bureau sets this; a pairing's schools report the status, completion date and progress."),
                    code=AllianceError.NOT_SCHOOLS_TO_SET.value,
                )
                for n in sorted(changed)
            }
        )


def pairing_task_update(*, actor: Any, task: PairingTask, **fields: Any) -> PairingTask:
    with transaction.atomic():
        locked = (
            PairingTask.objects.select_for_update(of=("self",))
            .select_related("pairing__alliance__school_year", "pairing__programme")
            .get(pk=task.pk)
        )
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this task."))
        pairing_task_check(actor=actor, task=locked, fields=fields)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked


def pairing_task_delete(*, actor: Any, task: PairingTask) -> None:
    """The bureau and the alliance's lead principal take a task off a pairing's list
    (``access.can_delete_pairing_task``); a member school reports on its tasks but cannot make
    one disappear from its "done on time" figure."""
    with transaction.atomic():
        if not access.can_delete_pairing_task(actor, task):
            raise PermissionDenied(_("Only the bureau and the alliance's lead school may delete a pairing's task."))
        task.delete()
