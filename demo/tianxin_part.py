"""A Tianxin-like district (seed 001, 长沙市天心区): urban–rural school communities built by
trusteeship (学校托管), education groups (集团管理), an area alliance (片区联盟) and the urban
strong schools' targeted help to weak ones (对口帮扶).

What the article gives, the demo has under its names:
- 托管: famous schools (长郡、雅礼、师大附中 …) station a principal or vice-principal in a district
  school and run it (7 schools in the article, 5 junior and 2 nine-year). The demo has the four
  the article names: 长郡中学 runs 长郡外国语实验中学 and the new 长郡天心实验学校, 湖南师大附中 runs
  师大附中双语实验学校 ("二代" brands named after their trustees), 雅礼中学 runs the new
  青雅丽发学校 (the name's 雅). Each stationed principal is a leadership posting (挂职) recorded
  at the famous school, for the whole school year. The portal keeps an alliance inside one
  registry, so the three famous schools (the city's own, 市属) are entered in the district's as
  the trusteeships' lead schools; the district funds its own schools only, so they have no quota.
- 集团管理: 仰天湖教育集团 and 青园教育集团, led by 仰天湖小学 and 青园小学 (龙湾小学, a new school
  of the article, joins 仰天湖's); the other member schools are named after the district's
  streets (the article names none), with 送教 and 网络送课 from the lead schools.
- 片区联盟: the 暮云—南托片区联盟 of the southern area's schools (暮云、南托、大托 in the article),
  led by 长郡天心实验学校, with its joint teaching research (联合教研). Its schools are in a
  group or a trusteeship too (another kind of alliance), and are funded through that one.
- 对口帮扶: 实验小学 helps 丰城小学, which lacks an experienced music teacher: 实验小学 sends one
  (支教, music) — a cross-region pairing of the district's urban core and a weak school.

Its only school year is 2026–2027, which covers today's date; the autumn term's exchanges and
activities are logged. The funding year gives each district school 500,000 CNY (the article's
50–100万元 a year for each group school, at its lower end), 70/30 as the demo's convention.
Every row is found by its natural key first and written through the apps' services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from alliance import services as alliance_services
from alliance.models import Pairing, PairingTask, User
from funding import services as funding
from funding.models import FundingQuota, FundingYear
from staffing import services as staffing
from staffing.models import Activity, Exchange, Teacher

from .core import Context, Login, ensure
from .county import CountyRows, CountySpec, YearFact, load_county
from .data import AllianceFact, SchoolFact

CODE = "430103"
BASE_QUOTA = Decimal("500000.00")
AGREEMENT = dt.date(2026, 9, 1)

# The famous schools (the city's, 市属) that run district schools by trusteeship: no district quota.
CITY_SCHOOLS = ("TX01", "TX02", "TX03")
SCHOOLS = (
    SchoolFact("TX01", "长郡中学", "complete", "urban", "strong", 70),
    SchoolFact("TX02", "雅礼中学", "complete", "urban", "strong", 70),
    SchoolFact("TX03", "湖南师大附中", "complete", "urban", "strong", 70),
    SchoolFact("TX04", "长郡外国语实验中学", "junior", "urban", "weak", 40),
    SchoolFact("TX05", "长郡天心实验学校", "nine_year", "township", "new", 36),
    SchoolFact("TX06", "师大附中双语实验学校", "junior", "urban", "weak", 38),
    SchoolFact("TX07", "青雅丽发学校", "nine_year", "township", "new", 32),
    SchoolFact("TX08", "仰天湖小学", "primary", "urban", "strong", 60),
    SchoolFact("TX09", "龙湾小学", "primary", "township", "new", 24),
    SchoolFact("TX10", "暮云小学", "primary", "township", "weak", 22),
    SchoolFact("TX11", "黑石铺小学", "primary", "urban", "weak", 26),
    SchoolFact("TX12", "青园小学", "primary", "urban", "strong", 58),
    SchoolFact("TX13", "南托小学", "primary", "township", "weak", 20),
    SchoolFact("TX14", "大托小学", "primary", "township", "weak", 20),
    SchoolFact("TX15", "桂花坪小学", "primary", "urban", "weak", 28),
    SchoolFact("TX16", "天心区实验小学", "primary", "urban", "strong", 56),
    SchoolFact("TX17", "丰城小学", "primary", "township", "weak", 18),
)
TRUSTEESHIPS = (
    AllianceFact(
        "长郡中学托管学校", "trusteeship", "TX01", ("TX04", "TX05"), AGREEMENT,
        ("management", "teaching_research", "teachers"),
        "长郡中学派驻执行校长、副校长托管长郡外国语实验中学和新建的长郡天心实验学校,统一管理、统一教研。",
    ),
    AllianceFact(
        "湖南师大附中托管学校", "trusteeship", "TX03", ("TX06",), AGREEMENT,
        ("management", "teaching_research"),
        "湖南师大附中派驻校长托管师大附中双语实验学校,输出办学理念和管理模式。",
    ),
    AllianceFact(
        "雅礼中学托管学校", "trusteeship", "TX02", ("TX07",), AGREEMENT,
        ("management", "teaching_research", "teachers"),
        "雅礼中学派驻校长托管新建的青雅丽发学校,强团队、高起点、早规划。",
    ),
)  # fmt: skip
GROUPS = (
    AllianceFact(
        "仰天湖教育集团", "group", "TX08", ("TX09", "TX10", "TX11"), AGREEMENT,
        ("management", "teaching_research", "teachers"),
        "以仰天湖小学为龙头,城乡学校纳入集团管理,以点带面,让群众在家门口享受优质教育资源。",
    ),
    AllianceFact(
        "青园教育集团", "group", "TX12", ("TX13", "TX14", "TX15"), AGREEMENT,
        ("management", "teaching_research"),
        "以青园小学为龙头,主校带分校,定期网络送课和网络教学交流。",
    ),
)  # fmt: skip
AREA = AllianceFact(
    "暮云—南托片区联盟", "area", "TX05", ("TX07", "TX09", "TX10", "TX13", "TX14"), AGREEMENT,
    ("teaching_research", "teachers"),
    "暮云、南托、大托片区学校结成联盟,跨校开展学科教研和网络协同备课。",
)  # fmt: skip
CROSS_REGION = AllianceFact(
    "实验小学—丰城小学对口帮扶", "cross_region", "TX16", ("TX17",), AGREEMENT,
    ("teaching_research", "teachers"),
    "城区强校对口帮扶薄弱学校:丰城小学缺少经验丰富的音乐教师,实验小学委派音乐教师指导授课和艺术专项训练。",
)  # fmt: skip
ALLIANCES = (*TRUSTEESHIPS, *GROUPS, AREA, CROSS_REGION)
YEAR = YearFact(
    2026,
    dt.date(2026, 9, 1),
    dt.date(2027, 7, 15),
    {1: (dt.date(2026, 9, 1), dt.date(2027, 1, 22)), 2: (dt.date(2027, 3, 1), dt.date(2027, 7, 10))},
)
ASSESSED = ("TX04", "TX05", "TX06", "TX07")  # the 责任督学 of the trusteed schools

SPEC = CountySpec(
    code=CODE,
    name="天心区",
    province="湖南省",
    years=(YEAR,),
    schools=SCHOOLS,
    alliances=ALLIANCES,
    users=(
        ("tianxin-bureau", "bureau_staff", "周", "建明", None, ()),
        ("tianxin-bureau2", "bureau_staff", "谢", "晓红", None, ()),
        ("tianxin-lead", "lead_principal", "杨", "慧", "TX08", ()),
        # the principal 长郡中学 stationed at 长郡外国语实验中学 (the first posting below)
        ("tianxin-member", "member_principal", "彭", "志强", "TX04", ()),
        ("tianxin-assessor", "assessor", "曾", "立平", None, ASSESSED),
        ("tianxin-auditor", "auditor", "罗", "佳", None, ()),
    ),
)

# The stationed principals and vice-principals (派驻校长、副校长): (home school, name, gender, host).
STATIONED = (
    ("TX01", "彭志强", "male", "TX04"),
    ("TX01", "李文娟", "female", "TX05"),
    ("TX03", "邓晓峰", "male", "TX06"),
    ("TX02", "胡美玲", "female", "TX07"),
)
# (teacher's school, name, gender, subject, kind, host, start, end, classes, weekly periods)
TEACHING = (
    # 对口帮扶: the music teacher 实验小学 sends to 丰城小学 for the term
    ("TX16", "陈雨婷", "female", "music", Exchange.Kind.DISPATCHED, "TX17",
     dt.date(2026, 9, 7), dt.date(2027, 1, 15), 3, 6),
    # 送教: one-day lesson deliveries of the groups' lead schools
    ("TX08", "王丽华", "female", "math", Exchange.Kind.LESSON_DELIVERY, "TX10",
     dt.date(2026, 10, 22), dt.date(2026, 10, 22), 1, 2),
    ("TX12", "赵敏", "female", "chinese", Exchange.Kind.LESSON_DELIVERY, "TX13",
     dt.date(2026, 11, 12), dt.date(2026, 11, 12), 1, 2),
)  # fmt: skip
# (host, date, kind, title, schools, participants, person-times, description)
ACTIVITIES = (
    ("TX04", dt.date(2026, 9, 18), Activity.Kind.TERM_MEETING, "长郡中学托管学校学期工作推进会",
     ("TX01", "TX04", "TX05"), "托管方长郡中学、派驻校长、被托管学校行政", 26,
     "派驻校长汇报托管学校管理、课程和教研计划,统一教学常规和考核制度。"),
    ("TX05", dt.date(2026, 10, 15), Activity.Kind.TEACHING_RESEARCH, "暮云—南托片区联合教研:初中数学同课异构",
     (*AREA.members, AREA.lead), "片区各校数学教师", 48, "片区学校跨校开展学科教研和协同备课。"),
    ("TX12", dt.date(2026, 11, 5), Activity.Kind.ONLINE_LESSON, "青园教育集团网络送课",
     (*GROUPS[1].members, GROUPS[1].lead), "集团各校三年级师生", 160, "主校带分校,定期网络送课和网络教学交流。"),
    ("TX07", dt.date(2026, 11, 19), Activity.Kind.VISIT, "名师工作室\u201c问诊把脉\u201d课程建设指导",
     ("TX02", "TX07"), "名师工作室首席名师及团队成员", 12,
     "从课程名称、课程体系、培养目标等方面全方位指导学校课程建设。"),
)  # fmt: skip
# The trusteeships' task list (托管任务清单): (title, due, status)
TRUSTEESHIP_TASKS = (
    ("派驻执行校长、副校长到岗", dt.date(2026, 9, 1), PairingTask.Status.DONE),
    ("统一教学管理制度与课程体系", dt.date(2026, 12, 31), PairingTask.Status.IN_PROGRESS),
    ("学年托管成效评估", dt.date(2027, 7, 10), PairingTask.Status.PLANNED),
)


def load(ctx: Context) -> None:
    rows = load_county(ctx, SPEC)
    ctx.counties[CODE] = rows
    bureau = rows.user("tianxin-bureau")
    pairings = _pairings(ctx, rows)
    _fund(ctx, rows, bureau)
    _exchanges(ctx, rows, bureau)
    _activities(ctx, rows, bureau)
    trusteeships = {rows.alliances[(YEAR.start_year, fact.name)].pk for fact in TRUSTEESHIPS}
    _tasks(ctx, bureau, [p for p in pairings if p.alliance_id in trusteeships])


def _pairings(ctx: Context, rows: CountyRows) -> list[Pairing]:
    """The trusteeships' and the cross-region pairing's helper → helped schools."""
    pairings = []
    for fact in (*TRUSTEESHIPS, CROSS_REGION):
        alliance = rows.alliances[(YEAR.start_year, fact.name)]
        helper = rows.schools[fact.lead]
        for code in fact.members:
            pairings.append(
                ensure(
                    ctx,
                    Pairing,
                    {"alliance": alliance, "helper_school": helper, "helped_school": rows.schools[code]},
                    {
                        "agreement_date": fact.agreement,
                        "focus_areas": list(fact.focus),
                        "start_date": fact.agreement,
                        "end_date": YEAR.end,
                    },
                )
            )
    return pairings


def funding_alliance(code: str) -> str | None:
    """The alliance a district school is funded through: its trusteeship, group or pairing,
    never the area alliance it may also be in; the city's schools get no district quota."""
    if code in CITY_SCHOOLS:
        return None
    for fact in (*TRUSTEESHIPS, *GROUPS, CROSS_REGION, AREA):
        if code == fact.lead or code in fact.members:
            return fact.name
    return None


