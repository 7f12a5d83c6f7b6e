"""The demo county: ``load_demo`` loads it, a second run changes nothing, ``--logins`` prints it."""

from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext

from alliance.access import Role, role_of
from alliance.models import Alliance, County, Membership, Pairing, PairingTask, School, User
from demo import data
from demo.core import all_logins

pytestmark = pytest.mark.django_db


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def demo(loaded_once, db):
    return County.objects.get(code=data.COUNTY["code"])


def test_load_demo_creates_the_27_funded_schools_of_the_article(demo):
    # given the demo loaded (fixture)
    schools = School.objects.filter(county=demo)
    # then they are the schools seed 000 funds: 衡南一中、衡南三中、衡南九中、衡南一中云集校区初中部
    # and 23 township union schools (乡镇联合学校)
    names = set(schools.values_list("name", flat=True))
    assert schools.count() == 27
    assert {"衡南县第一中学", "衡南县第三中学", "衡南县第九中学", "衡南一中云集校区初中部"} <= names
    assert len([n for n in names if n.endswith("联合学校")]) == 23
    # of mixed stages, locations and strengths
    assert schools.values("stage").distinct().count() >= 4
    assert set(schools.values_list("location", flat=True)) == {"urban", "township", "rural"}
    assert set(schools.values_list("strength", flat=True)) == {"strong", "weak", "new"}
    assert not schools.filter(Q(students=0) | Q(teachers=0) | Q(classes=0)).exists()


def test_eleven_paired_alliances_each_of_one_lead_and_its_members_cover_every_school(demo):
    alliances = Alliance.objects.filter(school_year__county=demo).annotate(
        leads=Count("memberships", filter=Q(memberships__role=Membership.Role.LEAD)),
        members=Count("memberships", filter=Q(memberships__role=Membership.Role.MEMBER)),
    )
    # then the county has 11 paired alliances (结对式校联体), one lead school and one or two
    # member schools each
    assert alliances.count() == 11
    assert set(alliances.values_list("kind", flat=True)) == {Alliance.Kind.PAIRED}
    assert {a.leads for a in alliances} == {1}
    assert all(1 <= a.members <= 2 for a in alliances)
    # and every school of the county is in exactly one of them
    joined = Membership.objects.filter(alliance__in=alliances).values("school").annotate(n=Count("alliance"))
    assert sorted(row["n"] for row in joined) == [1] * School.objects.filter(county=demo).count()

    # and the article's three pairs are there as it names them
    named = set()
    for alliance in alliances:
        rows = list(alliance.memberships.values_list("role", "school__name"))
        named.add((next(n for r, n in rows if r == "lead"), frozenset(n for r, n in rows if r == "member")))
    assert {
        ("三塘联合学校", frozenset({"茅市联合学校", "岐山联合学校"})),
        ("云集联合学校", frozenset({"茶市联合学校", "相市联合学校"})),
        ("向阳桥联合学校", frozenset({"松江联合学校", "近尾洲联合学校"})),
    } <= named
    # a lead school helps its members: strong leads, no strong member
    assert not Membership.objects.filter(alliance__in=alliances, role="member", school__strength="strong").exists()
    assert set(
        Membership.objects.filter(alliance__in=alliances, role="lead").values_list("school__strength", flat=True)
    ) == {"strong"}


def test_the_other_kinds_of_alliance_are_the_further_demo_counties(demo):
    from demo import baihe_part, hetang_part, tianxin_part

    # 紧密型教共体 in the Baihe county (seed 003), 教育集团 in the Hetang district (seed 004), and
    # 托管, 教育集团, 片区联盟 and 对口帮扶 in the Tianxin district (seed 001)
    kinds = set(Alliance.objects.exclude(school_year__county=demo).values_list("school_year__county__code", "kind"))
    assert kinds == {
        (baihe_part.CODE, Alliance.Kind.COMMUNITY),
        (hetang_part.CODE, Alliance.Kind.GROUP),
        *((tianxin_part.CODE, kind) for kind in ("trusteeship", "group", "area", "cross_region")),
    }
    # so the demo has an alliance of every kind the portal keeps
    assert set(Alliance.objects.values_list("kind", flat=True)) == set(Alliance.Kind.values)


def test_pairings_have_task_lists_in_several_states(demo):
    pairings = Pairing.objects.filter(alliance__school_year__county=demo)
    assert (
        pairings.count()
        == Membership.objects.filter(
            alliance__in=Alliance.objects.filter(school_year__county=demo), role=Membership.Role.MEMBER
        ).count()
    )
    assert not pairings.annotate(n=Count("tasks")).filter(n=0).exists()
    statuses = set(PairingTask.objects.filter(pairing__in=pairings).values_list("status", flat=True))
    assert {"done", "in_progress", "planned"} <= statuses


