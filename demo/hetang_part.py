"""A Hetang-like district (seed 004, 荷塘区): two education groups led by 荷塘小学 and the
district's 实验小学, and its responsible supervisors (责任督学) who visit each assigned school
at least monthly (campus tour, reports, unannounced lesson observation, talks, documents),
record findings and rectification items (整改) that the school answers and the supervisor
closes, and hold the quarterly feedback meeting (季度督导情况反馈点评会).

Its only school year is 2026–2027, which covers today's date: the autumn term's visits of
September to November are logged; 八达小学 went unvisited in October (the grid's gap), and of
three rectification items one is closed, one answered and one still open.
Visits and rectifications go through ``staffing.services``, as a supervisor logs them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from staffing import services as staffing
from staffing.models import Activity, Rectification, SupervisionVisit

from .baihe_part import fund_years
from .core import Context, rng
from .county import CountySpec, YearFact, load_county
from .data import AllianceFact, SchoolFact

CODE = "430202"
BASE_QUOTA = Decimal("100000.00")

SCHOOLS = (
    SchoolFact("HT01", "荷塘小学", "primary", "urban", "strong", 62),
    SchoolFact("HT02", "美的学校", "nine_year", "urban", "new", 30),
    SchoolFact("HT03", "八达小学", "primary", "urban", "weak", 28),
    SchoolFact("HT04", "金山小学", "primary", "township", "weak", 24),
    SchoolFact("HT05", "荷塘区实验小学", "primary", "urban", "strong", 58),
    SchoolFact("HT06", "博雅小学", "primary", "urban", "weak", 32),
    SchoolFact("HT07", "红旗路小学", "primary", "urban", "weak", 26),
    SchoolFact("HT08", "六〇一中英文小学", "primary", "urban", "weak", 30),
)
ALLIANCES = (
    AllianceFact(
        "荷塘小学教育集团",
        "group",
        "HT01",
        ("HT02", "HT03", "HT04"),
        dt.date(2026, 9, 1),
        ("management", "teaching_research", "teachers"),
        "以百年名校荷塘小学为龙头校,薄弱校、新建校为成员校,统一集团文化建设,师资交流到位、优质资源共享。",
    ),
    AllianceFact(
        "荷塘区实验小学教育集团",
        "group",
        "HT05",
        ("HT06", "HT07", "HT08"),
        dt.date(2026, 9, 1),
        ("management", "teaching_research"),
        "实验小学牵头,集团内联片教研、师资交流。",
    ),
)
YEAR = YearFact(
    2026,
    dt.date(2026, 9, 1),
    dt.date(2027, 7, 15),
    {1: (dt.date(2026, 9, 1), dt.date(2027, 1, 22)), 2: (dt.date(2027, 3, 1), dt.date(2027, 7, 10))},
)
SUPERVISORS = {
    "hetang-supervisor": ("HT01", "HT02", "HT03", "HT04"),
    "hetang-supervisor2": ("HT05", "HT06", "HT07", "HT08"),
}

SPEC = CountySpec(
    code=CODE,
    name="荷塘区",
    province="湖南省",
    years=(YEAR,),
    schools=SCHOOLS,
    alliances=ALLIANCES,
    users=(
        ("hetang-bureau", "bureau_staff", "韩", "永斌", None, ()),
        ("hetang-bureau2", "bureau_staff", "唐", "彩金", None, ()),
        ("hetang-lead", "lead_principal", "王", "新权", "HT01", ()),
        ("hetang-member", "member_principal", "刘", "博", "HT03", ()),
        ("hetang-supervisor", "assessor", "刘", "影", None, SUPERVISORS["hetang-supervisor"]),
        ("hetang-supervisor2", "assessor", "文", "铁清", None, SUPERVISORS["hetang-supervisor2"]),
        ("hetang-auditor", "auditor", "邹", "亮", None, ()),
    ),
)

# The month 八达小学 was not visited: the grid's gap.
GAP = ("HT03", 10)
FORMS = [f.value for f in SupervisionVisit.Form]
FINDINGS = (
    "校园整洁有序,大课间组织规范;推门听课两节,课堂提问面较窄。",
    "听取学校工作汇报,查阅教学常规资料;作业批改记录不全。",
    "走访师生,养成教育成效明显;安全台账需按月更新。",
)
# (school, month of the visit, item, due date, how far it got)
RECTIFICATIONS = (
    ("HT03", 9, "完善作业批改记录,建立分层作业检查制度。", dt.date(2026, 10, 31), "closed"),
    ("HT01", 11, "安全工作台账按月更新,补齐10月消防演练记录。", dt.date(2026, 11, 30), "answered"),
    ("HT02", 11, "新教师推门课后的跟进指导记录归档。", dt.date(2026, 12, 20), "open"),
)


def load(ctx: Context) -> None:
    rows = load_county(ctx, SPEC)
    ctx.counties[CODE] = rows
    # The district's groups are funded like the others (the lead school plans the 70 %).
    fund_years(ctx, rows, rows.user("hetang-bureau"), BASE_QUOTA)
    draw = rng("hetang-visits")
    logged = set(SupervisionVisit.objects.filter(school__county=rows.county).values_list("school__code", "date"))
    visits: dict[tuple[str, int], SupervisionVisit] = {}
    for username, codes in SUPERVISORS.items():
        supervisor = rows.user(username)
        for code in codes:
            for month in (9, 10, 11):
                day = dt.date(2026, month, draw.randint(8, 26))
                forms = sorted(draw.sample(FORMS, draw.randint(2, 4)))
                findings = draw.choice(FINDINGS)
                if (code, month) == GAP:
                    continue
                if (code, day) in logged:
                    visits[(code, month)] = SupervisionVisit.objects.get(school=rows.schools[code], date=day)
                    continue
                visits[(code, month)] = staffing.supervision_visit_create(
                    actor=supervisor, school=rows.schools[code], date=day, forms=forms, findings=findings
                )
                ctx.count(SupervisionVisit._meta.label)
    _rectifications(ctx, rows, visits)
    _quarterly_meeting(ctx, rows)


def _rectifications(ctx: Context, rows, visits) -> None:
    principals = {"HT01": rows.user("hetang-lead"), "HT03": rows.user("hetang-member")}
    for code, month, item, due, state in RECTIFICATIONS:
        visit = visits[(code, month)]
        if Rectification.objects.filter(visit=visit, item=item).exists():
            continue
        supervisor = visit.supervisor
        rectification = staffing.rectification_create(actor=supervisor, visit=visit, item=item, due_date=due)
        ctx.count(Rectification._meta.label)
        if state in ("answered", "closed"):
            rectification = staffing.rectification_answer(
                actor=principals[code], rectification=rectification, answer="已按要求整改,相关记录已补齐并归档。"
            )
        if state == "closed":
            staffing.rectification_close(actor=supervisor, rectification=rectification)


def _quarterly_meeting(ctx: Context, rows) -> None:
    title = "季度督导情况反馈点评会"
    day = dt.date(2026, 11, 27)
    host = rows.schools["HT05"]
    if Activity.objects.filter(host_school=host, date=day, title=title).exists():
        return
    staffing.activity_create(
        actor=rows.user("hetang-bureau"),
        host_school=host,
        schools=list(rows.schools.values()),
        kind=Activity.Kind.QUARTERLY_SUPERVISION_MEETING,
        date=day,
        title=title,
        participants="责任督学、各校校长",
        person_times=2 * len(rows.schools),
        description="逐一分析每所学校的亮点与不足,横向和纵向综合比较,给出合理性建议。",
    )
    ctx.count(Activity._meta.label)


def logins() -> list[tuple[str, str, str, str]]:
    from .county import logins as county_logins

    return county_logins(SPEC)