def _fund(ctx: Context, rows: CountyRows, bureau: User) -> None:
    school_year = rows.years[YEAR.start_year]
    year = ensure(
        ctx,
        FundingYear,
        {"county": rows.county, "school_year": school_year},
        {"base_quota": BASE_QUOTA, "lead_share": Decimal("0.70"), "pool_share": Decimal("0.30")},
    )
    if year.status != FundingYear.Status.DRAFT:
        return
    have = set(year.quotas.values_list("school__code", flat=True))
    for fact in SCHOOLS:
        name = funding_alliance(fact.code)
        if name is None or fact.code in have:
            continue
        funding.funding_quota_create(
            actor=bureau,
            funding_year=year,
            school=rows.schools[fact.code],
            quota=BASE_QUOTA,
            alliance=rows.alliances[(YEAR.start_year, name)],
        )
        ctx.count(FundingQuota._meta.label)
    funding.funding_year_open(actor=bureau, funding_year=year)


def _teacher(ctx: Context, rows: CountyRows, bureau: User, code: str, name: str, **fields) -> Teacher:
    school = rows.schools[code]
    teacher = Teacher.objects.filter(school=school, name=name).first()
    if teacher is None:
        teacher = staffing.teacher_create(actor=bureau, school=school, name=name, **fields)
        ctx.count(Teacher._meta.label)
    return teacher


