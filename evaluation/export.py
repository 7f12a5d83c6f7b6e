"""The award sheet (奖补明细): one row per school, the remainder, and the pool total."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import EvaluationPeriod, Grade, SchoolResult

BOM = "\ufeff"


def award_sheet_rows(period: EvaluationPeriod) -> list[list[Any]]:
    """Header, schools (published awards once published, else the preview), remainder, pool.
    The award column above the last row adds up to the pool to the fen."""
    results = list(
        SchoolResult.objects.filter(period=period).select_related("school", "alliance").order_by("school__code")
    )
    pool = None
    remainder = Decimal("0.00")
    for r in results:
        award = r.trace.get("award")
        if award:
            pool = Decimal(award["pool"])
            remainder = Decimal(award["pool_remainder"])
            break
    published = period.status == EvaluationPeriod.Status.PUBLISHED
    rows: list[list[Any]] = [
        [_("School code"), _("School"), _("Alliance"), _("Final score"), _("Grade"), _("Award (CNY)")]
    ]
    total = Decimal("0.00")
    for r in results:
        award = (r.award if published else r.award_preview) or Decimal("0.00")
        total += award
        rows.append(
            [
                r.school.code,
                r.school.name,
                r.alliance.name if r.alliance else "",
                r.final_score,
                Grade(r.grade).label,
                award,
            ]
        )
    if pool is None:
        pool = total
    rows.append(["", _("Not awarded (stays in the pool)"), "", "", "", remainder])
    rows.append(["", _("Pool total"), "", "", "", pool])
    if total + remainder != pool:
        raise ValidationError(_("The awards do not add up to the pool; recompute the period first."))
    return rows


def write_award_csv(period: EvaluationPeriod, out: IO[str]) -> None:
    """UTF-8 with a byte-order mark, so Excel opens it in Chinese."""
    out.write(BOM)
    writer = csv.writer(out)
    for row in award_sheet_rows(period):
        writer.writerow([str(c) for c in row])


def award_period(*, start_year: int, county: Any = None) -> EvaluationPeriod:
    periods = EvaluationPeriod.objects.filter(school_year__start_year=start_year, kind=EvaluationPeriod.Kind.YEAR)
    if county is not None:
        periods = periods.filter(county=county)
    found = list(periods.select_related("school_year", "county")[:2])
    if not found:
        raise ValidationError(
            _("There is no school-year evaluation period starting in %(year)s.") % {"year": start_year}
        )
    if len(found) > 1:
        raise ValidationError(_("Several counties have a %(year)s period; name the county.") % {"year": start_year})
    return found[0]
