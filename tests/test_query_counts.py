"""Every list endpoint of the API answers in a fixed number of queries: listing 20 rows costs
what listing 1 costs (no query per row), and no more than the bound recorded here.

``ROWS`` has a builder for every endpoint of the router (``test_every_endpoint_has_a_builder``
fails for a new endpoint until it gets one). A builder makes the ``i``-th row of the endpoint's
model, each with related rows of its own (a school, a school year), so that a serializer reaching
for a related row per row would show. Each list is read by bureau staff; the lists scoped by
school are read by the member principal of school A too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alliance.models import Programme, User
from alliance.rest import ScopedViewSetMixin
from config.urls import router
from evaluation import services as evaluation
from evaluation.models import (
    AllianceResult,
    Appeal,
    AwardPolicy,
    DeclineWarning,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    PersonResult,
    Publication,
    SchoolResult,
)
from funding import services as funding
from funding.models import (
    Account,
    Category,
    PlanLine,
    ProgrammeFund,
    ProgrammeFundLine,
    ProgrammeSpending,
    SpendingPlan,
)
from staffing.models import Rectification, SupervisionVisit

from .factories import (
    AllianceFactory,
    CountyFactory,
    MembershipFactory,
    PairingFactory,
    PairingTaskFactory,
    SchoolFactory,
    SchoolYearFactory,
    TermFactory,
    make_alliance,
)
from .factories_evaluation import make_rubric
from .factories_funding import FundingQuotaFactory, FundingYearFactory
from .factories_staffing import (
    ActivityAttachmentFactory,
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 1, 20


@dataclass(frozen=True)
class Rows:
    build: Callable[[Any, int], Any]  # (the county's fixtures, i) -> the i-th row
    # the most queries the list may take, as measured (the role, the count, the page, and one
    # per prefetched relation); the principal's list is held to it too
    bound: int
    principal: bool = False  # scoped by school: the member principal of school A lists the rows too
    user: str = "bureau"  # who reads the list ("superuser" for the counties)


def _year(c: Any, i: int) -> Any:
    return SchoolYearFactory(county=c.county, start_year=2030 + i)


def _school(c: Any, i: int) -> Any:
    return SchoolFactory(county=c.county)


def _pair(c: Any, i: int) -> Any:
    return MentorPairFactory(mentor=TeacherFactory(school=c.lead_school), mentee=TeacherFactory(school=c.member_school))


def _spending(c: Any, i: int) -> Any:
    return funding.spending_record_create(
        actor=c.principal, plan_line=c.research_line, date=c.in_year, amount=Decimal("1.00"), payee=f"书店{i}"
    )


def _programme(c: Any, i: int) -> Any:
    """A programme of county X helping another county, with a pairing (its rows name both schools)."""
    helped = SchoolFactory(county=CountyFactory())
    programme = Programme.objects.create(
        name=f"帮扶{i}", helper_county=c.county, helped_county=helped.county, start_date=c.in_year
    )
    PairingFactory(alliance=None, programme=programme, helper_school=_school(c, i), helped_school=helped)
    return programme


def _programme_fund(c: Any, i: int) -> Any:
    programme = _programme(c, i)
    return ProgrammeFund.objects.create(
        funding_year=c.open_year,
        programme=programme,
        helper_school=programme.pairings.get().helper_school,
        amount=Decimal("100000.00"),
    )


def _shared_fund_line(c: Any) -> Any:
    if "_fund_line" not in c.__dict__:
        fund = _programme_fund(c, 99)
        c._fund_line = ProgrammeFundLine.objects.create(
            fund=fund, category=Category.TRAINING, amount=Decimal("50000.00")
        )
    return c._fund_line


def _indicator(c: Any, i: int) -> Any:
    return Indicator.objects.create(
        dimension=c.simple_rubric.dimensions.get(), code=f"extra{i}", name=f"指标{i}", max_points=Decimal(1),
        method=Indicator.Method.MANUAL, rule_params={"target": "100"},
    )  # fmt: skip


def _quality(c: Any) -> Any:
    return Indicator.objects.get(dimension__rubric=c.simple_rubric, code="quality")


def _rubric_hash(c: Any) -> str:
    return c.simple_rubric.content_hash


ROWS: dict[str, Rows] = {
    # --- alliance
    "county": Rows(lambda c, i: CountyFactory(), bound=3, user="superuser"),
    "school": Rows(_school, bound=3),
    "schoolyear": Rows(_year, bound=4),
    "term": Rows(lambda c, i: TermFactory(school_year=_year(c, i)), bound=3),
    "alliance": Rows(
        lambda c, i: make_alliance(c.county, _school(c, i), [_school(c, i)], school_year=c.school_year), bound=5
    ),
    "membership": Rows(lambda c, i: MembershipFactory(alliance=c.alliance, school=_school(c, i)), bound=3),
    "pairing": Rows(
        lambda c, i: PairingFactory(alliance=c.alliance, helper_school=c.lead_school, helped_school=_school(c, i)),
        bound=3,
    ),
    "pairingtask": Rows(
        lambda c, i: PairingTaskFactory(
            pairing=PairingFactory(alliance=c.alliance, helper_school=c.member_school, helped_school=_school(c, i))
        ),
        bound=3,
        principal=True,
    ),
    "programme": Rows(_programme, bound=5),  # + the pairings and their two schools
    # --- staffing
    "teacher": Rows(lambda c, i: TeacherFactory(school=c.member_school), bound=3, principal=True),
    "exchange": Rows(
        lambda c, i: ExchangeFactory(
            teacher=TeacherFactory(school=c.member_school), hosts=[c.lead_school], logged_by=c.principal
        ),
        bound=4,
        principal=True,
    ),
    "mentorpair": Rows(_pair, bound=5, principal=True),  # + the teachers the reader may name (mentor_name)
    "mentormeeting": Rows(lambda c, i: MentorMeetingFactory(pair=_pair(c, i)), bound=3, principal=True),
    "activity": Rows(
        lambda c, i: ActivityFactory(host_school=c.member_school, schools=[c.lead_school]), bound=5, principal=True
    ),
    "activityattachment": Rows(
        lambda c, i: ActivityAttachmentFactory(activity=ActivityFactory(host_school=c.member_school)),
        bound=3,
        principal=True,
    ),
    "supervisionvisit": Rows(
        lambda c, i: SupervisionVisit.objects.create(school=c.member_school, supervisor=c.assessor, date=c.in_year),
        bound=4,
        principal=True,
    ),
    "rectification": Rows(
        lambda c, i: Rectification.objects.create(
            visit=SupervisionVisit.objects.create(school=c.member_school, supervisor=c.assessor, date=c.in_year),
            item=f"整改{i}",
            due_date=c.in_year,
        ),
        bound=3,
        principal=True,
    ),
    # --- funding
    "fundingyear": Rows(lambda c, i: FundingYearFactory(school_year=_year(c, i), county=c.county), bound=3),
    "fundingquota": Rows(lambda c, i: FundingQuotaFactory(funding_year=c.draft_year, school=_school(c, i)), bound=3),
    "account": Rows(
        lambda c, i: Account.objects.create(
            funding_year=c.open_year, kind=Account.Kind.SCHOOL_SPENDING, school=_school(c, i)
        ),
        bound=3,
    ),
    "ledgerentry": Rows(_spending, bound=4, principal=True),
    "spendingplan": Rows(
        lambda c, i: SpendingPlan.objects.create(
            funding_year=c.open_year,
            alliance=AllianceFactory(school_year=c.school_year),
            lead_school=_school(c, i),
            revision=1,
            created_by=c.bureau_staff,
        ),
        bound=4,
    ),
    "planline": Rows(
        lambda c, i: PlanLine.objects.create(
            plan=c.approved_plan, school=_school(c, i), category=Category.CLUBS, amount=Decimal("1.00")
        ),
        bound=3,
    ),
    "spendingrecord": Rows(_spending, bound=5, principal=True),
    "programmefund": Rows(_programme_fund, bound=2),
    "programmefundline": Rows(
        lambda c, i: ProgrammeFundLine.objects.create(
            fund=_programme_fund(c, 100 + i), category=Category.CLUBS, amount=Decimal("1.00")
        ),
        bound=2,
    ),
    "programmespending": Rows(
        lambda c, i: ProgrammeSpending.objects.create(
            line=_shared_fund_line(c),
            date=c.in_year,
            amount=Decimal("1.00"),
            payee=f"书店{i}",
            recorded_by=c.bureau_staff,
        ),
        bound=2,
    ),
    # --- evaluation
    "rubric": Rows(lambda c, i: make_rubric(c.bureau_staff, _year(c, i)), bound=5),
    "indicator": Rows(_indicator, bound=3),
    "evaluationperiod": Rows(
        lambda c, i: evaluation.period_create(actor=c.bureau_staff, school_year=_year(c, i)), bound=3
    ),
    "indicatorvalue": Rows(
        lambda c, i: IndicatorValue.objects.create(
            period=c.year_period,
            indicator=_quality(c),
            school=_school(c, i),
            value=Decimal(50),
            entered_by=c.bureau_staff,
        ),
        bound=3,
    ),
    "schoolresult": Rows(
        lambda c, i: SchoolResult.objects.create(
            period=c.year_period,
            school=_school(c, i),
            alliance=c.alliance,
            own_total=Decimal(50),
            final_score=Decimal(50),
            grade="fail",
            rubric=c.simple_rubric,
            rubric_version=1,
            rubric_hash=_rubric_hash(c),
        ),
        bound=3,
    ),
    # a teacher's result each (the list joins the school and the teacher)
    "personresult": Rows(
        lambda c, i: PersonResult.objects.create(
            period=c.year_period,
            subject="teacher",
            school=c.member_school,
            teacher=TeacherFactory(school=c.member_school),
            score=Decimal(50),
            grade="fail",
            rubric=c.simple_rubric,
            rubric_version=1,
            rubric_hash=_rubric_hash(c),
        ),
        bound=3,
    ),
    "allianceresult": Rows(
        lambda c, i: AllianceResult.objects.create(
            period=c.year_period,
            alliance=AllianceFactory(school_year=c.school_year),
            score=Decimal(50),
            grade="fail",
            rubric_version=1,
            rubric_hash=_rubric_hash(c),
        ),
        bound=3,
    ),
    "declinewarning": Rows(
        lambda c, i: DeclineWarning.objects.create(
            period=c.year_period, school=_school(c, i), falls=2, scores=[90, 80, 70]
        ),
        bound=3,
    ),
    "evaluationrun": Rows(
        lambda c, i: EvaluationRun.objects.create(
            county=c.county, start_year=2025, started_at=timezone.now(), status=EvaluationRun.Status.SUCCEEDED
        ),
        bound=3,
    ),
    "appeal": Rows(
        lambda c, i: Appeal.objects.create(
            period=c.year_period,
            school=c.member_school,
            indicator=_quality(c),
            reason=f"理由{i}",
            filed_by=c.principal,
        ),
        bound=3,
        principal=True,
    ),
    "awardpolicy": Rows(lambda c, i: AwardPolicy.objects.create(county=c.county, school_year=_year(c, i)), bound=3),
    "publication": Rows(
        lambda c, i: Publication.objects.create(
            period=c.year_period,
            revision=i + 1,
            proposed_by=c.bureau_staff,
            approved_by=c.bureau_staff,
            approved_at=timezone.now(),
        ),
        bound=3,
    ),
}


def test_every_endpoint_has_a_builder():
    registered = {basename for _, _, basename in router.registry}
    assert registered - set(ROWS) == set(), "list endpoints without a builder in tests/test_query_counts.py"
    assert set(ROWS) - registered == set(), "builders for endpoints that no longer exist"


class _Fixtures:
    """The conftest's fixtures by name, each set up when a builder first asks for it (a list of
    counties needs no funding year)."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        value = self._request.getfixturevalue(name)
        setattr(self, name, value)
        return value