def test_there_is_a_demo_user_for_every_role_with_the_known_password(demo):
    users = User.objects.filter(county=demo)
    roles = [role_of(u) for u in users]
    # then every role has a user, and there are two bureau users (publishing needs four eyes)
    assert set(roles) == set(Role)
    assert roles.count(Role.BUREAU) >= 2
    assert all(u.is_staff and u.check_password(data.PASSWORD) for u in users)
    assessor = next(u for u in users if role_of(u) == Role.ASSESSOR)
    assert assessor.assessed_schools.exists()
    lead = next(u for u in users if role_of(u) == Role.LEAD_PRINCIPAL)
    assert lead.school.memberships.filter(role=Membership.Role.LEAD).exists()
    member = next(u for u in users if role_of(u) == Role.MEMBER_PRINCIPAL)
    assert member.school.memberships.filter(role=Membership.Role.MEMBER).exists()


def test_a_demo_user_can_log_into_the_admin(demo):
    # given the demo's bureau user and the published password
    client = Client()
    # when it logs in through the admin's login form
    response = client.post(
        reverse("admin:login"),
        {"username": "demo-bureau", "password": data.PASSWORD, "next": reverse("admin:index")},
    )
    # then it is let in and sees the admin's index
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_second_run_changes_no_row_count_of_any_model(demo):
    # given the demo loaded once (fixture)
    before = row_counts()
    # when it is loaded again
    output = load_demo()
    # then no model has a row more or less
    assert row_counts() == before
    assert gettext("  Nothing to do: the demo county is already loaded.") in output


def test_a_database_of_an_older_demo_is_refused_with_the_way_out_and_nothing_written(demo):
    from django.core.management.base import CommandError

    # given a database loaded by an earlier demo: an alliance this demo does not have
    year = demo.school_years.get(start_year=data.START_YEAR)
    Alliance.objects.create(school_year=year, kind=Alliance.Kind.COMMUNITY, name="云集中学紧密型教共体")
    before = row_counts()
    # when the demo is loaded on it
    with pytest.raises(CommandError) as refused:
        load_demo()
    # then it is refused, naming the stale row and how to start afresh, and writes nothing
    assert "云集中学紧密型教共体" in str(refused.value) and "make demo-clean" in str(refused.value)
    assert row_counts() == before


def test_logins_prints_one_line_per_role_and_nothing_else(demo):
    # when the logins are asked for
    lines = load_demo("--logins").strip().splitlines()
    # then each line is a demo login (role, username, password, county, school) of one of the
    # demo counties, the Hengnan county's first, and every role appears
    assert len(lines) == sum(len(logins) for _county, logins in all_logins())
    hengnan = [line.split()[1] for line in lines[: len(data.USERS)]]
    assert hengnan == [u[0] for u in data.USERS]
    printed_roles = {line.split()[0] for line in lines}
    assert printed_roles == {r.value for r in Role}
    for line in lines:
        role, username, password, county, *_where = line.split()
        assert password == data.PASSWORD
        user = User.objects.get(username=username)
        assert role_of(user) == Role(role)
        assert user.county.name == county


def test_logins_needs_no_database_rows():
    # --logins only prints the fixed logins: make demo calls it after loading anyway
    lines = load_demo("--logins").strip().splitlines()
    assert len(lines) == sum(len(logins) for _county, logins in all_logins())


def test_about_three_hundred_teachers_with_subjects_titles_and_key_teachers(demo):
    from staffing.models import Teacher

    teachers = Teacher.objects.filter(school__county=demo)
    assert 270 <= teachers.count() <= 330
    assert teachers.values("subject").distinct().count() >= 10
    assert set(teachers.values_list("title", flat=True)) >= {"none", "second", "first", "senior"}
    assert 0.1 < teachers.filter(is_key_teacher=True).count() / teachers.count() < 0.4
    # the articles' named teachers are there (seed 000)
    assert teachers.filter(name="华朝霞", school__name="三塘联合学校", is_key_teacher=True).exists()


def test_a_term_of_exchanges_of_every_kind_and_status_obeying_the_rules(demo):
    from staffing.models import Exchange

    exchanges = Exchange.objects.filter(origin_school__county=demo)
    # then every kind and every status occurs
    assert set(exchanges.values_list("kind", flat=True)) == set(Exchange.Kind.values)
    assert set(exchanges.values_list("status", flat=True)) == set(Exchange.Status.values)
    # 走教 names several host schools; a cross-alliance exchange is flagged by the service
    itinerant = exchanges.filter(kind=Exchange.Kind.ITINERANT).annotate(n=Count("hosts"))
    assert itinerant.filter(n__gte=2).exists()
    assert exchanges.filter(cross_alliance=True).exists()
    # approvals are the bureau's, and no teacher holds two overlapping postings
    assert not exchanges.exclude(status__in=["planned"]).filter(approved_by__isnull=True).exists()
    for exchange in exchanges.exclude(kind__in=Exchange.EVENT_KINDS):
        assert exchange.overlapping_posting() is None, exchange


def test_mentoring_pairs_have_meetings_and_activities_cover_every_kind(demo):
    from staffing.models import Activity, MentorPair

    pairs = MentorPair.objects.filter(mentor__school__county=demo)
    assert pairs.count() >= 10
    assert not pairs.annotate(n=Count("meetings")).filter(n=0).exists()
    activities = Activity.objects.filter(host_school__county=demo)
    assert set(activities.values_list("kind", flat=True)) == set(Activity.Kind.values)
    assert not activities.annotate(n=Count("schools")).filter(n=0).exists()


