"""What the portal's pages show, read through the access checkpoint (``visible_to``).

Each function takes the user and returns plain data for one page; the number of queries it
makes does not grow with the rows (related rows come by ``select_related`` or
``prefetch_related``, figures by one aggregate each).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from alliance import access, compiled
from alliance import services as alliance_services
from alliance.formatting import yuan
from alliance.models import Alliance, Membership, Pairing, PairingTask, Programme, School, SchoolYear, Term
from evaluation import compute as evaluation_compute
from evaluation.models import (
    AllianceResult,
    Appeal,
    EvaluationPeriod,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    PersonResult,
    Rubric,
    SchoolResult,
)
from funding.models import Category, PlanLine, SpendingPlan, SpendingRecord
from staffing.models import Activity, ActivityAttachment, Exchange, ExchangeHost, MentorMeeting, MentorPair
from staffing.querysets import CLOSED_EXCHANGE_STATUSES

from .charts import bars
from .templatetags.portal_format import choice_labels

ZERO = Decimal("0.00")
OPEN_TASKS = (PairingTask.Status.PLANNED, PairingTask.Status.IN_PROGRESS)
CLOSED_EXCHANGES = CLOSED_EXCHANGE_STATUSES


@dataclass(frozen=True)
class Span:
    """The stretch of time a home page is about: this term, else this school year."""

    school_year: SchoolYear | None
    term: Term | None
    start: dt.date | None
    end: dt.date | None


def _latest_years(user: Any, today: Any):
    return SchoolYear.objects.visible_to(user).filter(start_date__lte=today).order_by("-start_date")


@compiled.query(today=dt.date)
def _span_term(user: Any, today: Any):
    """The term begun last by ``today``, its school year, and the latest begun school year's id
    beside it (one statement in the usual case)."""
    return (
        Term.objects.visible_to(user)
        .filter(start_date__lte=today)
        .annotate(latest_year_id=Subquery(_latest_years(user, today).values("pk")[:1]))
        .order_by("-start_date")
        .values(*compiled.columns(Term), *compiled.columns(SchoolYear, "school_year__"), "latest_year_id")[:1]
    )


def current_span(user: Any, today: dt.date | None = None) -> Span:
    """The term containing today (else the last one begun) of the user's county, else the
    school year; read from the county-wide rows the user sees."""
    today = today or timezone.localdate()
    found = _span_term(user, today=today)
    if found and found[0]["latest_year_id"] in (None, found[0]["school_year_id"]):
        term = compiled.instance(Term, found[0])
        term.school_year = compiled.instance(SchoolYear, found[0], "school_year__")
        return Span(term.school_year, term, term.start_date, term.end_date)
    year = _latest_years(user, today).first()
    if year is not None:
        return Span(year, None, year.start_date, year.end_date)
    return Span(None, None, None, None)


def _within(qs, span: Span, start: str = "start_date", end: str = "end_date"):
    return _within_dates(qs, span.start, span.end, start, end)


def _within_dates(qs, start: Any, end: Any, start_name: str = "start_date", end_name: str = "end_date"):
    """The rows whose [start_name, end_name] meets [start, end] (None: no span, every row); a
    compiled query passes the dates themselves."""
    if start is None:
        return qs
    return qs.filter(**{f"{start_name}__lte": end, f"{end_name}__gte": start})


def _hosts_prefetch(user: Any) -> Prefetch:
    return Prefetch(
        "hosts", queryset=ExchangeHost.objects.visible_to(user).select_related("school"), to_attr="shown_hosts"
    )


def _exchanges_of(user: Any, school: School, *, hosted: bool = False):
    """The exchanges the school sends out, newest first; with ``hosted``, in the same statement,
    also those it hosts, each marked ``is_hosted``."""
    exchanges = Exchange.objects.visible_to(user)
    if hosted:
        hosts = ExchangeHost.objects.filter(school=school)
        exchanges = exchanges.filter(Q(origin_school=school) | Q(pk__in=hosts.values("exchange_id"))).annotate(
            is_hosted=Exists(hosts.filter(exchange=OuterRef("pk")))
        )
    else:
        exchanges = exchanges.filter(origin_school=school)
    return exchanges.order_by("-start_date", "-pk")


def school_exchanges(user: Any, school: School, *, hosted: bool = False):
    """``_exchanges_of`` with the teacher, the origin school and the host schools."""
    return (
        _exchanges_of(user, school, hosted=hosted)
        .select_related("teacher", "origin_school")
        .prefetch_related(_hosts_prefetch(user))
    )


def money_by_category(lines) -> list[dict[str, Any]]:
    """Planned against spent per category, from plan lines' ``(category, amount, spent)``
    (``spent`` as ``with_spent`` annotates it)."""
    planned: dict[str, Decimal] = defaultdict(lambda: ZERO)
    spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for category, amount, line_spent in lines:
        planned[category] += amount
        spent[category] += line_spent
    rows = []
    for value, label in Category.choices:
        if value in planned:
            rows.append({"category": label, "planned": planned[value], "spent": spent[value]})
    return rows


def _results(user: Any, school: School):
    """The school's results of proposed or published periods, newest period first."""
    return (
        SchoolResult.objects.visible_to(user)
        .filter(school=school, period__status__in=(EvaluationPeriod.Status.PROPOSED, EvaluationPeriod.Status.PUBLISHED))
        .select_related("period__school_year", "period__term")
        .order_by("-period__end_date", "-pk")
    )