@pytest.fixture
def county_rows(request):
    return _Fixtures(request)


@pytest.fixture
def draft_year(county):
    return FundingYearFactory(school_year=SchoolYearFactory(county=county, start_year=2026), county=county)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123")


def _listed(user: Any, basename: str) -> tuple[int, int]:
    """(queries, rows) of one list request, by a fresh copy of the user (the access checkpoint
    caches on the user object, which would spare the second request a query)."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(f"{basename}-list"))
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


CASES = [
    pytest.param(basename, reader, id=f"{basename}-{reader}")
    for basename, rows in sorted(ROWS.items())
    for reader in ([rows.user, "principal"] if rows.principal else [rows.user])
]


@pytest.mark.parametrize(("basename", "reader"), CASES)
def test_list_query_count_does_not_grow_with_the_rows(county_rows, basename, reader):
    # given one row of the endpoint's model, then twenty
    rows = ROWS[basename]
    user = getattr(county_rows, {"bureau": "bureau_staff"}.get(reader, reader))
    for i in range(SMALL):
        rows.build(county_rows, i)  # (sets up the fixtures the builder needs, too)
    _listed(user, basename)  # warm the process's caches (content types, translations)
    small, count_small = _listed(user, basename)
    for i in range(SMALL, LARGE):
        rows.build(county_rows, i)
    # when the reader lists them
    large, count_large = _listed(user, basename)
    # then the reader sees every new row, and twenty cost what one costs, within the bound
    assert count_large - count_small == LARGE - SMALL, "the reader should see the new rows"
    assert large == small, f"{basename}: {small} queries for {SMALL} row, {large} for {LARGE}"
    assert large <= rows.bound, f"{basename}: {large} queries, more than the recorded {rows.bound}"


@pytest.mark.parametrize(("basename", "reader"), CASES)
def test_a_list_read_as_values_answers_what_the_serializer_answers(
    county_rows, basename, reader, monkeypatch, settings
):
    # given a few rows of the endpoint's model, with their related rows (files, lines, hosts),
    # and the lists' statements prepared (the opt-in path)
    settings.API_PREPARED_STATEMENTS = True
    rows = ROWS[basename]
    user = getattr(county_rows, {"bureau": "bureau_staff"}.get(reader, reader))
    for i in range(3):
        rows.build(county_rows, i)
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    # when the list is read on its values path (alliance.listing) and through DRF's serializer
    url = reverse(f"{basename}-list")
    fast = client.get(url)
    monkeypatch.setattr(ScopedViewSetMixin, "list_as_values", False)
    slow = client.get(url)
    # then both answer the same JSON, byte for byte
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content


@pytest.mark.parametrize(("basename", "reader"), CASES)
def test_a_page_of_a_longer_list_read_as_values_answers_what_the_serializer_answers(
    county_rows, basename, reader, monkeypatch, settings
):
    from alliance.pagination import PortalPagination

    # given three rows and pages of two (a list longer than its page: the values path takes the
    # total from its rows' COUNT(*) OVER (), DRF's path from a COUNT(*) of its own)
    rows = ROWS[basename]
    user = getattr(county_rows, {"bureau": "bureau_staff"}.get(reader, reader))
    for i in range(3):
        rows.build(county_rows, i)
    monkeypatch.setattr(PortalPagination, "page_size", 2)
    # (statements unprepared, so that the query log shows their SQL rather than ``EXECUTE``; the
    # prepared path's JSON is compared above)
    settings.API_PREPARED_STATEMENTS = False
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    url = reverse(f"{basename}-list")
    for page in ("1", "2"):
        # when a page is read on the values path and through DRF's serializer (the query log
        # emptied first, as a request's start empties it)
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            fast = client.get(url, {"page": page})
        # (read now: the next request empties the log that captured_queries slices)
        counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
        assert queries.captured_queries, "no queries captured"
        with monkeypatch.context() as slow_path:
            slow_path.setattr(ScopedViewSetMixin, "list_as_values", False)
            slow = client.get(url, {"page": page})
        # then both answer the same JSON, byte for byte, and the values path counted no rows apart
        assert fast.status_code == slow.status_code == 200
        assert fast.content == slow.content
        if page == "1" and fast.json()["count"] > 2 and _on_values_path(basename):
            assert counts == [], f"{basename}: a COUNT(*) besides the page's rows"


def _on_values_path(basename: str) -> bool:
    """The list was read as values (a list that keeps DRF's path counts its rows apart)."""
    from alliance.rest import _LIST_PLANS

    viewset = next(v for _, v, name in router.registry if name == basename)
    return any(view is viewset and plan is not None for (view, _), plan in _LIST_PLANS.items())


@pytest.mark.parametrize("basename", ["planline", "spendingplan"])
def test_a_lines_spent_on_both_paths_is_its_booked_spending_over_its_revisions(county_rows, basename, monkeypatch):
    # given two records of 1.00 on a line of the approved plan, one of them reversed, and a
    # revision of the plan (whose copy of the line counts what was spent on the first)
    c = county_rows
    _spending(c, 1)
    reversed_record = _spending(c, 2)
    funding.entry_reverse(entry=reversed_record.ledger_entries.get(), actor=c.bureau_staff, reason="发票作废")
    funding.spending_plan_revise(actor=c.lead_principal, plan=c.approved_plan)
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=c.bureau_staff.pk))
    url = reverse(f"{basename}-list")
    # when the list is read on its values path and through DRF's serializer
    fast = client.get(url)
    with monkeypatch.context() as slow_path:
        slow_path.setattr(ScopedViewSetMixin, "list_as_values", False)
        slow = client.get(url)
    # then both answer the same, and each copy of the line has spent the booked 1.00
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    results = fast.json()["results"]
    if basename == "spendingplan":  # the list's plans are summaries; a plan's own page has its lines
        assert all("lines" not in plan for plan in results)
        results = [client.get(reverse("spendingplan-detail", args=[plan["id"]])).json() for plan in results]
    lines = [line for plan in results for line in plan["lines"]] if basename == "spendingplan" else results
    line = c.research_line
    copies = [x for x in lines if x["school"] == line.school_id and x["category"] == line.category]
    assert [x["spent"] for x in copies] == ["1.00", "1.00"]
    assert {x["spent"] for x in lines if x not in copies} == {"0.00"}


