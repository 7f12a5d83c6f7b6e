"""A cross-county programme (跨区域结对帮扶, seed 002): a city district modelled on 长沙市开福区
helps weak schools of the demo county. Its helper schools pair with them, with a task list
on a timetable, a stationed cadre (挂职) hosted across the line, a term meeting in the first
term (the second term's is missing, so the report shows it), and the working funds of
100,000 CNY per helper school in the district's own funding year, planned and partly spent.

Self-contained: it reads only the demo county, its school year and schools from the context,
finds every row by its natural key first (a second load writes nothing), and writes through
the apps' services, so ``ledger_check`` holds after the load.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from alliance import services as alliance_services
from alliance.models import County, Pairing, PairingTask, Programme, School, SchoolYear, Term, User
from funding import models as funding_models
from funding import services as funding_services
from staffing import services as staffing_services
from staffing.models import Activity, Exchange, Teacher

from . import data
from .core import Context, Login, ensure, ensure_users, login_rows, validate
from .data import UserSpec

HELPER_COUNTY = {"code": "430105", "name": "长沙市开福区", "province": "湖南省"}
PROGRAMME_NAME = "开福区结对帮扶衡南县学校"
# (code, name, stage) of the district's helper schools, each helping the weak school drawn for it.
HELPER_SCHOOLS = (
    ("KF001", "开福区长师天健小学", "primary"),
    ("KF002", "开福区清水塘第二小学", "primary"),
    ("KF003", "开福区青竹湖湘一外国语学校", "nine_year"),
)
WORKING_FUND = Decimal("100000.00")
# The roadmap (路线图): milestones, each with its tasks (title, months after the year's start).
ROADMAP = (
    ("第一阶段:调研诊断", (('到被帮扶学校"坐诊",摸清教学管理困难', 1), ("签订结对帮扶协议和任务清单", 1))),
    ("第二阶段:送教帮扶", (('名师送教和"送课菜单"特色课程', 3), ("线上同步课堂每周一次", 4))),
    ("第三阶段:跟岗提升", (("被帮扶学校教师到开福区跟岗学习", 6), ("学期帮扶成效总结", 9))),
)
BUREAU_USERNAME = "demo-kaifu-bureau"
PRINCIPAL_USERNAME = "demo-kaifu-principal"
USERS: tuple[UserSpec, ...] = (
    (BUREAU_USERNAME, "bureau_staff", "刘", "建华", None, ()),
    (PRINCIPAL_USERNAME, "member_principal", "陈", "静", HELPER_SCHOOLS[0][0], ()),
)


def load(ctx: Context) -> None:
    assert ctx.county is not None and ctx.school_year is not None  # the core part made them
    county, school_year = _helper_county(ctx)
    helpers = _helper_schools(ctx, county)
    bureau, principal = _users(ctx, county, helpers)
    programme = ensure(
        ctx,
        Programme,
        {"name": PROGRAMME_NAME, "helper_county": county, "helped_county": ctx.county},
        {
            "start_date": ctx.school_year.start_date,
            "agreement": "两地教育局商定:每所帮扶学校结对一所薄弱学校,每学期召开一次帮扶例会,每年10万元工作经费。",
        },
    )
    pairings = _pairings(ctx, bureau, programme, helpers)
    _tasks(ctx, bureau, pairings)
    _cadre(ctx, bureau, pairings[0])
    _term_meeting(ctx, programme, pairings)
    _funds(ctx, bureau, principal, school_year, programme, pairings)
    ctx.note(
        _("  programme: %(name)s, %(pairings)s pairings; logins %(bureau)s and %(principal)s (password %(pw)s)")
        % {
            "name": programme.name,
            "pairings": len(pairings),
            "bureau": BUREAU_USERNAME,
            "principal": PRINCIPAL_USERNAME,
            "pw": data.PASSWORD,
        }
    )


def _helper_county(ctx: Context) -> tuple[County, SchoolYear]:
    assert ctx.school_year is not None
    county = ensure(
        ctx, County, {"code": HELPER_COUNTY["code"]}, {k: v for k, v in HELPER_COUNTY.items() if k != "code"}
    )
    year = ctx.school_year
    school_year = ensure(
        ctx,
        SchoolYear,
        {"county": county, "start_year": year.start_year},
        {"start_date": year.start_date, "end_date": year.end_date},
    )
    for term in Term.objects.filter(school_year=year).order_by("number"):
        ensure(
            ctx,
            Term,
            {"school_year": school_year, "number": term.number},
            {"start_date": term.start_date, "end_date": term.end_date},
        )
    return county, school_year


def _helper_schools(ctx: Context, county: County) -> list[School]:
    return [
        ensure(
            ctx,
            School,
            {"county": county, "code": code},
            {
                "name": name,
                "stage": stage,
                "location": "urban",
                "strength": "strong",
                "students": 1800,
                "teachers": 110,
                "classes": 36,
            },
        )
        for code, name, stage in HELPER_SCHOOLS
    ]


def _users(ctx: Context, county: County, helpers: list[School]) -> tuple[User, User]:
    users = ensure_users(ctx, county, {s.code: s for s in helpers}, USERS)
    return users[BUREAU_USERNAME], users[PRINCIPAL_USERNAME]


def _helped_schools(ctx: Context) -> list[School]:
    """The demo county's weak schools, in code order, one per helper school."""
    schools = sorted((s for s in ctx.schools.values() if s.strength == "weak" and s.active), key=lambda s: s.code)
    return schools[: len(HELPER_SCHOOLS)]