def latest_result(user: Any, school: School) -> SchoolResult | None:
    return _results(user, school).first()


def _proposed_since(since: dt.datetime) -> Q:
    return Q(period__status=EvaluationPeriod.Status.PROPOSED, period__proposed_at__gte=since)


_PERIOD_PARTS = ((SchoolYear, "school_year__"), (Term, "term__"))


def _period_columns(prefix: str = "") -> tuple[str, ...]:
    """The names to read a whole period row with, with its school year and term, through a
    relation ``prefix`` (``"period__"``)."""
    return (
        *compiled.columns(EvaluationPeriod, prefix),
        *(name for model, part in _PERIOD_PARTS for name in compiled.columns(model, prefix + part)),
    )


def _period_of(row: dict[str, Any], prefix: str = "") -> EvaluationPeriod:
    """The period of a row read with ``_period_columns(prefix)``, its school year and term set
    (its name is theirs)."""
    period = compiled.instance(EvaluationPeriod, row, prefix)
    period.school_year = compiled.instance(SchoolYear, row, prefix + "school_year__")
    if period.term_id is not None:
        period.term = compiled.instance(Term, row, prefix + "term__")
        if period.term.school_year_id == period.school_year_id:  # (as the period's checks keep it)
            period.term.school_year = period.school_year
    return period


# A result as the home shows it: its own figures, its period, and the period's term and school
# year (the period's name is theirs).
_RESULT_FIELDS = ("id", "period_id", "school_id", "final_score", "grade")
_RESULT_COLUMNS = (*_RESULT_FIELDS, *_period_columns("period__"))


@compiled.query(school=int, since=dt.datetime)
def _latest_and_proposed_rows(user: Any, school: Any, since: Any):
    results = _results(user, school)
    new = _proposed_since(since)
    return (
        results.filter(new | Q(pk__in=results.values("pk")[:1]))
        .annotate(is_new=ExpressionWrapper(new, output_field=BooleanField()))
        .values(*_RESULT_COLUMNS, "is_new")
    )


def _result_of_row(row: dict[str, Any]) -> SchoolResult:
    result = compiled.instance(SchoolResult, row, fields=_RESULT_FIELDS)
    result.period = _period_of(row, "period__")
    result.is_new = row["is_new"]
    return result


def latest_and_proposed(user: Any, school: School, since: dt.datetime) -> tuple[SchoolResult | None, list]:
    """In one statement: the school's latest result (``latest_result``) and its results proposed
    since ``since`` (the notices' ``proposed``), the latest first (at most five); each with its
    period, the period's term and school year."""
    rows = [_result_of_row(row) for row in _latest_and_proposed_rows(user, school=school.pk, since=since)]
    proposed = [r for r in rows if r.is_new]  # type: ignore[attr-defined]
    proposed.sort(key=lambda r: cast(dt.datetime, r.period.proposed_at), reverse=True)  # (proposed since ``since``)
    return (rows[0] if rows else None), proposed[:NOTICES_PER_KIND]


def _labelled(rows, model: type, *names: str) -> list[dict[str, Any]]:
    """Rows read as values, each choice field's label beside it (``<name>_label``, what
    ``get_<name>_display()`` shows)."""
    labels = [(name, f"{name}_label", choice_labels(model, name)) for name in names]
    rows = list(rows)
    for row in rows:
        for name, key, shown in labels:
            value = row[name]
            row[key] = shown.get(value, value)
    return rows


# The principal's home, one compiled query (``alliance.compiled``) per list: the same SQL for
# every principal of a kind, built and compiled once per process. The lists are read as values
# in the order the page shows them, written on the row's own columns (or one hop away): the
# models' default orderings reach through related models' orderings, which costs PostgreSQL more
# to plan than the rows.


@compiled.query(school=int, school_year=int)
def _home_alliances(user: Any, school: Any, school_year: Any):
    """Each alliance of the school (of the school year) with the school's role in it (a school
    is in an alliance once), where the user may read that membership."""
    own_role = (
        Membership.objects.visible_to(user).filter(alliance=OuterRef("pk"), school=school).order_by().values("role")[:1]
    )
    alliances = (
        Alliance.objects.visible_to(user)
        .filter(memberships__school=school)
        .annotate(own_role=Subquery(own_role))
        .order_by("-school_year__start_year", "name")
    )
    if school_year is not None:
        alliances = alliances.filter(school_year=school_year)
    return alliances.values("name", "kind", "own_role")


@compiled.query(school=int)
def _home_pairings(user: Any, school: Any):
    # in Pairing's own ordering, already on its columns (and the schools' codes)
    return (
        Pairing.objects.visible_to(user)
        .filter(Q(helper_school=school) | Q(helped_school=school))
        .values("helper_school__name", "helped_school__name", "start_date")
    )