def test_the_api_renderer_writes_what_drfs_writes():
    import datetime as dt
    import uuid

    from django.utils.translation import gettext_lazy
    from rest_framework.exceptions import ErrorDetail
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
    from rest_framework.utils.serializer_helpers import ReturnDict

    from alliance.renderers import JSONRenderer

    # given a page with what the API's answers carry (text, lazy translations, dates and times
    # with their zone, decimals, ids, nested rows, error details, a line separator)
    data = {
        "count": 2,
        "results": [
            ReturnDict({"id": 1, "name": "实验 \u2028 \u2029 \"/\\\n\t", "amount": Decimal("1.50")}, serializer=None),
            {"date": dt.date(2025, 9, 1), "at": timezone.now(), "utc": dt.datetime(2025, 9, 1, 8, tzinfo=dt.UTC),
             "time": dt.time(8, 30), "lazy": gettext_lazy("Approved"), "uuid": uuid.UUID(int=7), None: None,
             3: [True, False, 1.5, -0], "detail": ErrorDetail("无效", code="invalid"), "big": 2**70},
        ],
    }  # fmt: skip
    # when both render it; then the bytes are the same
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)
    assert JSONRenderer().render(data, "application/json; indent=4") == DRFJSONRenderer().render(
        data, "application/json; indent=4"
    )