def _exchange(ctx: Context, bureau: User, teacher: Teacher, host, kind: str, start, end, **fields) -> None:
    if Exchange.objects.filter(teacher=teacher, kind=kind, start_date=start).exists():
        return
    exchange = staffing.exchange_create(
        actor=bureau, teacher=teacher, origin_school=teacher.school, host_schools=[host], kind=kind,
        start_date=start, end_date=end, **fields,
    )  # fmt: skip
    exchange = staffing.exchange_approve(actor=bureau, exchange=exchange)
    exchange = staffing.exchange_start(actor=bureau, exchange=exchange)
    if end < dt.date(2026, 12, 1):
        staffing.exchange_complete(actor=bureau, exchange=exchange)
    ctx.count(Exchange._meta.label)


def _exchanges(ctx: Context, rows: CountyRows, bureau: User) -> None:
    """The stationed principals (挂职, for the school year), the music teacher of the targeted
    help (支教) and the groups' lesson deliveries (送教)."""
    for home, name, gender, host in STATIONED:
        teacher = _teacher(
            ctx, rows, bureau, home, name, subject="management", gender=gender, title="full_senior",
            years_of_service=22, is_key_teacher=True,
        )  # fmt: skip
        _exchange(ctx, bureau, teacher, rows.schools[host], Exchange.Kind.POSTING, YEAR.start, YEAR.end,
                  subject="management")  # fmt: skip
    for home, name, gender, subject, kind, host, start, end, classes, periods in TEACHING:
        teacher = _teacher(
            ctx, rows, bureau, home, name, subject=subject, gender=gender, title="senior", years_of_service=15,
            is_key_teacher=True,
        )  # fmt: skip
        _exchange(ctx, bureau, teacher, rows.schools[host], kind, start, end, subject=subject,
                  class_count=classes, weekly_periods=periods)  # fmt: skip