@compiled.query(school=int)
def _home_tasks(user: Any, school: Any):
    return (
        PairingTask.objects.visible_to(user)
        .filter(Q(pairing__helper_school=school) | Q(pairing__helped_school=school), status__in=OPEN_TASKS)
        .order_by("due_date", "pk")
        .values("title", "status", "due_date", "responsible_person")[:20]
    )


@compiled.query(school=int, start=dt.date, end=dt.date)
def _home_exchanges(user: Any, school: Any, start: Any, end: Any):
    """The exchanges out and in as one statement (split by the caller); newest first."""
    return _within_dates(_exchanges_of(user, school, hosted=True), start, end).values(
        "pk",
        "origin_school_id",
        "origin_school__name",
        "teacher__name",
        "kind",
        "status",
        "start_date",
        "end_date",
        "is_hosted",
    )


@compiled.query(school=int, start=dt.date, end=dt.date)
def _home_hosts(user: Any, school: Any, start: Any, end: Any):
    """The hosts of the exchanges out (the page names them), in school code order."""
    out = _within_dates(_exchanges_of(user, school), start, end)
    return (
        ExchangeHost.objects.visible_to(user)
        .filter(exchange__in=out.values("pk"))
        .order_by("school__code", "pk")
        .values_list("exchange_id", "school__name")
    )


@compiled.query(school=int, start=dt.date, end=dt.date)
def _home_mentors(user: Any, school: Any, start: Any, end: Any):
    mentors = (
        MentorPair.objects.visible_to(user)
        # A subquery of the school's pairs, not an OR over two joins (planned as a nested loop
        # over every pair of the county on the demo).
        .filter(pk__in=MentorPair.objects.filter(Q(mentor__school=school) | Q(mentee__school=school)).values("pk"))
        .order_by("-start_date", "pk")
    )
    if start is not None:
        mentors = mentors.filter(Q(end_date__isnull=True) | Q(end_date__gte=start), start_date__lte=end)
    return mentors.values("mentor__name", "mentor__school__name", "mentee__name", "mentee__school__name")


@compiled.query(school=int)
def _home_activities(user: Any, school: Any):
    return (
        Activity.objects.visible_to(user)
        .filter(pk__in=Activity.objects.filter(Q(host_school=school) | Q(schools=school)).values("pk"))
        .order_by("-date", "-pk")
        .values("title", "kind", "date", "host_school__name")[:10]
    )


@compiled.query(school=int, school_year=int)
def _home_money(user: Any, school: Any, school_year: Any):
    """The approved plan's lines for the school as ``(category, amount, spent)``, unordered (they
    are summed)."""
    lines = PlanLine.objects.visible_to(user).current().filter(school=school).with_spent()
    if school_year is not None:
        lines = lines.filter(plan__funding_year__school_year=school_year)
    return lines.order_by().values_list("category", "amount", "spent")


def school_home(user: Any, school: School) -> dict[str, Any]:
    """A principal's home: the school's alliances and pairings, open tasks, this term's
    exchanges in and out, mentoring pairs, recent activities, money and the latest result."""
    span = current_span(user)
    year = span.school_year.pk if span.school_year is not None else None
    roles = choice_labels(Membership, "role")
    alliance_rows = _labelled(_home_alliances(user, school=school.pk, school_year=year), Alliance, "kind")
    for row in alliance_rows:
        row["role_label"] = roles.get(row["own_role"]) if row["own_role"] else None
    dates = {"school": school.pk, "start": span.start, "end": span.end}
    exchanges = _labelled(_home_exchanges(user, **dates), Exchange, "kind", "status")
    exchanges_out = [e for e in exchanges if e["origin_school_id"] == school.pk]
    hosts: dict[int, list[str]] = defaultdict(list)
    if exchanges_out:
        for exchange_id, name in _home_hosts(user, **dates):
            hosts[exchange_id].append(name)
    for e in exchanges_out:
        e["hosts"] = hosts[e["pk"]]
    money = money_by_category(_home_money(user, school=school.pk, school_year=year))
    now = timezone.now()
    result, proposed = latest_and_proposed(user, school, now - dt.timedelta(days=NOTICE_DAYS))
    return {
        "span": span,
        "alliances": alliance_rows,
        "pairings": _home_pairings(user, school=school.pk),
        "tasks": _labelled(_home_tasks(user, school=school.pk), PairingTask, "status"),
        "exchanges_out": exchanges_out,
        "exchanges_in": [e for e in exchanges if e["is_hosted"]],
        "mentors": _home_mentors(user, **dates),
        "activities": _labelled(_home_activities(user, school=school.pk), Activity, "kind"),
        "money": money,
        "money_planned": sum((r["planned"] for r in money), ZERO),
        "money_spent": sum((r["spent"] for r in money), ZERO),
        "result": result,
        "notices": school_notices(user, school, now=now, proposed=proposed),
    }


NOTICE_DAYS = 30
NOTICES_PER_KIND = 5


@dataclass(frozen=True)
class Notice:
    when: dt.datetime
    text: str
    url: str


