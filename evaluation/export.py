"""The award sheet (奖补明细): one row per school, the remainder, and the pool total.

Who exports it is the access checkpoint's to say (``access.require_export``), and the sheet
holds the result rows that user may read. Once the period is published the awards are those
of its latest publication as booked in the funding ledger, and the pool is what the ledger
allocated to the county's pool; before that the sheet is the preview of the last computation,
and its first row says so, with the time the results were computed."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import access
from funding.models import Account, LedgerLine

from .models import EvaluationPeriod, Grade, Publication, SchoolResult, Subject

BOM = "\ufeff"
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def _pool(period: EvaluationPeriod) -> Decimal | None:
    """The period's part of what the ledger allocated to the county's pool for its school year,
    as its award policy names the periods that pay (``None``: no funding year)."""
    from .services.policies import period_pool_of

    figures = period_pool_of(period)
    return None if figures is None else figures.period_pool


def _published_awards(publication: Publication) -> dict[int, Decimal]:
    """School → award of a publication, as its ledger entry booked them (zero awards are not
    booked); checked against the publication's own record of them."""
    recorded = {int(s): Decimal(a) for s, a in publication.awards.items() if Decimal(a)}
    if publication.ledger_entry_id is None:
        booked = {}
    else:
        booked = dict(
            LedgerLine.objects.filter(
                entry_id=publication.ledger_entry_id, account__kind=Account.Kind.AWARDS_PAID
            ).values_list("account__school_id", "amount")
        )
    if booked != recorded:
        raise ValidationError(
            _("The ledger entry of %(publication)s does not match its awards.") % {"publication": publication}
        )
    return booked


def preview_marker(period: EvaluationPeriod) -> str:
    if period.computed_at is None:
        return _("Preview (not published): the results have not been computed yet.")
    return _("Preview (not published): results computed at %(time)s.") % {
        "time": timezone.localtime(period.computed_at).strftime("%Y-%m-%d %H:%M")
    }


@dataclass(frozen=True)
class AwardSheet:
    """The figures of a period's award sheet: the results the user may read (by school code),
    each school's award (as published, else the preview), and the pool with its remainder."""

    period: EvaluationPeriod
    results: list[SchoolResult]
    publication: Publication | None
    award_of: dict[int, Decimal]
    pool: Decimal
    remainder: Decimal


def award_sheet(period: EvaluationPeriod, *, user: Any) -> AwardSheet:
    """The award sheet's figures (``award_sheet_rows`` and the reports' award sheet). The awards
    add up to the pool less the remainder, to the fen."""
    access.require_export(user, "award_sheet", period.county_id)
    results = list(
        SchoolResult.objects.filter(period=period)
        .visible_to(user)
        .select_related("school", "alliance")
        .order_by("school__code")
    )
    publication = None
    if period.status == EvaluationPeriod.Status.PUBLISHED:
        publication = period.publications.order_by("-revision").first()
    if publication is None:
        award_of = {r.school_id: r.award_preview or ZERO for r in results}
    else:
        booked = _published_awards(publication)
        award_of = {r.school_id: booked.get(r.school_id, ZERO) for r in results}
    total = sum(award_of.values(), ZERO)
    pool = _pool(period)
    if pool is None:
        pool = total
    remainder = pool - total
    if remainder < 0:
        raise ValidationError(_("The awards do not add up to the pool; recompute the period first."))
    return AwardSheet(period, results, publication, award_of, pool, remainder)


def award_sheet_rows(period: EvaluationPeriod, *, user: Any) -> list[list[Any]]:
    """The preview marker (before publication), header, schools, remainder, pool. The award
    column above the last row adds up to the pool to the fen."""
    sheet = award_sheet(period, user=user)
    rows: list[list[Any]] = []
    if sheet.publication is None:
        rows.append([preview_marker(period)])
    rows.append([_("School code"), _("School"), _("Alliance"), _("Final score"), _("Grade"), _("Award (CNY)")])
    for r in sheet.results:
        rows.append(
            [
                r.school.code,
                r.school.name,
                r.alliance.name if r.alliance else "",
                r.final_score,
                Grade(r.grade).label,
                sheet.award_of[r.school_id],
            ]
        )
    rows.append(["", _("Not awarded (stays in the pool)"), "", "", "", sheet.remainder])
    rows.append(["", _("Pool total"), "", "", "", sheet.pool])
    return rows


def write_award_csv(period: EvaluationPeriod, out: IO[str], *, user: Any) -> None:
    """UTF-8 with a byte-order mark, so Excel opens it in Chinese."""
    out.write(BOM)
    writer = csv.writer(out)
    for row in award_sheet_rows(period, user=user):
        writer.writerow([str(c) for c in row])


def award_csv_name(period: EvaluationPeriod) -> str:
    if period.kind == EvaluationPeriod.Kind.TERM and period.term_id:
        return f"awards-{period.school_year.start_year}-term-{period.term_id}.csv"
    return f"awards-{period.school_year.start_year}.csv"


def award_sheets_zip(periods: Iterable[EvaluationPeriod], *, user: Any) -> bytes:
    """One award sheet per period, in a ZIP (every sheet checked before any is written)."""
    sheets = []
    for period in periods:
        buffer = io.StringIO()
        write_award_csv(period, buffer, user=user)
        sheets.append((f"{period.county.code}-{award_csv_name(period)}", buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sheets:
            archive.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def award_period(*, start_year: int, county: Any = None) -> EvaluationPeriod:
    periods = EvaluationPeriod.objects.filter(
        school_year__start_year=start_year, kind=EvaluationPeriod.Kind.YEAR, subject=Subject.SCHOOL
    )
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
