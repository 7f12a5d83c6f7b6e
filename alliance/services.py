"""Writes of the alliance app with a rule beyond one row: the pairings' task lists (任务清单).

The task list is the bureau's: it creates the tasks, names their titles, due dates and
responsible persons. The schools of a pairing — the helper and the helped school, and the lead
school of the pairing's alliance — report on them: status, completion date and progress notes
(the evidence of the work), and nothing else (a school that moved a due date would move its
own "done on time" indicator). Other rows of this app (schools, years, alliances, memberships,
pairings) have no rule beyond their model's and are written by their serializer's ``save()``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import access
from .models import Membership, Pairing, PairingTask


class AllianceError(StrEnum):
    NOT_SCHOOLS_TO_SET = "bureau_sets_this"  # a school set a field of the bureau's task list
    UNKNOWN_FIELD = "unknown_field"
    NOT_ONE_LEAD = "not_one_lead"


TASK_FIELDS = ("pairing", "title", "due_date", "responsible_person", "status", "completed_on", "progress_notes")
# What a pairing's schools report on a task.
PROGRESS_FIELDS = ("status", "completed_on", "progress_notes")


def alliance_members_check(*, roles: list[str]) -> None:
    """An alliance's whole composition, as the bureau sets it at once (the admin's membership
    rows): exactly one lead school. A single membership row can only say "at most one lead"
    (``Membership.clean`` and the database), since the API writes memberships one by one."""
    if roles and sum(role == Membership.Role.LEAD for role in roles) != 1:
        raise ValidationError(_("An alliance has exactly one lead school."), code=AllianceError.NOT_ONE_LEAD.value)


def _county_of(pairing: Pairing) -> int:
    return pairing.alliance.school_year.county_id


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
) -> PairingTask:
    """A task of a pairing's list: the bureau's."""
    with transaction.atomic():
        access.require_bureau_of(actor, _county_of(pairing), _("The bureau draws up a pairing's task list."))
        task = PairingTask(
            pairing=pairing,
            title=title,
            due_date=due_date,
            responsible_person=responsible_person,
            status=status,
            completed_on=completed_on,
            progress_notes=progress_notes,
        )
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
    if access.is_bureau_of(actor, _county_of(task.pairing)):
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
            PairingTask.objects.select_for_update().select_related("pairing__alliance__school_year").get(pk=task.pk)
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
