"""The demo county's funding rows."""

from __future__ import annotations

from .core import Context


def load(ctx: Context) -> None:
    ctx.note("  funding: not wired yet, skipped")
