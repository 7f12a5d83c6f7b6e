"""A Baihe-shaped county (seed 003, 白河县): 58 compulsory-education schools in 9 close-knit
communities (规模相宜、学段相同、距离相近、强弱搭配), evaluated together (捆绑式考核) on the seven
dimensions of the article, in two terms and a school year; a few schools fall from the first
term to the second (连续下滑 is flagged after one fall here), and the school year is published
with its awards under four eyes by two bureau users, through the services. The 2026–2027 school
year, re-formed with the same communities, covers today's date.

The county evaluates by its assessors' scores (考核) rather than logged data: the rubric has the
article's dimensions with manual and survey indicators only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation import services as evaluation
from evaluation.models import (
    AwardPolicy,
    EvaluationPeriod,
    EvaluationRun,
    Indicator,
    IndicatorValue,
    Rubric,
)
from evaluation.services.default_rubric import default_rubric_structure
from funding import services as funding
from funding.models import FundingQuota, FundingYear

from .core import Context, add_new, ensure, rng
from .county import CountyRows, CountySpec, YearFact, load_county
from .data import AllianceFact, SchoolFact

CODE = "610929"
BASE_QUOTA = Decimal("100000.00")

YEARS = (
    YearFact(
        2025,
        dt.date(2025, 9, 1),
        dt.date(2026, 7, 15),
        {1: (dt.date(2025, 9, 1), dt.date(2026, 1, 20)), 2: (dt.date(2026, 3, 2), dt.date(2026, 7, 10))},
    ),
    YearFact(
        2026,
        dt.date(2026, 9, 1),
        dt.date(2027, 7, 15),
        {1: (dt.date(2026, 9, 1), dt.date(2027, 1, 22)), 2: (dt.date(2027, 3, 1), dt.date(2027, 7, 10))},
    ),
)

# (community, core school, stage, member schools): 9 communities, 58 schools.
COMMUNITIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("城关初中教共体", "白河县城关初级中学", "junior",
     ("白河县第二初级中学", "中厂初级中学", "构扒初级中学", "卡子初级中学", "宋家初级中学", "西营初级中学")),
    ("城关小学教共体", "白河县城关小学", "primary",
     ("桥儿沟小学", "大双小学", "小双小学", "狮子山小学", "红石小学", "天宝小学")),
    ("城关镇小学教共体", "白河县城关镇中心小学", "primary",
     ("东坡小学", "南岔小学", "马庄小学", "太平小学", "龙湾小学", "白河县城南新区小学")),
    ("中厂镇教共体", "中厂镇中心小学", "primary",
     ("金华小学", "铜矿小学", "白石小学", "凉水小学", "三官小学")),
    ("构扒镇教共体", "构扒镇中心小学", "primary",
     ("厚子小学", "新庄小学", "黄龙小学", "朝阳小学", "花园小学")),
    ("卡子镇教共体", "卡子镇中心小学", "primary",
     ("陈庄小学", "长兴小学", "兴隆小学", "平定小学", "柏树小学")),
    ("茅坪镇教共体", "茅坪镇中心学校", "nine_year",
     ("茅坪九年制学校", "茶坊九年制学校", "堰坪九年制学校", "钟家九年制学校", "柳树九年制学校")),
    ("仓上镇教共体", "仓上镇中心小学", "primary",
     ("关庙小学", "大山小学", "小河小学", "青山小学", "丰收小学", "药树小学")),
    ("冷水镇教共体", "冷水镇中心小学", "primary",
     ("双河小学", "水磨小学", "梁家小学", "五里小学", "高桥小学")),
)  # fmt: skip


def _facts() -> tuple[tuple[SchoolFact, ...], tuple[AllianceFact, ...]]:
    draw = rng("baihe-schools")
    schools, alliances, n = [], [], 0
    for index, (community, core, stage, members) in enumerate(COMMUNITIES):
        codes = []
        for k, name in enumerate((core, *members)):
            n += 1
            code = f"BH{n:03d}"
            codes.append(code)
            if k == 0:
                location, strength, staff = ("urban" if index < 3 else "township"), "strong", draw.randint(40, 70)
            else:
                location = "urban" if index < 3 and k <= 2 else "rural"
                strength = "new" if "新区" in name else "weak"
                staff = draw.randint(8, 26)
            schools.append(SchoolFact(code, name, stage, location, strength, staff))
        alliances.append(
            AllianceFact(
                community,
                "community",
                codes[0],
                tuple(codes[1:]),
                dt.date(2025, 9, 1),
                ("management", "teaching_research", "teachers", "funds"),
                f"{core}为核心校,核心校校长任教共体总校长并兼任成员校法定代表人;管理共进、师资共用、资源共享、文化共融、考核共评。",
            )
        )
    return tuple(schools), tuple(alliances)


SCHOOLS, ALLIANCES = _facts()
_CORES = {a.lead for a in ALLIANCES}
# The first community's schools are the assessor's (责任督学).
ASSESSED = (ALLIANCES[0].lead, *ALLIANCES[0].members)

SPEC = CountySpec(
    code=CODE,
    name="白河县",
    province="陕西省",
    years=YEARS,
    schools=SCHOOLS,
    alliances=ALLIANCES,
    users=(
        ("baihe-bureau", "bureau_staff", "陈", "建国", None, ()),
        ("baihe-bureau2", "bureau_staff", "柯", "敏", None, ()),
        ("baihe-lead", "lead_principal", "冯", "立新", ALLIANCES[0].lead, ()),
        ("baihe-member", "member_principal", "黄", "小燕", ALLIANCES[0].members[0], ()),
        ("baihe-assessor", "assessor", "吴", "海涛", None, ASSESSED),
        ("baihe-auditor", "auditor", "宋", "佳琳", None, ()),
    ),
)

# Schools whose results fall from the first term to the second (a decline warning each).
DECLINING = ("BH012", "BH027", "BH045")
LEVEL = {"strong": (88, 95), "weak": (68, 86), "new": (74, 84)}


def load(ctx: Context) -> None:
    rows = load_county(ctx, SPEC)
    ctx.counties[CODE] = rows
    year = rows.years[2025]
    _fund(ctx, rows)
    rubric = Rubric.objects.filter(county=rows.county, school_year=year).order_by("-version").first()
    if rubric is None:
        rubric = evaluation.rubric_create(
            actor=rows.user("baihe-bureau"),
            county=rows.county,
            school_year=year,
            structure=_assessed_structure(),
            name="白河县紧密型城乡教共体考核方案(2025–2026学年)",
            decline_periods=1,
        )
        ctx.count(Rubric._meta.label)
    ensure(
        ctx,
        AwardPolicy,
        {"county": rows.county, "school_year": year},
        # The school-year period pays the whole pool; the terms score and warn.
        {"kind": "proportional", "pass_threshold": Decimal("60.00"), "fill_pool": True},
    )
    periods = []
    for term in (rows.terms[(2025, 1)], rows.terms[(2025, 2)], None):
        period = EvaluationPeriod.objects.filter(county=rows.county, school_year=year, term=term).first()
        if period is None:
            period = evaluation.period_create(actor=rows.user("baihe-bureau"), school_year=year, term=term)
            ctx.count(EvaluationPeriod._meta.label)
        periods.append(period)
    for period in periods:
        _enter_values(ctx, rows, rubric, period)
    if any(p.status == EvaluationPeriod.Status.OPEN for p in periods):
        run = evaluation.evaluation_run(county=rows.county, start_year=2025, trigger="load_demo")
        ctx.count(EvaluationRun._meta.label)
        ctx.note(
            _("  evaluation: %(county)s run %(status)s, %(schools)d schools scored")
            % {"county": rows.county, "status": run.get_status_display(), "schools": run.schools_count}
        )
    for period in periods:
        _publish(ctx, rows, period)


def _fund(ctx: Context, rows: CountyRows) -> None:
    """Both school years funded at the base quota, 70/30, and open (the current one's core
    schools plan their funds from today)."""
    fund_years(ctx, rows, rows.user("baihe-bureau"), BASE_QUOTA)


def fund_years(ctx: Context, rows: CountyRows, bureau, base_quota: Decimal) -> None:
    for school_year in rows.years.values():
        year = ensure(
            ctx,
            FundingYear,
            {"county": rows.county, "school_year": school_year},
            {"base_quota": base_quota, "lead_share": Decimal("0.70"), "pool_share": Decimal("0.30")},
        )
        if year.status == FundingYear.Status.DRAFT:
            ctx.count(FundingQuota._meta.label, funding.funding_quotas_default(actor=bureau, funding_year=year))
            funding.funding_year_open(actor=bureau, funding_year=year)


def _assessed_structure() -> list[dict]:
    """The seven dimensions of the default rubric, every indicator scored by the assessors
    (0–100, full points at 100) or by the satisfaction surveys."""
    structure = default_rubric_structure()
    for dimension in structure:
        for indicator in dimension["indicators"]:
            if indicator["method"] == Indicator.Method.COMPUTED:
                indicator.update(
                    method=Indicator.Method.MANUAL,
                    metric_key="",
                    rule=Indicator.Rule.TARGET,
                    rule_params={"target": "100"},
                    direction="higher",
                    value_min=Decimal(0),
                    value_max=Decimal(100),
                )
    return structure


def _levels() -> dict[str, tuple[int, int]]:
    """Each school's level in the first term and the change to the second, drawn once."""
    draw = rng("baihe-levels")
    levels = {}
    for fact in SCHOOLS:
        low, high = LEVEL[fact.strength]
        level = draw.randint(low, high)
        change = -draw.randint(7, 10) if fact.code in DECLINING else draw.randint(0, 4)
        levels[fact.code] = (level, change)
    return levels


