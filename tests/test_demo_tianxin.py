"""The demo's Tianxin-like district (demo/tianxin_part.py, seed 001): trusteeships by famous
schools with stationed principals, two education groups, an area alliance and a cross-region
pairing, a 70/30 funding year that ``ledger_check`` accepts; its principals reach their own
school, its bureau its own county."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count, Q

from alliance.access import readable_schools
from alliance.models import Alliance, County, Membership, Pairing, School, User
from demo import tianxin_part
from demo.core import Context
from funding import bookcheck
from funding.metrics import pool_total
from funding.models import FundingQuota, FundingYear
from funding.services import alliance_fund_capacity
from staffing.models import Activity, Exchange, Teacher

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 2)  # the day the district was asked for


@pytest.fixture
def tianxin(loaded_once, db):
    return County.objects.get(code=tianxin_part.CODE)


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_the_district_has_trusteeships_groups_an_area_alliance_and_a_cross_region_pairing(tianxin):
    alliances = Alliance.objects.filter(school_year__county=tianxin).annotate(
        leads=Count("memberships", filter=Q(memberships__role=Membership.Role.LEAD))
    )
    kinds = {kind: sorted(a.name for a in alliances if a.kind == kind) for kind in Alliance.Kind.values}
    assert kinds[Alliance.Kind.TRUSTEESHIP] == ["湖南师大附中托管学校", "长郡中学托管学校", "雅礼中学托管学校"]
    assert kinds[Alliance.Kind.GROUP] == ["仰天湖教育集团", "青园教育集团"]
    assert kinds[Alliance.Kind.AREA] == ["暮云—南托片区联盟"]
    assert kinds[Alliance.Kind.CROSS_REGION] == ["实验小学—丰城小学对口帮扶"]
    assert {a.leads for a in alliances} == {1}
    # the famous schools run the article's trusteed schools
    trusteed = {
        (m.alliance.lead_membership.school.name, m.school.name)
        for m in Membership.objects.filter(kind=Alliance.Kind.TRUSTEESHIP, school__county=tianxin, role="member")
        .select_related("alliance", "school")
        .prefetch_related("alliance__memberships__school")
    }
    assert trusteed == {
        ("长郡中学", "长郡外国语实验中学"),
        ("长郡中学", "长郡天心实验学校"),
        ("湖南师大附中", "师大附中双语实验学校"),
        ("雅礼中学", "青雅丽发学校"),
    }
    # the groups are led by 仰天湖小学 and 青园小学; 实验小学 helps 丰城小学
    leads = {a.name: a.lead_membership.school.name for a in alliances.prefetch_related("memberships__school")}
    assert leads["仰天湖教育集团"] == "仰天湖小学" and leads["青园教育集团"] == "青园小学"
    pairing = Pairing.objects.get(alliance__kind=Alliance.Kind.CROSS_REGION, alliance__school_year__county=tianxin)
    assert (pairing.helper_school.name, pairing.helped_school.name) == ("天心区实验小学", "丰城小学")
    # an area alliance's schools are in an alliance of another kind too (one of each kind at most)
    area = Membership.objects.filter(kind=Alliance.Kind.AREA, school__county=tianxin).values("school")
    others = Membership.objects.filter(school__in=area).exclude(kind=Alliance.Kind.AREA)
    assert others.values("school").distinct().count() == len(tianxin_part.AREA.members) + 1


def test_each_trusteed_school_has_a_principal_stationed_by_its_trustee_for_the_school_year(tianxin):
    postings = Exchange.objects.filter(origin_school__county=tianxin, kind=Exchange.Kind.POSTING).prefetch_related(
        "hosts__school"
    )
    hosted = {}
    for posting in postings.select_related("origin_school", "teacher"):
        (host,) = [h.school for h in posting.hosts.all()]
        hosted[host.name] = (posting.origin_school.name, posting.teacher.name)
        # a leadership posting (挂职) of the school year, running today, inside its trusteeship
        assert posting.status == Exchange.Status.ACTIVE and posting.start_date <= TODAY <= posting.end_date
        assert not posting.cross_alliance and posting.approved_by.username == "tianxin-bureau"
    assert hosted == {
        "长郡外国语实验中学": ("长郡中学", "彭志强"),
        "长郡天心实验学校": ("长郡中学", "李文娟"),
        "师大附中双语实验学校": ("湖南师大附中", "邓晓峰"),
        "青雅丽发学校": ("雅礼中学", "胡美玲"),
    }
    # the stationed principal is the trusteed school's principal login, recorded at its home school
    member = user("tianxin-member")
    assert member.school.name == "长郡外国语实验中学" and member.last_name + member.first_name == "彭志强"
    assert Teacher.objects.get(name="彭志强").school.name == "长郡中学"


def test_the_article_typical_work_is_logged_sending_lessons_joint_research_and_trusteeship_meetings(tianxin):
    exchanges = Exchange.objects.filter(origin_school__county=tianxin)
    # 送教 by the groups' lead schools, and the music teacher 实验小学 sends to 丰城小学
    assert exchanges.filter(kind=Exchange.Kind.LESSON_DELIVERY, status=Exchange.Status.COMPLETED).count() == 2
    music = exchanges.get(kind=Exchange.Kind.DISPATCHED)
    assert (music.subject, music.origin_school.name) == ("music", "天心区实验小学")
    assert music.hosts.get().school.name == "丰城小学"
    activities = Activity.objects.filter(host_school__county=tianxin)
    research = activities.get(kind=Activity.Kind.TEACHING_RESEARCH)
    area = Alliance.objects.get(school_year__county=tianxin, kind=Alliance.Kind.AREA)
    assert set(research.schools.all()) == set(area.schools.all())
    assert activities.filter(kind=Activity.Kind.TERM_MEETING, title__contains="托管").exists()
    assert activities.filter(kind=Activity.Kind.ONLINE_LESSON).exists()
    # the trusteeships' task lists
    tasks = Pairing.objects.filter(alliance__kind=Alliance.Kind.TRUSTEESHIP, alliance__school_year__county=tianxin)
    assert tasks.count() == 4
    assert not tasks.annotate(n=Count("tasks")).filter(n=0).exists()


def test_its_principals_reach_only_their_school_or_the_schools_of_the_group_they_lead(tianxin):
    member, lead = user("tianxin-member"), user("tianxin-lead")
    assert list(readable_schools(member)) == [member.school]
    assert set(School.objects.visible_to(member)) == {member.school}
    # every exchange the member principal reads is of its school, out or in
    exchanges = Exchange.objects.visible_to(member).prefetch_related("hosts")
    assert exchanges.exists()
    for exchange in exchanges:
        assert member.school_id in {exchange.origin_school_id, *(h.school_id for h in exchange.hosts.all())}
    for activity in Activity.objects.visible_to(member).prefetch_related("schools"):
        assert member.school in {activity.host_school, *activity.schools.all()}, activity
    # the group's lead principal reaches its group (仰天湖小学 and its three members), nothing else
    group = Alliance.objects.get(school_year__county=tianxin, name="仰天湖教育集团")
    assert set(readable_schools(lead)) == set(group.schools.all())
    assert len(set(readable_schools(lead))) == 4


@pytest.mark.parametrize(
    ("model", "county_path"),
    [
        (School, "county"),
        (Alliance, "school_year__county"),
        (Teacher, "school__county"),
        (Exchange, "origin_school__county"),
        (Activity, "host_school__county"),
        (FundingYear, "county"),
        (FundingQuota, "funding_year__county"),
        (User, "county"),
    ],
)
def test_its_bureau_reads_its_own_rows_and_none_of_the_other_counties(tianxin, model, county_path):
    bureau = user("tianxin-bureau")
    others = model._default_manager.exclude(**{county_path: tianxin})
    assert others.exists()  # the other demo counties' rows are there
    if model is User:
        from alliance.access import visible_users

        seen = visible_users(User.objects.all(), bureau)
    else:
        seen = model._default_manager.visible_to(bureau)
    assert seen.exists()
    assert not seen.filter(pk__in=others.values("pk")).exists()


def test_the_funding_year_pays_70_30_of_the_district_schools_and_ledger_check_passes(tianxin):
    year = FundingYear.objects.get(county=tianxin, school_year__start_year=2026)
    assert year.status == FundingYear.Status.OPEN
    assert (year.base_quota, year.lead_share, year.pool_share) == (
        Decimal("500000.00"),
        Decimal("0.70"),
        Decimal("0.30"),
    )
    # the district funds its own 14 schools, each through its trusteeship, group or pairing; the
    # city's famous schools have no district quota, and the area alliance's fund gets nothing
    quotas = year.quotas.select_related("school", "alliance")
    assert {q.school.code for q in quotas} == {f.code for f in tianxin_part.SCHOOLS} - set(tianxin_part.CITY_SCHOOLS)
    assert Alliance.Kind.AREA not in {q.alliance.kind for q in quotas}
    assert pool_total(year) == Decimal("150000.00") * 14 == Decimal("2100000.00")
    changjun = Alliance.objects.get(school_year__county=tianxin, name="长郡中学托管学校")
    assert alliance_fund_capacity(year, changjun) == Decimal("700000.00")
    # and the books balance
    assert bookcheck.check_year(year) == []
    out = StringIO()
    call_command("ledger_check", "--county", tianxin_part.CODE, "--year", "2026", stdout=out)
    assert "OK" in out.getvalue()


def test_loading_the_district_again_writes_nothing(tianxin):
    before = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    ctx = Context(write=lambda message: None)
    tianxin_part.load(ctx)
    assert ctx.created == {}
    assert {m._meta.label: m._default_manager.count() for m in apps.get_models()} == before
