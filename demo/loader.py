"""Loads the demo county: the foundation first, then each later app's part if it exists yet.

A part whose app or service is not in the tree yet is skipped with a note, so the command
works on every state of the tree. Everything runs in one transaction: a failure loads nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from .core import Context, load_core


def _parts() -> list[tuple[str, Callable[[Context], None]]]:
    from . import evaluation_part, funding_part, people_part, programme_part, staffing_part

    return [
        ("staffing", staffing_part.load),
        ("funding", funding_part.load),
        ("evaluation", evaluation_part.load),
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