def _runs_of(fragment: str) -> int:
    """How many times the prepared statements whose text has ``fragment`` have run on this
    connection (prepared statements outlive the tests' rolled-back transactions)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(generic_plans + custom_plans), 0) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return int(cursor.fetchone()[0])


def test_a_lists_statements_are_prepared_once_and_run_as_prepared(county_rows, settings):
    # given plan lines (their ordering joins ten tables, planned in milliseconds each time), and
    # prepared statements switched on
    settings.API_PREPARED_STATEMENTS = True
    for i in range(3):
        ROWS["planline"].build(county_rows, i)
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=county_rows.bureau_staff.pk))
    page_query = 'FROM "funding_planline" INNER JOIN'
    before = _runs_of(page_query)
    # when the list is read seven times
    for _ in range(7):
        response = client.get(reverse("planline-list"))
        assert response.status_code == 200
        assert response.json()["count"] >= 3
    # then its page query ran seven times as a prepared statement of the connection
    assert _runs_of(page_query) - before == 7


def test_a_statement_that_cannot_be_prepared_runs_as_it_is(settings):
    settings.API_PREPARED_STATEMENTS = True
    from alliance import listing
    from alliance.models import County

    county = CountyFactory()
    # given a statement whose parameter's type (text against an integer id) PostgreSQL refuses
    # to prepare, inside a transaction (which the refusal must not break)
    rows = County.objects.extra(where=['"alliance_county"."id" = %s'], params=[str(county.pk)])
    with listing.prepared_reads():
        # when it runs inside prepared_reads(); then it answers as unprepared
        assert [c.pk for c in rows] == [county.pk]
        assert County.objects.filter(pk=county.pk).count() == 1  # and the transaction goes on
    assert _runs_of('("alliance_county"."id" = $1)') == 0  # (the count above was prepared)


def test_prepared_statements_can_be_switched_off(county_rows, settings):
    # given plan lines, and prepared statements switched off (a transaction-pooling pgbouncer)
    settings.API_PREPARED_STATEMENTS = False
    ROWS["planline"].build(county_rows, 0)
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=county_rows.bureau_staff.pk))
    page_query = 'FROM "funding_planline" INNER JOIN'
    before = _runs_of(page_query)
    # when the list is read; then it answers, and no prepared statement ran
    assert client.get(reverse("planline-list")).status_code == 200
    assert _runs_of(page_query) == before