def _notice_rows(qs, when: str, *, kind: str, ref: str, name: str, detail: Any = None, day: Any = None):
    """One kind of notice as plain rows of one shape, so that the kinds read as one statement
    (``UNION ALL``): the kind, when it happened, the row it links to, a name and a detail."""
    return qs.values(
        n_kind=Value(kind, output_field=CharField()),
        n_when=F(when),
        n_ref=F(ref),
        n_name=F(name),
        n_detail=F(detail) if detail else Value("", output_field=CharField()),
        n_day=F(day) if day else Value(None, output_field=DateField()),
    ).order_by(f"-{when}")[:NOTICES_PER_KIND]


@compiled.query(school=int, since=dt.datetime)
def _notice_union(user: Any, school: Any, since: Any):
    """The exchanges approved, the plans returned and the appeals answered since ``since``, as
    rows of one shape (``_notice_rows``) in one statement."""
    exchanges = _notice_rows(
        Exchange.objects.visible_to(user).filter(origin_school=school, approved_at__gte=since),
        "approved_at",
        kind="exchange",
        ref="pk",
        name="teacher__name",
        day="start_date",
    )
    plans = _notice_rows(
        SpendingPlan.objects.visible_to(user).filter(
            status=SpendingPlan.Status.RETURNED,
            decided_at__gte=since,
            alliance__in=Membership.objects.filter(school=school, role=Membership.Role.LEAD).values("alliance_id"),
        ),
        "decided_at",
        kind="plan",
        ref="alliance_id",
        name="alliance__name",
        detail="return_reason",
    )
    appeals = _notice_rows(
        Appeal.objects.visible_to(user).filter(school=school, decided_at__gte=since).exclude(status=Appeal.Status.OPEN),
        "decided_at",
        kind="appeal",
        ref="pk",
        name="indicator__name",
        detail="status",
    )
    return exchanges.union(plans, appeals, all=True)


def school_notices(user: Any, school: School, *, now: dt.datetime, proposed: list[SchoolResult]) -> list[Notice]:
    """What happened to the school's rows in the last 30 days, newest first, read from the rows'
    own timestamps: an exchange approved, a plan of an alliance it leads returned, a result
    proposed, an appeal answered (at most five of each). The exchanges, plans and appeals are
    one statement (their rows as values); the results proposed are the caller's
    (``latest_and_proposed``'s, read with the same ``now``)."""
    since = now - dt.timedelta(days=NOTICE_DAYS)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _notice_union(user, school=school.pk, since=since):
        by_kind[row["n_kind"]].append(row)
    notices: list[Notice] = []
    for row in sorted(by_kind["exchange"], key=lambda r: r["n_when"], reverse=True):
        text = _("The exchange of %(teacher)s (%(start)s) was approved.") % {
            "teacher": row["n_name"],
            "start": date_format(row["n_day"]),
        }
        notices.append(Notice(row["n_when"], text, reverse("portal:exchanges")))
    for row in sorted(by_kind["plan"], key=lambda r: r["n_when"], reverse=True):
        text = _("The spending plan of %(alliance)s was returned: %(reason)s") % {
            "alliance": row["n_name"],
            "reason": row["n_detail"],
        }
        notices.append(Notice(row["n_when"], text, reverse("portal:plan", args=[row["n_ref"]])))
    for r in proposed:
        assert r.period.proposed_at is not None
        ends = r.period.notice_ends_at
        text = _("The result of %(period)s was proposed; the public notice runs until %(end)s.") % {
            "period": r.period,
            "end": date_format(timezone.localtime(ends)) if ends else "—",
        }
        notices.append(Notice(r.period.proposed_at, text, reverse("portal:result-detail", args=[r.pk])))
    for row in sorted(by_kind["appeal"], key=lambda r: r["n_when"], reverse=True):
        text = _("The appeal on %(indicator)s was answered: %(status)s.") % {
            "indicator": row["n_name"],
            "status": Appeal.Status(row["n_detail"]).label,
        }
        notices.append(Notice(row["n_when"], text, reverse("portal:result")))
    return sorted(notices, key=lambda n: n.when, reverse=True)


# --- the school's pairing tasks, mentoring meetings and activities ---------------------------


def school_task_ids(school: School):
    """The tasks of the school's pairings and of the pairings of the alliances it leads (a
    subquery; the caller narrows it through the checkpoint)."""
    return PairingTask.objects.filter(
        Q(pairing__helper_school=school)
        | Q(pairing__helped_school=school)
        | Q(
            pairing__alliance__in=Membership.objects.filter(school=school, role=Membership.Role.LEAD).values(
                "alliance_id"
            )
        )
    ).values("pk")


def school_tasks(user: Any, school: School) -> list[PairingTask]:
    """Open tasks first by due date, then the finished ones (the latest 50)."""
    qs = (
        PairingTask.objects.visible_to(user)
        .filter(pk__in=school_task_ids(school))
        .select_related("pairing__alliance", "pairing__helper_school", "pairing__helped_school")
    )
    open_tasks = list(qs.filter(status__in=OPEN_TASKS).order_by("due_date", "pk")[:100])
    closed = list(qs.exclude(status__in=OPEN_TASKS).order_by("-due_date", "-pk")[:50])
    return open_tasks + closed


def school_pair_ids(school: School):
    return MentorPair.objects.filter(Q(mentor__school=school) | Q(mentee__school=school)).values("pk")


