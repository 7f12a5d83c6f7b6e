"""Writes of the trail that no trigger sees: sign-ins, exports, refused access."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from . import context
from .models import AuditRecord


def record_event(
    action: str,
    *,
    request: Any = None,
    user: Any = None,
    model: str = "",
    object_id: Any = "",
    detail: dict | None = None,
) -> AuditRecord:
    """Records an event (``AuditRecord.Action``: login, login_failed, export, refused) as the
    request's user, or ``user``, or the running command or task; ``detail`` goes into
    ``after``. Raises if the record cannot be written: an export must not happen unrecorded."""
    ctx = context.for_request(request) if request is not None else context.current()
    if user is not None:
        ctx = {**ctx, **context.for_user(user, addr=ctx.get("addr"), source=ctx.get("source", ""))}
    return AuditRecord.objects.create(
        at=timezone.now(),
        action=action,
        model=model,
        object_id=str(object_id or "")[:64],
        after=detail or None,
        user_id=ctx.get("user_id"),
        username=ctx.get("username", ""),
        role=ctx.get("role", ""),
        county_id=ctx.get("county_id"),
        school_id=ctx.get("school_id"),
        client_addr=ctx.get("addr") or None,
        source=ctx.get("source", "")[:300],
        db_user="app",
    )
