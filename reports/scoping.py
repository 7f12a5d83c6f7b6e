"""What every report does first: ask the checkpoint (``access.require_report``) and turn the
parameters into the span of days and the schools the rows are filtered by."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from alliance import access
from alliance.models import Membership, SchoolYear, Term

from .registry import Params

# Report code → how many rows it will write, where that is one cheap COUNT (the long export's
# progress bar); a report without one shows rows written only.
COUNTS: dict[str, Callable[[Any, Params], int]] = {}


def checked(user: Any, code: str, params: Params) -> Params:
    """The parameters as the checkpoint allows them: 404 for a county, school year, term,
    alliance or school out of the user's reach (or not of that county), 403 for a role that may
    not run the report; a principal's school is forced to its own."""
    school_id = access.require_report(
        user, code, county_id=params.county_id, school_id=params.school_id, alliance_id=params.alliance_id
    )
    if not SchoolYear.objects.filter(pk=params.school_year_id, county_id=params.county_id).exists():
        raise Http404
    if (
        params.term_id is not None
        and not Term.objects.filter(pk=params.term_id, school_year_id=params.school_year_id).exists()
    ):
        raise Http404
    return dataclasses.replace(params, school_id=school_id)


def span(params: Params) -> tuple[dt.date, dt.date]:
    """The days the report covers: the term's, else the school year's."""
    if params.term_id is not None:
        term = Term.objects.get(pk=params.term_id)
        return term.start_date, term.end_date
    year = SchoolYear.objects.get(pk=params.school_year_id)
    return year.start_date, year.end_date


def school_ids(params: Params) -> list[int] | QuerySet | None:
    """The schools the rows are narrowed to (the school, else the alliance's), ``None`` for every
    school the user may read."""
    if params.school_id is not None:
        return [params.school_id]
    if params.alliance_id is not None:
        return Membership.objects.filter(alliance_id=params.alliance_id).values("school_id")
    return None


def any_school(schools: list[int] | QuerySet, *paths: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{path}__in": schools})
    return q


def labels(choices: Any) -> dict[Any, str]:
    """A choice's value → its words in the current language (read once per report)."""
    return {value: str(label) for value, label in choices}
