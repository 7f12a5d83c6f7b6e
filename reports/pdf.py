"""The PDF documents: each school's award notice (奖补通知书) and the county's yearly summary
(年度汇总), laid out by WeasyPrint from ``templates/reports/pdf/``.

The figures are the other apps' own: a notice's score, grade and award are those of the school
year's latest publication as the funding ledger booked them (``evaluation.export``, the award
sheet's functions), the summary's charts are the portal's (``portal.charts.bars``, drawn as
inline SVG). Who may export what is the checkpoint's (``access.require_export_document``), and
every export is recorded in the audit trail before its bytes are handed out.

Text is set in Noto Sans CJK (Debian's ``fonts-noto-cjk``, found by fontconfig by its family name),
and nothing is fetched from anywhere: the fetcher refuses every URL that is not a local file or
inline data, and a refused URL stops the rendering rather than leaving a hole in the page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance import access
from alliance.formatting import yuan
from alliance.models import County, School, SchoolYear
from audit.services import record_event
from evaluation.export import _pool, _published_awards
from evaluation.models import EvaluationPeriod, Grade, Publication, SchoolResult, Subject
from funding.metrics import year_summary
from funding.models import FundingYear
from portal.charts import bars
from portal.summaries import Span, _plan_execution, _teacher_days_by_alliance
from staffing.models import Exchange
from staffing.querysets import clipped_span

from .capitals import capitals
from .registry import Params

ZERO = Decimal("0.00")
LOCAL_SCHEMES = ("file", "data")


def _fetcher() -> Any:
    """A WeasyPrint URL fetcher for local files and inline data only; any other URL is a fatal
    error (``FatalURLFetchingError``), so no PDF is ever made by reaching the network."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=LOCAL_SCHEMES, allow_redirects=False, fail_on_errors=True)


def render(html: str) -> bytes:
    """A PDF of an HTML page (the templates' own CSS inside it)."""
    from weasyprint import HTML

    return HTML(string=html, base_url="file:///nonexistent/", url_fetcher=_fetcher()).write_pdf()


def _year_period(county: Any, school_year: Any) -> EvaluationPeriod | None:
    """The county's school-year evaluation of schools (principals' and teachers' pay nothing)."""
    return EvaluationPeriod.objects.filter(
        county=county, school_year=school_year, kind=EvaluationPeriod.Kind.YEAR, subject=Subject.SCHOOL
    ).first()


def notices_published(county_id: int, school_year_id: int) -> bool:
    """Whether the year has award notices: its school-year evaluation is published."""
    return _latest_publication(_year_period(county_id, school_year_id)) is not None


def _resolve(params: Params) -> tuple[County, SchoolYear]:
    county = County.objects.get(pk=params.county_id)
    school_year = SchoolYear.objects.get(pk=params.school_year_id, county=county)
    return county, school_year


def _latest_publication(period: EvaluationPeriod | None) -> Publication | None:
    if period is None or period.status != EvaluationPeriod.Status.PUBLISHED:
        return None
    return period.publications.order_by("-revision").first()


# --- award notices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    school: School
    alliance: str
    final_score: Decimal
    grade: str
    award: Decimal

    @property
    def award_shown(self) -> str:
        return yuan(self.award)

    @property
    def award_capitals(self) -> str:
        return capitals(self.award)


def award_notices(user: Any, params: Params) -> tuple[EvaluationPeriod, Publication, list[Notice]]:
    """The notices of the county's published school-year evaluation: one per school the user
    may read (``params.school_id``: that school's only). Raises ``PermissionDenied`` (the
    checkpoint) or ``ValidationError`` (nothing published)."""
    access.require_export_document(user, "award_notices", params.county_id, params.school_id)
    county, school_year = _resolve(params)
    period = _year_period(county, school_year)
    publication = _latest_publication(period)
    if period is None or publication is None:
        raise ValidationError(
            _("The %(year)s evaluation of %(county)s is not published: there is no award notice yet.")
            % {"year": school_year, "county": county},
            code="not_published",
        )
    booked = _published_awards(publication)
    results = (
        SchoolResult.objects.filter(period=period).visible_to(user).select_related("school", "alliance")
    ).order_by("school__code")
    if params.school_id is not None:
        results = results.filter(school_id=params.school_id)
    notices = [
        Notice(
            school=r.school,
            alliance=r.alliance.name if r.alliance else "",
            final_score=r.final_score,
            grade=str(Grade(r.grade).label),
            award=booked.get(r.school_id, ZERO),
        )
        for r in results
    ]
    return period, publication, notices