def _pairings(ctx: Context, bureau: User, programme: Programme, helpers: list[School]) -> list[Pairing]:
    pairings = []
    for helper, helped in zip(helpers, _helped_schools(ctx), strict=False):
        pairing = Pairing.objects.filter(programme=programme, helper_school=helper, helped_school=helped).first()
        if pairing is None:
            pairing = alliance_services.programme_pairing_create(
                actor=bureau, programme=programme, helper_school=helper, helped_school=helped,
                start_date=programme.start_date, agreement_date=programme.start_date,
                focus_areas=["management", "teaching_research", "teachers", "funds"],
            )  # fmt: skip
            ctx.count(Pairing._meta.label)
        pairings.append(pairing)
    return pairings


def _month(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def _tasks(ctx: Context, bureau: User, pairings: list[Pairing]) -> None:
    """The roadmap's tasks: the first stage's done, the second's in progress, the third's planned
    (fixed, never read from the clock)."""
    assert ctx.school_year is not None
    start = ctx.school_year.start_date
    states = (PairingTask.Status.DONE, PairingTask.Status.IN_PROGRESS, PairingTask.Status.PLANNED)
    for pairing in pairings:
        have = set(PairingTask.objects.filter(pairing=pairing).values_list("title", flat=True))
        for (milestone, tasks), status in zip(ROADMAP, states, strict=True):
            for title, months in tasks:
                if title in have:
                    continue
                due = _month(start, months)
                done = status == PairingTask.Status.DONE
                alliance_services.pairing_task_create(
                    actor=bureau, pairing=pairing, title=title, milestone=milestone, due_date=due,
                    responsible_person=f"{pairing.helper_school.name[3:7]}帮扶负责人", status=status,
                    completed_on=due if done else None, progress_notes="已完成,见佐证材料" if done else "",
                )  # fmt: skip
                ctx.count(PairingTask._meta.label)


def _cadre(ctx: Context, bureau: User, pairing: Pairing) -> None:
    """A stationed cadre (驻校帮扶干部), recorded at the home school, posted to the helped one."""
    assert ctx.school_year is not None
    teacher = Teacher.objects.filter(school=pairing.helper_school, name="王立新").first()
    if teacher is None:
        teacher = Teacher(
            school=pairing.helper_school, name="王立新", gender="male", subject="management", title="senior",
            years_of_service=18, is_key_teacher=True,
        )  # fmt: skip
        validate(teacher)
        teacher.save()
        ctx.count(Teacher._meta.label)
    if Exchange.objects.filter(teacher=teacher).exists():
        return
    year = ctx.school_year
    exchange = staffing_services.exchange_create(
        actor=bureau, teacher=teacher, origin_school=pairing.helper_school, host_schools=[pairing.helped_school],
        kind=Exchange.Kind.POSTING, subject="management", start_date=year.start_date, end_date=year.end_date,
    )  # fmt: skip
    staffing_services.exchange_approve(actor=bureau, exchange=exchange)
    ctx.count(Exchange._meta.label)


def _term_meeting(ctx: Context, programme: Programme, pairings: list[Pairing]) -> None:
    """The first term's meeting (帮扶例会), at the first helped school ("坐诊" on the spot), with
    every school of the programme; the second term's is not held yet."""
    first = Term.objects.filter(school_year=ctx.school_year, number=1).first()
    if first is None or not pairings:
        return
    day = first.start_date + dt.timedelta(days=18)
    kind = Activity.Kind.PROGRAMME_TERM_MEETING
    if Activity.objects.filter(programme=programme, kind=kind, date=day).exists():
        return
    host = pairings[0].helped_school
    schools = [p.helper_school for p in pairings] + [p.helped_school for p in pairings[1:]]
    staffing_services.activity_create(
        actor=ctx.principals.get(host.code) or ctx.bureau, host_school=host, schools=schools, kind=kind,
        programme=programme, date=day, title="开福区—衡南县结对帮扶学期例会", person_times=24,
        participants="两地教育局、帮扶学校和被帮扶学校校长", description="通报任务清单进度,调整帮扶方式与重点。",
    )  # fmt: skip
    ctx.count(Activity._meta.label)


def _funds(
    ctx: Context, bureau: User, principal: User, school_year: SchoolYear, programme: Programme, pairings: list[Pairing]
) -> None:
    """The district's funding year: no 70/30 quotas, the working funds of its helper schools."""
    year = ensure(ctx, funding_models.FundingYear, {"county": school_year.county, "school_year": school_year})
    for pairing in pairings:
        fund = funding_models.ProgrammeFund.objects.filter(
            funding_year=year, programme=programme, helper_school=pairing.helper_school
        ).first()
        if fund is None:
            funding_services.programme_fund_create(
                actor=bureau, funding_year=year, programme=programme, helper_school=pairing.helper_school,
                amount=WORKING_FUND,
            )  # fmt: skip
            ctx.count(funding_models.ProgrammeFund._meta.label)
    if year.status == funding_models.FundingYear.Status.DRAFT:
        year = funding_services.funding_year_open(actor=bureau, funding_year=year)
    for fund in funding_models.ProgrammeFund.objects.filter(funding_year=year, programme=programme).order_by("pk"):
        helped = next(p.helped_school for p in pairings if p.helper_school_id == fund.helper_school_id)
        for category, amount in (("training", Decimal("40000.00")), ("teaching_research", Decimal("30000.00"))):
            line = funding_models.ProgrammeFundLine.objects.filter(
                fund=fund, helped_school=helped, category=category
            ).first()
            if line is None:
                line = funding_services.programme_line_create(
                    actor=bureau, fund=fund, helped_school=helped, category=category, amount=amount
                )
                ctx.count(funding_models.ProgrammeFundLine._meta.label)
            if category == "training" and not line.spendings.exists():
                funding_services.programme_spending_create(
                    actor=bureau, line=line, date=school_year.start_date + dt.timedelta(days=40),
                    amount=Decimal("12680.00"), payee="衡南县教师发展中心", description="骨干教师跟岗培训食宿交通",
                )  # fmt: skip
                ctx.count(funding_models.ProgrammeSpending._meta.label)


def logins() -> list[Login]:
    """(username, password, role, school or county) of the helper district's two logins."""
    return login_rows(USERS, {code: name for code, name, _stage in HELPER_SCHOOLS}, HELPER_COUNTY["name"])
