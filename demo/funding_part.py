"""The demo county's funding year (seed 000): 200,000 CNY per school, 70 % to the alliance
funds, 30 % to the county award pool; a plan per alliance approved by the bureau (one sent
back once first), and a term of spending on it.

Everything goes through ``funding.services`` (opening books the allocation, plans are checked
against the fund, spending against its line), so ``ledger_check`` holds after the load.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from funding import models, services

from . import data
from .core import Context, add_new, ensure, rng

# Share of each member school's part of the fund, by category (adds up to 1, with a reserve
# of what is not planned yet). Seed 000: aid for poor pupils, rewards, new clubs; seed 003:
# teaching research and training.
CATEGORY_WEIGHTS = (
    ("teaching_research", Decimal("0.30")),
    ("training", Decimal("0.20")),
    ("student_aid", Decimal("0.15")),
    ("clubs", Decimal("0.12")),
    ("equipment", Decimal("0.15")),
)
LINE_NOTES = {
    "teaching_research": "同课异构、集体备课、联合教研的专家和资料费用",
    "training": "青年教师跟岗学习、骨干教师培训",
    "student_aid": "优秀学子激励、贫困学子补助",
    "clubs": "陶笛、足球、田径等特色社团,校外专业师资辅导",
    "equipment": "教室和宿舍风扇、学生过冬衣被、图书",
}
PAYEES = {
    "teaching_research": ("县教研室", "衡阳市教育科学研究院", "湖南教育出版社"),
    "training": ("县教师发展中心", "衡阳师范学院继续教育学院"),
    "student_aid": ("受助学生家庭(银行代发)",),
    "clubs": ("衡南县体育运动学校", "衡阳市群艺馆"),
    "equipment": ("衡南县云集电器商行", "衡阳市新华书店", "衡南县被服厂"),
}
FEN = Decimal("0.01")
YUAN_100 = Decimal("100")


def load(ctx: Context) -> None:
    year = _open_year(ctx)
    plans = _approved_plans(ctx, year)
    _spend(ctx, plans)
    ctx.funding_year = year


def _open_year(ctx: Context):
    year = ensure(
        ctx,
        models.FundingYear,
        {"county": ctx.county, "school_year": ctx.school_year},
        {"base_quota": data.BASE_QUOTA, "lead_share": data.LEAD_SHARE, "pool_share": data.POOL_SHARE},
    )
    if year.status == models.FundingYear.Status.DRAFT:
        # Every school in an alliance is funded at the base quota (the service's default).
        added = services.funding_quotas_default(actor=ctx.bureau, funding_year=year)
        ctx.count(models.FundingQuota._meta.label, added)
        year = services.funding_year_open(actor=ctx.bureau, funding_year=year)
        ctx.note(_("  funding: the year is open and its 70/30 allocation booked"))
    return year


def _round_down_100(amount: Decimal) -> Decimal:
    return (amount / YUAN_100).to_integral_value(rounding="ROUND_FLOOR") * YUAN_100


def _approved_plans(ctx: Context, year) -> list:
    SpendingPlan, PlanLine = models.SpendingPlan, models.PlanLine
    draw = rng("plans")
    plans = []
    for index, fact in enumerate(data.ALLIANCES):
        alliance = ctx.alliances[fact.name]
        lead_principal = ctx.principal_of(fact.lead)
        # Plan between 85 % and 100 % of the alliance fund: 70 % of every school's quota.
        planned_share = Decimal(draw.randint(85, 100)) / 100
        existing = SpendingPlan.objects.filter(funding_year=year, alliance=alliance).order_by("-revision").first()
        if existing is not None:
            plans.append(existing)
            continue
        fund = data.BASE_QUOTA * data.LEAD_SHARE * (1 + len(fact.members))
        per_member = fund * planned_share / len(fact.members)
        plan = services.spending_plan_create(
            actor=lead_principal,
            funding_year=year,
            alliance=alliance,
            notes=f"{fact.name}2025–2026学年70%结对经费使用计划:重点保障成员校补短强弱、教育科研、师资培训。",
        )
        ctx.count(SpendingPlan._meta.label)
        lines = [
            PlanLine(
                plan=plan,
                school=ctx.schools[code],
                category=category,
                amount=_round_down_100(per_member * weight),
                notes=LINE_NOTES[category],
            )
            for code in fact.members
            for category, weight in CATEGORY_WEIGHTS
        ]
        add_new(ctx, PlanLine, lines)
        plan = services.spending_plan_submit(actor=lead_principal, plan=plan)
        if index == 1:
            # One plan is sent back once and resubmitted: the bureau's review is part of the demo.
            plan = services.spending_plan_return(
                actor=ctx.second_bureau, plan=plan, reason="学生资助比例偏低,请结合受援校贫困学子情况调整后重新提交。"
            )
            # More student aid, less equipment: the total stays within the fund.
            moved = Decimal("2000.00")
            changed = [line for line in lines if line.category in ("student_aid", "equipment")]
            for line in changed:
                line.amount += moved if line.category == "student_aid" else -moved
            PlanLine.objects.bulk_update(changed, ["amount"])
            plan = services.spending_plan_submit(actor=lead_principal, plan=plan)
        plans.append(services.spending_plan_approve(actor=ctx.bureau, plan=plan))
    return plans


def _spend(ctx: Context, plans) -> None:
    """A term of spending: on most lines one or two records, 35–100 % of the line."""
    SpendingRecord = models.SpendingRecord
    draw = rng("spending")
    done = set(
        SpendingRecord.objects.filter(plan_line__plan__in=plans).values_list("plan_line_id", "date", "payee", "amount")
    )
    for plan in plans:
        lines = list(plan.lines.select_related("school").order_by("school__code", "category"))
        # Alliances differ in how fast they spend: the execution rate is an indicator.
        pace = draw.choice((Decimal("0.45"), Decimal("0.6"), Decimal("0.75"), Decimal("0.85")))
        for line in lines:
            if draw.random() < 0.2:
                continue
            parts = draw.choice((1, 1, 2))
            total = min(_round_down_100(line.amount * pace * Decimal(draw.randint(80, 118)) / 100), line.amount)
            for k in range(parts):
                amount = (total / parts).quantize(FEN)
                day = dt.date(2025, draw.choice((10, 11, 12)), draw.randint(1, 28)) + dt.timedelta(days=31 * k)
                payee = draw.choice(PAYEES[line.category])
                if amount <= 0 or (line.pk, day, payee, amount) in done:
                    continue
                # The member school's principal records its own spending.
                services.spending_record_create(
                    actor=ctx.principal_of(_code_of(ctx, line.school_id)),
                    plan_line=line,
                    date=day,
                    amount=amount,
                    payee=payee,
                    description=f"{line.school.name}:{LINE_NOTES[line.category]}",
                )
                ctx.count(SpendingRecord._meta.label)


def _code_of(ctx: Context, school_id: int) -> str:
    return next(code for code, school in ctx.schools.items() if school.pk == school_id)
