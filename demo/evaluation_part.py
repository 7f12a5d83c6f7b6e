"""The demo county's evaluation rows."""

from __future__ import annotations

from .core import Context


def load(ctx: Context) -> None:
    ctx.note("  evaluation: not wired yet, skipped")