def _enter_values(ctx: Context, rows: CountyRows, rubric: Rubric, period: EvaluationPeriod) -> None:
    if period.status != EvaluationPeriod.Status.OPEN or IndicatorValue.objects.filter(period=period).exists():
        return
    draw = rng(f"baihe-values-{period.kind}-{period.term_id and period.term.number}")  # type: ignore[union-attr]
    levels = _levels()
    indicators = list(
        Indicator.objects.filter(dimension__rubric=rubric).exclude(method=Indicator.Method.COMPUTED).order_by("pk")
    )
    assessor, bureau = rows.user("baihe-assessor"), rows.user("baihe-bureau")
    values = []
    for fact in SCHOOLS:
        level, change = levels[fact.code]
        if period.kind == EvaluationPeriod.Kind.YEAR:
            level += change // 2
        elif period.term.number == 2:  # type: ignore[union-attr]
            level += change
        for indicator in indicators:
            if indicator.method == Indicator.Method.SURVEY:
                value = Decimal(str(round(min(99.5, draw.uniform(level + 4, level + 12)), 1)))
            else:
                value = Decimal(max(0, min(100, level + draw.randint(-5, 5))))
            values.append((fact.code, indicator, value))
    # The first value through the service (it checks the period and locks the rubric); the
    # other ~1,400 of the period in one insert, each validated as the model does.
    code, indicator, value = values[0]
    who = assessor if code in ASSESSED else bureau
    evaluation.indicator_value_set(
        actor=who, period=period, indicator=indicator, school=rows.schools[code], value=value, comment="考核评分"
    )
    add_new(
        ctx,
        IndicatorValue,
        [
            IndicatorValue(
                period=period,
                indicator=indicator,
                school=rows.schools[code],
                value=value,
                comment="问卷调查" if indicator.method == Indicator.Method.SURVEY else "考核评分",
                entered_by=assessor if code in ASSESSED else bureau,
            )
            for code, indicator, value in values[1:]
        ],
    )
    ctx.count(IndicatorValue._meta.label)


def _publish(ctx: Context, rows: CountyRows, period: EvaluationPeriod) -> None:
    """Proposed by one bureau user, approved by the other after the public notice (公示) that
    ran, in the demo's calendar, at the period's end."""
    period.refresh_from_db()
    if period.status == EvaluationPeriod.Status.PUBLISHED:
        return
    period = evaluation.publication_propose(actor=rows.user("baihe-bureau"), period=period, notice_days=7)
    # The notice is over: it ran for seven days after the period's end.
    ended = timezone.make_aware(dt.datetime.combine(period.end_date + dt.timedelta(days=8), dt.time(9, 0)))
    EvaluationPeriod.objects.filter(pk=period.pk).update(proposed_at=ended - dt.timedelta(days=7), notice_ends_at=ended)
    period.refresh_from_db()
    evaluation.publication_approve(actor=rows.user("baihe-bureau2"), period=period)
    ctx.note(_("  evaluation: %(period)s of %(county)s published") % {"period": period, "county": rows.county})


def logins() -> list[tuple[str, str, str, str]]:
    from .county import logins as county_logins

    return county_logins(SPEC)
