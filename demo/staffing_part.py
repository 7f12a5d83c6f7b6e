"""The demo county's staffing rows."""

from __future__ import annotations

from .core import Context


def load(ctx: Context) -> None:
    ctx.note("  staffing: not wired yet, skipped")