def write_award_notices(user: Any, params: Params, out: IO[bytes], *, request: Any = None, record: bool = True) -> int:
    """One PDF, a page per school (``award_notices``), written to ``out`` once its export is
    recorded (``record=False``: the caller records it, as the auditor's package does for all
    its files at once). Returns the number of notices."""
    period, publication, notices = award_notices(user, params)
    pdf = render(
        render_to_string(
            "reports/pdf/award_notices.html",
            {
                "county": period.county,
                "period": period,
                "publication": publication,
                "notices": notices,
                "issued": timezone.localdate(),
            },
        )
    )
    if record:
        _record(user, request, "award_notices", period, params, schools=[n.school.code for n in notices])
    out.write(pdf)
    return len(notices)


# --- the county's yearly summary -----------------------------------------------------------------


def _exchanges_by_kind(user: Any, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Counted exchanges meeting the year, per kind: how many and their teacher-days (one query)."""
    rows = (
        Exchange.objects.visible_to(user)
        .counted()
        .overlapping(start, end)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"), span=Sum(clipped_span(start, end)))
    )
    labels = dict(Exchange.Kind.choices)
    found = [
        {"kind": str(labels.get(r["kind"], r["kind"])), "n": r["n"], "days": r["span"].days + r["n"]} for r in rows
    ]
    return sorted(found, key=lambda r: (-r["days"], r["kind"]))


def county_summary(user: Any, params: Params) -> dict[str, Any]:
    """The figures of the county's school year: quotas and the ledger's totals, plan execution
    per alliance, exchanges, results by grade and the awards (published, else the preview,
    said as such), each with its chart."""
    access.require_export_document(user, "county_summary", params.county_id)
    county, school_year = _resolve(params)
    span = Span(school_year, None, school_year.start_date, school_year.end_date)
    funding_year = FundingYear.objects.filter(county=county, school_year=school_year).first()
    money = year_summary(funding_year) if funding_year is not None and not funding_year.is_draft else None
    execution = _plan_execution(user, span)
    exchanges = _exchanges_by_kind(user, school_year.start_date, school_year.end_date)
    days = _teacher_days_by_alliance(user, span)

    period = _year_period(county, school_year)
    publication = _latest_publication(period)
    results = SchoolResult.objects.filter(period=period).visible_to(user) if period else SchoolResult.objects.none()
    by_grade = dict(results.order_by().values("grade").annotate(n=Count("pk")).values_list("grade", "n"))
    grades = [(str(label), by_grade.get(value, 0)) for value, label in Grade.choices]
    if publication is not None:
        award_of = _published_awards(publication)
    else:
        award_of = {s: a or ZERO for s, a in results.values_list("school_id", "award_preview")}
    by_alliance: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for school_id, alliance in results.values_list("school_id", "alliance__name"):
        by_alliance[alliance or _("(no alliance)")] += award_of.get(school_id, ZERO)
    award_total = sum(award_of.values(), ZERO)
    pool = _pool(period) if period is not None else None
    return {
        "county": county,
        "school_year": school_year,
        "funding_year": funding_year,
        "money": money,
        "execution": execution,
        "execution_chart": bars(((r["alliance"], r["rate"], f"{r['rate']}%") for r in execution), top=100),
        "exchanges": exchanges,
        "exchange_totals": {"n": sum(r["n"] for r in exchanges), "days": sum(r["days"] for r in exchanges)},
        "exchange_chart": bars((r["kind"], r["days"], str(r["days"])) for r in exchanges),
        "days_chart": bars((name, n, str(n)) for name, n in days),
        "period": period,
        "publication": publication,
        "grades": grades,
        "grade_chart": bars((label, n, str(n)) for label, n in grades),
        "schools_scored": sum(n for _label, n in grades),
        "award_total": award_total,
        "pool": pool,
        "remainder": (pool - award_total) if pool is not None else None,
        "award_chart": bars((name, total, yuan(total)) for name, total in sorted(by_alliance.items())),
    }


def write_county_summary(
    user: Any, params: Params, out: IO[bytes], *, request: Any = None, record: bool = True
) -> None:
    """The summary (``county_summary``) as a PDF written to ``out`` once its export is recorded
    (``record`` as for ``write_award_notices``)."""
    figures = county_summary(user, params)
    pdf = render(render_to_string("reports/pdf/county_summary.html", {**figures, "issued": timezone.localdate()}))
    if record:
        _record(user, request, "county_summary", figures["period"], params)
    out.write(pdf)


def _record(
    user: Any, request: Any, document: str, period: EvaluationPeriod | None, params: Params, **detail: Any
) -> None:
    record_event(
        "export",
        request=request,
        user=None if request is not None else _real(user),
        model="evaluation.evaluationperiod" if period is not None else "alliance.schoolyear",
        object_id=period.pk if period is not None else params.school_year_id,
        detail={
            "report": document,
            "format": "pdf",
            "county": params.county_id,
            "school_year": params.school_year_id,
            "school": params.school_id,
            **detail,
        },
    )


def _real(user: Any) -> Any:
    """The user to record: a saved one, else none (the command's own context says who ran it)."""
    return user if getattr(user, "pk", None) is not None else None