def school_meetings(user: Any, school: School) -> list[MentorMeeting]:
    """The latest 50 meetings of the school's mentoring pairs."""
    return list(
        MentorMeeting.objects.visible_to(user)
        .filter(pair__in=school_pair_ids(school))
        .select_related("pair__mentor", "pair__mentee")
        .order_by("-date", "-pk")[:50]
    )


def attachments_prefetch(user: Any) -> Prefetch:
    return Prefetch(
        "attachments", queryset=ActivityAttachment.objects.visible_to(user).order_by("pk"), to_attr="shown_files"
    )


def school_activities(user: Any, school: School) -> list[Activity]:
    """The latest 50 activities the school organised, with the schools involved and the files."""
    return list(
        Activity.objects.visible_to(user)
        .filter(host_school=school)
        .prefetch_related(
            # the schools involved are named as the form offers them: the county's schools
            Prefetch(
                "schools",
                queryset=access.narrow_related(School.objects.order_by("code"), user, kind="county"),
                to_attr="shown_schools",
            ),
            attachments_prefetch(user),
        )
        .order_by("-date", "-pk")[:50]
    )


# --- the bureau's overview -----------------------------------------------------------------


@compiled.query()
def _latest_scored_period_row(user: Any):
    return (
        EvaluationPeriod.objects.visible_to(user)
        .filter(pk__in=SchoolResult.objects.values("period_id"))
        .order_by("-end_date", "-pk")
        .values(*_period_columns())[:1]
    )


def _latest_scored_period(user: Any) -> EvaluationPeriod | None:
    rows = _latest_scored_period_row(user)
    return _period_of(rows[0]) if rows else None


@compiled.query(school_year=int)
def _memberships_of_year(user: Any, school_year: Any):
    return (
        Membership.objects.visible_to(user)
        .filter(school_year=school_year)
        .order_by()  # summed by name: the order is not shown
        .values_list("school_id", "alliance__name")
    )


@compiled.query(start=dt.date, end=dt.date)
def _counted_exchanges(user: Any, start: Any, end: Any):
    return (
        Exchange.objects.visible_to(user)
        .counted()
        .overlapping(start, end)
        .order_by()
        .values_list("origin_school_id", "start_date", "end_date")
    )


def _teacher_days_by_alliance(user: Any, span: Span) -> list[tuple[str, int]]:
    """Counted exchanges' teacher-days within the school year, by the origin school's alliances."""
    year = span.school_year
    if year is None:
        return []
    alliances: dict[int, list[str]] = defaultdict(list)
    for school_id, name in _memberships_of_year(user, school_year=year.pk):
        alliances[school_id].append(name)
    days: dict[str, int] = defaultdict(int)
    unallied = [_("(no alliance)")]  # translated once, not once per exchange
    for school_id, start, end in _counted_exchanges(user, start=year.start_date, end=year.end_date):
        n = (min(end, year.end_date) - max(start, year.start_date)).days + 1
        for name in alliances.get(school_id, unallied):
            days[name] += n
    return sorted(days.items(), key=lambda item: (-item[1], item[0]))


def _counted(querysets: dict[str, Any]):
    """Each queryset's ``count()``, all in one statement (``UNION ALL`` of one count each), as
    ``(key, count)`` rows."""
    parts = [
        qs.order_by().values(n_key=Value(key, output_field=CharField())).annotate(n=Count("pk"))
        for key, qs in querysets.items()
    ]
    return parts[0].union(*parts[1:], all=True)


_WAITING = ("exchanges", "plans", "appeals", "notices")


@compiled.query(now=dt.datetime)
def _waiting_counts(user: Any, now: Any):
    """What waits for the bureau: exchanges to approve, plans submitted, appeals open, periods
    whose public notice has ended."""
    return _counted(
        dict(
            zip(
                _WAITING,
                (
                    Exchange.objects.visible_to(user).filter(status=Exchange.Status.PLANNED),
                    SpendingPlan.objects.visible_to(user).filter(status=SpendingPlan.Status.SUBMITTED),
                    Appeal.objects.visible_to(user).filter(status=Appeal.Status.OPEN),
                    EvaluationPeriod.objects.visible_to(user).filter(
                        status=EvaluationPeriod.Status.PROPOSED, notice_ends_at__lte=now
                    ),
                ),
                strict=True,
            )
        )
    )


@compiled.query(period=int)
def _alliance_results(user: Any, period: Any):
    # values: the rows' traces (JSON) are not shown here
    return (
        AllianceResult.objects.visible_to(user)
        .filter(period=period)
        .order_by("-score", "alliance__name")
        .values("alliance__name", "score", "grade")
    )


@compiled.query(period=int)
def _awards_by_alliance(user: Any, period: Any):
    """The period's awards by alliance: paid (``award``) and previewed (``award_preview``)."""
    return (
        SchoolResult.objects.visible_to(user)
        .filter(period=period)
        .values("alliance__name")
        .annotate(award=Sum("award"), preview=Sum("award_preview"), schools=Count("pk"))
        .order_by("alliance__name")
    )