def _activities(ctx: Context, rows: CountyRows, bureau: User) -> None:
    for host, day, kind, title, schools, participants, person_times, description in ACTIVITIES:
        if Activity.objects.filter(host_school=rows.schools[host], date=day, title=title).exists():
            continue
        staffing.activity_create(
            actor=bureau, host_school=rows.schools[host], schools=[rows.schools[c] for c in schools], kind=kind,
            date=day, title=title, participants=participants, person_times=person_times, description=description,
        )  # fmt: skip
        ctx.count(Activity._meta.label)


def _tasks(ctx: Context, bureau: User, pairings: list[Pairing]) -> None:
    for pairing in pairings:
        have = set(PairingTask.objects.filter(pairing=pairing).values_list("title", flat=True))
        for title, due, status in TRUSTEESHIP_TASKS:
            if title in have:
                continue
            done = status == PairingTask.Status.DONE
            alliance_services.pairing_task_create(
                actor=bureau, pairing=pairing, title=title, due_date=due, status=status,
                responsible_person=f"{pairing.helper_school.name}派驻校长", completed_on=due if done else None,
                progress_notes="已到岗,托管协议已签订。" if done else "",
            )  # fmt: skip
            ctx.count(PairingTask._meta.label)


def logins() -> list[Login]:
    from .county import logins as county_logins

    return county_logins(SPEC)