def test_an_open_funding_year_with_approved_plans_and_spending_that_ledger_check_accepts(demo):
    from funding.metrics import pool_total
    from funding.models import FundingYear, SpendingPlan, SpendingRecord
    from funding.services import alliance_fund_capacity

    # given the demo's funding year (200,000 per school, 70/30)
    year = FundingYear.objects.get(county=demo)
    assert year.status == FundingYear.Status.OPEN
    assert (year.base_quota, year.lead_share, year.pool_share) == (data.BASE_QUOTA, data.LEAD_SHARE, data.POOL_SHARE)
    assert year.quotas.count() == School.objects.filter(county=demo).count()
    assert set(year.quotas.values_list("quota", flat=True)) == {Decimal("200000.00")}
    # then each alliance's fund got 70 % of its schools' quotas, the county pool 30 % of all 27
    for alliance in Alliance.objects.filter(school_year__county=demo).annotate(n=Count("memberships")):
        assert alliance_fund_capacity(year, alliance) == Decimal("140000.00") * alliance.n, alliance
    assert pool_total(year) == Decimal("60000.00") * 27 == Decimal("1620000.00")
    # then every alliance has a plan approved by a bureau user
    alliances = Alliance.objects.filter(school_year__county=demo)
    approved = SpendingPlan.objects.filter(funding_year=year, status=SpendingPlan.Status.APPROVED)
    assert set(approved.values_list("alliance_id", flat=True)) == set(alliances.values_list("pk", flat=True))
    assert {role_of(plan.decided_by) for plan in approved.select_related("decided_by")} == {Role.BUREAU}
    assert SpendingRecord.objects.filter(plan_line__plan__funding_year=year).count() >= 30
    # and the books balance
    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert "OK" in out.getvalue()


def test_the_default_rubric_with_a_term_of_values_and_one_evaluation_run(demo):
    from evaluation.models import EvaluationPeriod, EvaluationRun, Indicator, IndicatorValue, Rubric, SchoolResult

    rubric = Rubric.objects.get(county=demo, subject="school")
    assert rubric.dimensions.count() == 7
    values = IndicatorValue.objects.filter(period__county=demo)
    methods = set(values.values_list("indicator__method", flat=True))
    assert methods == {Indicator.Method.MANUAL, Indicator.Method.SURVEY}
    assert values.values("school").distinct().count() == School.objects.filter(county=demo).count()
    # the assessor entered the values of her schools
    assessor = User.objects.get(username="demo-assessor")
    assert values.filter(entered_by=assessor).exists()
    assert not values.filter(entered_by=assessor).exclude(school__in=assessor.assessed_schools.all()).exists()
    run = EvaluationRun.objects.get(county=demo)
    assert run.status == EvaluationRun.Status.SUCCEEDED
    schools = School.objects.filter(county=demo).count()
    for period in EvaluationPeriod.objects.filter(county=demo, subject="school"):
        assert SchoolResult.objects.filter(period=period).count() == schools, period


def test_the_award_sheet_of_the_demo_year_adds_up_to_the_pool(demo, tmp_path):
    # given the demo county's school-year evaluation
    out = tmp_path / "awards.csv"
    # when the bureau exports the award sheet
    call_command(
        "export_awards",
        "--year",
        "2025",
        "--county",
        data.COUNTY["code"],
        "--output",
        str(out),
        "--user",
        "demo-bureau",
    )
    # then the preview marker (not published yet), the header, a row per school, then any
    # remainder, and the pool total last; the rows add up to it
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    body, total = rows[2:-1], rows[-1]
    assert len([r for r in body if r[0]]) == School.objects.filter(county=demo).count()
    assert sum(Decimal(r[-1]) for r in body) == Decimal(total[-1]) > 0


def test_every_date_lies_in_the_2025_2026_school_year_whatever_today_is(demo):
    from funding.models import SpendingRecord
    from staffing.models import Activity, Exchange, MentorMeeting

    # given the fixed school year of the demo
    first, last = data.YEAR_START, data.YEAR_END
    # then no date of the demo's calendar was taken from the clock
    dates = [
        *Exchange.objects.filter(origin_school__county=demo).values_list("start_date", "end_date"),
        *((d, d) for d in Activity.objects.filter(host_school__county=demo).values_list("date", flat=True)),
        *(
            (d, d)
            for d in MentorMeeting.objects.filter(pair__mentor__school__county=demo).values_list("date", flat=True)
        ),
        *((d, d) for d in SpendingRecord.objects.filter(plan_line__school__county=demo).values_list("date", flat=True)),
        *PairingTask.objects.filter(pairing__alliance__school_year__county=demo).values_list("due_date", "due_date"),
    ]
    assert dates
    assert all(first <= start <= end <= last for start, end in dates)
    approvals = Exchange.objects.filter(origin_school__county=demo, approved_at__isnull=False)
    assert {a.approved_at.date().year for a in approvals} <= {2025, 2026}