@compiled.query()
def _last_run(user: Any):
    runs = EvaluationRun.objects.visible_to(user).order_by("-started_at", "-pk")
    return runs.values(*compiled.columns(EvaluationRun))[:1]


def county_overview(user: Any) -> dict[str, Any]:
    """The bureau's overview: what waits for it, and the county's figures."""
    span = current_span(user)
    todo = dict.fromkeys(_WAITING, 0)
    todo.update((row["n_key"], row["n"]) for row in _waiting_counts(user, now=timezone.now()))
    period = _latest_scored_period(user)
    alliance_rows: list[dict[str, Any]] = []
    award_rows: list[dict[str, Any]] = []
    award_total = ZERO
    if period is not None:
        alliance_rows = _labelled(_alliance_results(user, period=period.pk), AllianceResult, "grade")
        published = period.status == EvaluationPeriod.Status.PUBLISHED
        for row in _awards_by_alliance(user, period=period.pk):
            total = (row["award"] if published else row["preview"]) or ZERO
            award_total += total
            award_rows.append({"alliance": row["alliance__name"] or _("(no alliance)"), "total": total})
    execution = _plan_execution(user, span)
    days = _teacher_days_by_alliance(user, span)
    runs = _last_run(user)
    return {
        "span": span,
        "todo": todo,
        "period": period,
        "alliance_results": alliance_rows,
        "alliance_chart": bars(
            (r["alliance__name"], r["score"], f"{r['score']} · {r['grade_label']}") for r in alliance_rows
        ),
        "award_rows": award_rows,
        "award_total": award_total,
        "award_published": period is not None and period.status == EvaluationPeriod.Status.PUBLISHED,
        "award_chart": bars((r["alliance"], r["total"], yuan(r["total"])) for r in award_rows),
        "execution": execution,
        "execution_chart": bars(((r["alliance"], r["rate"], f"{r['rate']}%") for r in execution), top=100),
        "days_chart": bars((name, n, str(n)) for name, n in days),
        "last_run": compiled.instance(EvaluationRun, runs[0]) if runs else None,
    }


@compiled.query(school_year=int)
def _planned_by_alliance(user: Any, school_year: Any):
    return (
        PlanLine.objects.visible_to(user)
        .current()
        .filter(plan__funding_year__school_year=school_year)
        .values("plan__alliance_id", "plan__alliance__name")
        .annotate(total=Sum("amount"))
        .order_by()
    )


