"""Loads the demo counties: the Hengnan county's foundation first, then each later part (the
Hengnan county's staffing, funding and evaluation, then the further counties: a Baihe-shaped
county of seed 003, a Hetang-like district of seed 004, a Tianxin-like district of seed 001).

A part whose app or service is not in the tree yet is skipped with a note, so the command
works on every state of the tree. Everything runs in one transaction: a failure loads nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from .core import Context, load_core


def _parts() -> list[tuple[str, Callable[[Context], None]]]:
    from . import (
        baihe_part,
        evaluation_part,
        funding_part,
        hetang_part,
        people_part,
        programme_part,
        staffing_part,
        tianxin_part,
    )

    return [
        ("staffing", staffing_part.load),
        ("funding", funding_part.load),
        ("evaluation", evaluation_part.load),
        ("baihe", baihe_part.load),
        ("hetang", hetang_part.load),
        ("tianxin", tianxin_part.load),
        ("programme", programme_part.load),  # the cross-county programme (seed 002)
        ("people", people_part.load),
    ]


def load(write: Callable[[str], None]) -> Context:
    ctx = Context(write=write)
    with transaction.atomic():
        load_core(ctx)
        for _name, part in _parts():
            part(ctx)
    return ctx
