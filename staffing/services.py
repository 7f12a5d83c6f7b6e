"""Writes of the staffing app that span rows: exchanges with their host schools and the
status workflow planned → approved → active → completed / cancelled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance import access
from alliance.models import Membership, School, SchoolYear

from .models import Exchange, ExchangeHost, Teacher


class ExchangeError(StrEnum):
    """Codes of the ValidationErrors raised here (``ValidationError.code``)."""

    HOST_COUNT = "host_count"
    HOST_INACTIVE = "host_inactive"
    HOST_OTHER_COUNTY = "host_other_county"
    HOST_IS_ORIGIN = "host_is_origin"
    BAD_TRANSITION = "bad_transition"
    CLOSED = "closed"
    REASON_REQUIRED = "reason_required"


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


def exchange_hosts_check(*, kind: str, origin_school: School | None, host_schools: Iterable[School]) -> None:
    """The rules on host schools, for the service, the API and the admin's inline alike."""
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
        if origin_school is not None and school.county_id != origin_school.county_id:
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
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in sorted(unknown)})
    with transaction.atomic():
        locked = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this exchange."))
        if locked.status in (S.COMPLETED, S.CANCELLED):
            raise ValidationError(
                _("A completed or cancelled exchange can no longer be changed."), code=ExchangeError.CLOSED.value
            )
        for name, value in fields.items():
            setattr(locked, name, value)
        _check_actor_may_write(actor, locked)
        Teacher.objects.select_for_update().filter(pk=locked.teacher_id).first()
        hosts = list(host_schools) if host_schools is not None else list(locked.host_schools.all())
        _save(locked, hosts)
    return locked


def _transition(*, actor: Any, exchange: Exchange, to: str, **changes: Any) -> Exchange:
    with transaction.atomic():
        locked = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if not access.can_change(actor, locked):
            raise PermissionDenied(_("You may not change this exchange."))
        if to not in TRANSITIONS[locked.status]:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("An exchange that is %(current)s cannot become %(target)s."),
                        code=ExchangeError.BAD_TRANSITION.value,
                        params={"current": locked.get_status_display(), "target": S(to).label},
                    )
                }
            )
        locked.status = to
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", *changes])
    return locked


def exchange_approve(*, actor: Any, exchange: Exchange) -> Exchange:
    """Bureau staff approve a planned exchange of their county."""
    access.require_bureau_of(actor, exchange.origin_school.county_id, _("Only bureau staff approve exchanges."))
    return _transition(actor=actor, exchange=exchange, to=S.APPROVED, approved_by=actor, approved_at=timezone.now())


def exchange_start(*, actor: Any, exchange: Exchange) -> Exchange:
    return _transition(actor=actor, exchange=exchange, to=S.ACTIVE)


def exchange_complete(*, actor: Any, exchange: Exchange) -> Exchange:
    return _transition(actor=actor, exchange=exchange, to=S.COMPLETED)


def exchange_cancel(*, actor: Any, exchange: Exchange, reason: str) -> Exchange:
    if not (reason or "").strip():
        raise ValidationError(
            {"reason": ValidationError(_("Give a reason for cancelling."), code=ExchangeError.REASON_REQUIRED.value)}
        )
    return _transition(actor=actor, exchange=exchange, to=S.CANCELLED, cancel_reason=reason.strip())


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