@compiled.query(school_year=int)
def _spent_by_alliance(user: Any, school_year: Any):
    return (
        SpendingRecord.objects.visible_to(user)
        .booked()
        .filter(plan_line__plan__funding_year__school_year=school_year)
        .values("plan_line__plan__alliance_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )


def _plan_execution(user: Any, span: Span) -> list[dict[str, Any]]:
    """Per alliance: the approved plan's total, what is spent on it, and the rate in percent."""
    if span.school_year is None:
        return []
    year = span.school_year.pk
    planned = {
        row["plan__alliance_id"]: (row["plan__alliance__name"], row["total"])
        for row in _planned_by_alliance(user, school_year=year)
    }
    spent = {row["plan_line__plan__alliance_id"]: row["total"] for row in _spent_by_alliance(user, school_year=year)}
    rows = []
    for alliance_id, (name, total) in sorted(planned.items(), key=lambda item: item[1][0]):
        done = spent.get(alliance_id) or ZERO
        rate = (done * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0.0")
        rows.append({"alliance": name, "planned": total, "spent": done, "rate": rate})
    return rows


# --- evaluation: the assessor's grid and the school's result ------------------------------------


def open_periods(user: Any):
    """The periods open for entering values the user sees, the latest first. The grid enters a
    value per school: a teachers' period's values name teachers (the API's)."""
    return (
        EvaluationPeriod.objects.visible_to(user)
        .filter(status=EvaluationPeriod.Status.OPEN)
        .exclude(subject="teacher")
        .order_by("-start_date")
    )


@compiled.query(period=int)
def _open_period_row(user: Any, period: Any):
    return open_periods(user).filter(pk=period).values(*_period_columns())


def open_period(user: Any, pk: int) -> EvaluationPeriod | None:
    """One of ``open_periods``, with its school year and term; None if it is not one of them."""
    rows = _open_period_row(user, period=pk)
    return _period_of(rows[0]) if rows else None


@compiled.query(county=int, school_year=int, subject=str)
def _current_rubric_row(user: Any, county: Any, school_year: Any, subject: Any):
    return (
        evaluation_compute.rubric_versions(county, school_year, subject)
        .visible_to(user)
        .values(*compiled.columns(Rubric))[:1]
    )


def current_rubric(user: Any, period: EvaluationPeriod) -> Rubric | None:
    """The period's rubric: the county's current version for the school year (of the period's
    subject: schools, or principals by the school's principal position)."""
    rows = _current_rubric_row(user, county=period.county_id, school_year=period.school_year_id, subject=period.subject)
    return compiled.instance(Rubric, rows[0]) if rows else None


ENTERED = (Indicator.Method.MANUAL, Indicator.Method.SURVEY)


@compiled.query(rubric=int)
def _entered_indicator_rows(user: Any, rubric: Any):
    return (
        Indicator.objects.visible_to(user)
        .filter(dimension__rubric=rubric, method__in=ENTERED)
        .order_by("dimension__order", "dimension__pk", "order", "pk")
        .values(*compiled.columns(Indicator))
    )


def entered_indicators(user: Any, rubric: Rubric | None) -> list[Indicator]:
    """The indicators an assessor enters (manual or survey; computed ones are not entered)."""
    if rubric is None:
        return []
    return [compiled.instance(Indicator, row) for row in _entered_indicator_rows(user, rubric=rubric.pk)]


@compiled.query()
def _grid_school_rows(user: Any):
    return School.objects.visible_to(user).order_by("code").values(*compiled.columns(School))


@compiled.query(period=int, rubric=int)
def _grid_values(user: Any, period: Any, rubric: Any):
    """The values entered for the period on the entered indicators of the rubric, of the schools
    the user sees."""
    return (
        IndicatorValue.objects.visible_to(user)
        .filter(
            period=period,
            school__in=School.objects.visible_to(user).values("pk"),
            indicator__dimension__rubric=rubric,
            indicator__method__in=ENTERED,
        )
        .order_by()  # read into a dictionary: the default ordering's ten joins cost its planning
        .values_list("school_id", "indicator_id", "value")
    )


def assessor_grid(user: Any, period: EvaluationPeriod) -> dict[str, Any]:
    """Schools × indicators of one period, with the values entered so far."""
    rubric = current_rubric(user, period)
    indicators = entered_indicators(user, rubric)
    schools = [compiled.instance(School, row) for row in _grid_school_rows(user)]
    values = {}
    if rubric is not None:
        shown = {i.pk for i in indicators}  # (the indicators the user may read)
        values = {
            (school_id, indicator_id): value
            for school_id, indicator_id, value in _grid_values(user, period=period.pk, rubric=rubric.pk)
            if indicator_id in shown
        }
    missing = sum(1 for s in schools for i in indicators if (s.pk, i.pk) not in values)
    return {"indicators": indicators, "schools": schools, "values": values, "missing": missing}


def rule_in_words(indicator: dict[str, Any]) -> str:
    rule, params = indicator.get("rule"), indicator.get("rule_params") or {}
    lower = indicator.get("direction") == "lower"
    if rule == "target":
        if lower:
            return _("Full points at or below %(target)s, fewer above it.") % {"target": params.get("target")}
        return _("Points in proportion to the value, full points from %(target)s.") % {"target": params.get("target")}
    if rule == "bands":
        sign = "≤" if lower else "≥"
        bands = "；".join(
            _("%(sign)s%(threshold)s: %(points)s points") % {"sign": sign, "threshold": t, "points": p}
            for t, p in params.get("bands", [])
        )
        return _("Points by band: %(bands)s.") % {"bands": bands}
    if rule == "rank":
        return _("Points by rank in the county: the best gets full points, the last none.")
    return ""


def result_detail(result: SchoolResult | PersonResult) -> dict[str, Any]:
    """A result's indicators with their rule in words, and the subtotal of each dimension (a
    school's, or a principal's or teacher's: the same trace)."""
    trace = result.explained_trace
    indicators = []
    subtotals: dict[str, list[Decimal]] = {}
    for ind in trace.get("indicators", []):
        points = Decimal(str(ind.get("points") or 0))
        top = Decimal(str(ind.get("max_points") or 0))
        dimension = ind.get("dimension", "")
        total = subtotals.setdefault(dimension, [ZERO, ZERO])
        total[0] += points
        total[1] += top
        indicators.append({**ind, "rule_words": rule_in_words(ind)})
    dimensions: list[dict[str, Any]] = [
        {"name": name, "points": p, "max_points": m} for name, (p, m) in subtotals.items()
    ]
    chart = bars(
        (
            (
                d["name"],
                d["points"] * 100 / d["max_points"] if d["max_points"] else 0,
                f"{d['points']} / {d['max_points']}",
            )
            for d in dimensions
        ),
        top=100,
    )
    return {"indicators": indicators, "dimensions": dimensions, "chart": chart}


# --- the lead principal: the alliance side by side, and its plan ---------------------------------


def led_alliances(user: Any, school: School, span: Span):
    """The alliances of the school year whose lead school is the user's school."""
    qs = Alliance.objects.visible_to(user).filter(
        pk__in=Membership.objects.filter(school=school, role=Membership.Role.LEAD).values("alliance_id")
    )
    if span.school_year is not None:
        qs = qs.filter(school_year=span.school_year)
    return qs.select_related("school_year").order_by("name")


def _by_school(rows, key: str, value: str = "n") -> dict[int, Any]:
    return {row[key]: row[value] for row in rows}


def alliance_side_by_side(user: Any, alliance: Alliance, span: Span) -> dict[str, Any]:
    """The alliance's schools as columns: exchanges, tasks, activities, money and the latest
    result of each, one aggregate query per figure."""
    members = list(
        Membership.objects.visible_to(user)
        .filter(alliance=alliance)
        .select_related("school")
        .order_by("role", "school__code")
    )
    ids = [m.school_id for m in members]
    out_n = _by_school(
        _within(Exchange.objects.visible_to(user).filter(origin_school__in=ids), span)
        .values("origin_school_id")
        .annotate(n=Count("pk"))
        .order_by(),
        "origin_school_id",
    )
    in_n = _by_school(
        _within(
            ExchangeHost.objects.visible_to(user).filter(school__in=ids),
            span,
            "exchange__start_date",
            "exchange__end_date",
        )
        .values("school_id")
        .annotate(n=Count("pk"))
        .order_by(),
        "school_id",
    )
    tasks_n = _by_school(
        PairingTask.objects.visible_to(user)
        .filter(pairing__alliance=alliance, pairing__helped_school__in=ids, status__in=OPEN_TASKS)
        .values("pairing__helped_school_id")
        .annotate(n=Count("pk"))
        .order_by(),
        "pairing__helped_school_id",
    )
    activities = Activity.objects.visible_to(user).filter(host_school__in=ids)
    if span.start is not None:
        activities = activities.filter(date__gte=span.start, date__lte=span.end)
    activities_n = _by_school(activities.values("host_school_id").annotate(n=Count("pk")).order_by(), "host_school_id")
    lines = PlanLine.objects.visible_to(user).current().filter(plan__alliance=alliance, school__in=ids)
    planned = _by_school(lines.values("school_id").annotate(n=Sum("amount")).order_by(), "school_id")
    spent = _by_school(
        SpendingRecord.objects.visible_to(user)
        .booked()
        .filter(plan_line__plan__alliance=alliance, plan_line__school__in=ids)
        .values("plan_line__school_id")
        .annotate(n=Sum("amount"))
        .order_by(),
        "plan_line__school_id",
    )
    results = {
        r.school_id: r
        for r in SchoolResult.objects.visible_to(user)
        .filter(
            school__in=ids, period__status__in=(EvaluationPeriod.Status.PROPOSED, EvaluationPeriod.Status.PUBLISHED)
        )
        .select_related("period")
        .order_by("school_id", "period__end_date", "pk")
    }
    columns = [
        {
            "membership": m,
            "school": m.school,
            "out": out_n.get(m.school_id, 0),
            "in": in_n.get(m.school_id, 0),
            "tasks": tasks_n.get(m.school_id, 0),
            "activities": activities_n.get(m.school_id, 0),
            "planned": planned.get(m.school_id) or ZERO,
            "spent": spent.get(m.school_id) or ZERO,
            "result": results.get(m.school_id),
        }
        for m in members
    ]
    return {"alliance": alliance, "columns": columns}


# --- cross-county programmes (seed 002) ----------------------------------------------------


def _programmes(user: Any):
    """The cross-county programmes the user sees: its county's (either side), or its school's."""
    return Programme.objects.visible_to(user)


@compiled.query()
def programmes_of(user: Any):
    """``_programmes``' rows as values (the name, both counties' names, the dates), the latest
    first."""
    return (
        _programmes(user)
        .order_by("-start_date", "name", "pk")
        .values("pk", "name", "helper_county__name", "helped_county__name", "start_date", "end_date")
    )


def has_programmes(user: Any) -> bool:
    return _programmes(user).exists()


@dataclass(frozen=True)
class Milestone:
    """A stage of the programme's roadmap with its tasks in date order."""

    name: str
    tasks: list[PairingTask]


def programme_view(user: Any, programme: Programme, today: dt.date) -> dict[str, Any]:
    """A programme's page: its pairings, the task timetable by milestone (each task with its
    date, responsible person, status and evidence; late ones marked), and each term with the
    term meetings held (none: missing). Pairings, tasks and meetings are the rows the user may
    read: a participating school sees its own pairings', a bureau of either county all."""
    pairings = list(
        Pairing.objects.visible_to(user)
        .filter(programme=programme)
        .select_related("helper_school", "helped_school")
        .order_by("helper_school__code", "helped_school__code", "pk")
    )
    tasks = list(
        PairingTask.objects.visible_to(user)
        .filter(pairing__programme=programme)
        .select_related("pairing__helper_school", "pairing__helped_school")
        .order_by("due_date", "pk")
    )
    by_milestone: dict[str, list[PairingTask]] = {}
    for task in tasks:
        task.is_late = task.status in OPEN_TASKS and task.due_date < today  # type: ignore[attr-defined]
        by_milestone.setdefault(task.milestone, []).append(task)
    meetings = list(
        Activity.objects.visible_to(user)
        .filter(programme=programme, kind=Programme.TERM_MEETING_KIND)
        .select_related("host_school")
        .order_by("date", "pk")
    )
    terms = [
        {"term": term, "held": held, "meetings": [m for m in meetings if term.start_date <= m.date <= term.end_date]}
        for term, held in alliance_services.programme_terms(programme=programme, today=today)
    ]
    return {
        "programme": programme,
        "pairings": pairings,
        "milestones": [Milestone(name, rows) for name, rows in by_milestone.items()],
        "task_count": len(tasks),
        "done_count": sum(1 for t in tasks if t.status == PairingTask.Status.DONE),
        "terms": terms,
        "missing_count": sum(1 for t in terms if not t["held"]),
    }
