"""Signals the lower apps send for the apps above them to act on, so imports go one way.

``exported``: data left the portal (an award sheet, a report). Sent with ``request`` (or
``None``), ``user`` (or ``None``: the request's user or the running command), ``model`` (a
model label), ``object_id`` and ``detail`` (a dict). The audit app records it
(``audit.signals``); it is sent with ``send``, not ``send_robust``, so a receiver that cannot
record stops the export: nothing leaves unrecorded."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

exported = Signal()


def export_done(
    *, request: Any = None, user: Any = None, model: str = "", object_id: Any = "", detail: dict | None = None
) -> None:
    """Announces an export (see ``exported``); raises if a receiver could not record it."""
    exported.send(sender=None, request=request, user=user, model=model, object_id=object_id, detail=detail)
