"""The demo county's teachers, a term of exchanges, mentoring pairs and activities.

The plan is drawn in memory first, from fixed seeds and the fixed data only, and then applied
row by row through natural keys: a second run draws the same plan and finds every row.
Exchanges go through ``staffing.services`` (the no-overlap rule, host checks, the
cross-alliance flag, the status workflow), so the demo obeys the rules users meet.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from . import data
from .core import AS_OF, Context, add_new, ensure, rng

SUBJECT_ZH = {
    "chinese": "语文",
    "math": "数学",
    "english": "英语",
    "physics": "物理",
    "chemistry": "化学",
    "biology": "生物",
    "morality_law": "道德与法治",
    "history": "历史",
    "geography": "地理",
    "science": "科学",
    "music": "音乐",
    "art": "美术",
    "pe": "体育",
    "it": "信息技术",
    "management": "学校管理",
}
MAIN_SUBJECTS = ("chinese", "math", "english")
GRADES = {
    "primary": ("一", "二", "三", "四", "五", "六"),
    "nine_year": ("三", "四", "五", "六", "七", "八", "九"),
    "junior": ("七", "八", "九"),
    "complete": ("七", "八", "九", "高一", "高二"),
    "senior": ("高一", "高二", "高三"),
}


@dataclass
class TeacherFact:
    school: str
    name: str
    gender: str
    subject: str
    title: str
    years: int
    key: bool


@dataclass
class ExchangeFact:
    kind: str
    school: str
    teacher: str
    hosts: tuple[str, ...]
    start: dt.date
    end: dt.date
    status: str
    subject: str = ""
    class_count: int = 0
    classes: str = ""
    weekly_periods: int = 0
    cancel_reason: str = ""


@dataclass
class MentorFact:
    mentor: tuple[str, str]
    mentee: tuple[str, str]
    start: dt.date
    goals: str
    meetings: list[tuple[dt.date, str, str]] = field(default_factory=list)


def load(ctx: Context) -> None:
    try:
        models = importlib.import_module("staffing.models")
    except ImportError:
        models = None
    if models is None or not hasattr(models, "Teacher"):
        ctx.note(_("  staffing: no staffing models in this tree yet; teachers and exchanges skipped"))
        return
    roster = plan_teachers()
    _load_teachers(ctx, models, roster)
    services = _module("staffing.services")
    if services is None or not hasattr(services, "exchange_create"):
        ctx.note(_("  staffing: staffing.services.exchange_create is missing; exchanges skipped"))
    else:
        _load_exchanges(ctx, models, services, plan_exchanges(roster))
    _load_mentoring(ctx, models, plan_mentoring(roster))
    _load_activities(ctx, models, plan_activities(roster))


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# --- teachers ------------------------------------------------------------------------------


def _weighted(draw: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return draw.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _name(draw: random.Random, gender: str, used: set[str]) -> str:
    while True:
        surname = draw.choice(data.COMPOUND_SURNAMES) if draw.random() < 0.02 else draw.choice(data.SURNAMES)
        pool = data.GIVEN_FEMALE if gender == "female" else data.GIVEN_MALE
        given = draw.choice(pool) if draw.random() < 0.35 else draw.choice(data.GIVEN_ANY + pool) + draw.choice(pool)
        name = surname + given
        if name not in used:
            used.add(name)
            return name


def _title_for(draw: random.Random, years: int, strong: bool) -> str:
    if years < 3:
        return "none"
    if years < 8:
        return "second"
    if years < 16:
        return "first" if draw.random() < 0.85 else "second"
    if years >= 25 and strong and draw.random() < 0.25:
        return "full_senior"
    return "senior" if draw.random() < (0.6 if strong else 0.35) else "first"


def plan_teachers() -> dict[str, list[TeacherFact]]:
    """The whole registry, per school code: the articles' named teachers, then drawn ones."""
    draw = rng("teachers")
    used = {t[1] for t in data.SEED_TEACHERS}
    roster: dict[str, list[TeacherFact]] = {}
    for school in data.SCHOOLS:
        staff = [TeacherFact(*t) for t in data.SEED_TEACHERS if t[0] == school.code]
        strong = school.strength == "strong"
        while len(staff) < school.staff:
            primary = school.stage in ("primary", "nine_year")
            gender = "female" if draw.random() < (0.7 if primary else 0.55) else "male"
            years = draw.choice((1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 25, 28, 31))
            title = _title_for(draw, years, strong)
            key = title in ("first", "senior", "full_senior") and draw.random() < (0.4 if strong else 0.15)
            subject = _weighted(draw, data.SUBJECTS_BY_STAGE[school.stage])
            # Every school keeps its core subjects covered.
            if len(staff) < len(MAIN_SUBJECTS):
                subject = MAIN_SUBJECTS[len(staff)]
            staff.append(TeacherFact(school.code, _name(draw, gender, used), gender, subject, title, years, key))
        roster[school.code] = staff
    return roster


def _load_teachers(ctx: Context, models, roster: dict[str, list[TeacherFact]]) -> None:
    Teacher = models.Teacher
    schools = ctx.schools
    existing = {(t.school_id, t.name): t for t in Teacher.objects.filter(school__county=ctx.county)}
    new = []
    for code, staff in roster.items():
        for fact in staff:
            if (schools[code].pk, fact.name) in existing:
                continue
            teacher = Teacher(
                school=schools[code],
                name=fact.name,
                gender=fact.gender,
                subject=fact.subject,
                title=fact.title,
                years_of_service=fact.years,
                is_key_teacher=fact.key,
                active=True,
            )
            # Field choices and ranges; the school is ours, no need for a query per row.
            teacher.clean_fields(exclude=["school"])
            new.append(teacher)
    if new:
        # No service logic applies to a registry row; one insert keeps the load fast.
        Teacher.objects.bulk_create(new)
        ctx.count(Teacher._meta.label, len(new))
    by_pk = {s.pk: code for code, s in schools.items()}
    for teacher in Teacher.objects.filter(school__county=ctx.county):
        ctx.teachers[(by_pk[teacher.school_id], teacher.name)] = teacher


# --- exchanges -----------------------------------------------------------------------------

TERM1 = data.TERM_TEACHING
YEAR_LONG = (dt.date(2025, 9, 1), dt.date(2026, 7, 10))
TERM2 = (dt.date(2026, 2, 23), dt.date(2026, 7, 3))


class _Picker:
    """Chooses teachers for postings; a teacher holds at most one posting in the plan."""

    def __init__(self, roster: dict[str, list[TeacherFact]], draw: random.Random) -> None:
        self.roster = roster
        self.draw = draw
        self.busy: set[tuple[str, str]] = set()

    def take(self, school: str, *, key: bool | None = None, young: bool = False, subjects=()) -> TeacherFact:
        free = [t for t in self.roster[school] if (t.school, t.name) not in self.busy]
        ranked = [
            t
            for t in free
            if (key is None or t.key == key) and (not young or t.years <= 6) and (not subjects or t.subject in subjects)
        ]
        teacher = self.draw.choice(ranked or free)
        self.busy.add((teacher.school, teacher.name))
        return teacher

    def named(self, school: str, name: str) -> TeacherFact:
        self.busy.add((school, name))
        return next(t for t in self.roster[school] if t.name == name)


def _classes(draw: random.Random, stage: str, n: int) -> str:
    grade = draw.choice(GRADES[stage])
    first = draw.randint(1, 3)
    return "、".join(f"{grade}({first + i})班" for i in range(n))


def plan_exchanges(roster: dict[str, list[TeacherFact]]) -> list[ExchangeFact]:
    draw = rng("exchanges")
    pick = _Picker(roster, draw)
    stage = {s.code: s.stage for s in data.SCHOOLS}
    plan: list[ExchangeFact] = []

    def teaching(kind, teacher, hosts, dates, status, *, classes=None, **extra):
        n = classes if classes is not None else draw.randint(1, 3)
        periods = n * (5 if teacher.subject in MAIN_SUBJECTS else 2)
        plan.append(
            ExchangeFact(
                kind,
                teacher.school,
                teacher.name,
                tuple(hosts),
                dates[0],
                dates[1],
                status,
                subject=teacher.subject,
                class_count=n,
                classes=_classes(draw, stage[hosts[0]], n) if n else "",
                weekly_periods=periods,
                **extra,
            )
        )

    # The articles' own postings (seed 000).
    hua = pick.named("HN001", "华朝霞")
    plan.append(
        ExchangeFact(
            "dispatched",
            "HN001",
            hua.name,
            ("HN002",),
            *YEAR_LONG,
            "active",
            "english",
            3,
            "七(1)班、七(2)班、八(1)班",
            12,
        )
    )
    yang = pick.named("HN001", "阳小勇")
    plan.append(ExchangeFact("posting", "HN001", yang.name, ("HN002",), *YEAR_LONG, "active", "management"))
    for name, host in (("夏露菲", "HN005"), ("李海军", "HN006")):
        teaching("dispatched", pick.named("HN004", name), [host], YEAR_LONG, "active", classes=2)
    teaching("shadowing", pick.named("HN006", "倪燕华"), ["HN004"], TERM1, "completed", classes=1)

    for alliance in data.ALLIANCES:
        lead, members = alliance.lead, alliance.members
        for member in members:
            # 支教: fixed term, fixed people, fixed subjects (定期定人定科目).
            teaching("dispatched", pick.take(lead, key=True), [member], TERM1, "completed")
        # 跟岗: a young teacher of a member school learns at the lead school.
        member = members[-1]
        teaching("shadowing", pick.take(member, young=True), [lead], (dt.date(2025, 10, 8), dt.date(2025, 12, 26)),
                 "completed", classes=1)  # fmt: skip
        # 送教: a one-day event, not a posting.
        day = dt.date(2025, draw.choice((10, 11, 12)), draw.randint(3, 26))
        teacher = draw.choice([t for t in roster[lead] if t.key] or roster[lead])
        teaching("lesson_delivery", teacher, [members[0]], (day, day), "completed", classes=1)
        if len(members) >= 2:
            # 轮岗 both ways for the school year.
            teaching("rotation", pick.take(lead), [members[0]], YEAR_LONG, "active")
            teaching("rotation", pick.take(members[-1]), [lead], YEAR_LONG, "active")
        elif "management" in alliance.focus:
            # 挂职: the lead school's deputy serves as its one member's vice principal.
            plan.append(
                ExchangeFact(
                    "posting", lead, pick.take(lead, key=True).name, members, *YEAR_LONG, "active", "management"
                )
            )
        if len(members) >= 2:
            # 走教: one music, art or PE teacher for several small schools.
            teacher = pick.take(lead, subjects=("music", "art", "pe"))
            teaching("itinerant", teacher, list(members[:2]), TERM1, "completed", classes=4)
        # The spring term: approved and still-planned postings.
        teaching("dispatched", pick.take(lead, key=True), [members[0]], TERM2,
                 "approved" if draw.random() < 0.6 else "planned")  # fmt: skip

    # 代岗, 智教/同步课堂, a cancelled shadowing and a cross-alliance lesson delivery.
    teaching("substitute", pick.take("HN005"), ["HN004"], (dt.date(2025, 11, 3), dt.date(2025, 12, 19)), "completed")
    online = pick.take("HN017", subjects=MAIN_SUBJECTS)
    teaching("online", online, ["HN018"], (dt.date(2025, 9, 15), dt.date(2026, 1, 9)), "completed", classes=1)
    online = pick.take("HN010", subjects=MAIN_SUBJECTS)
    teaching("online", online, ["HN011"], (dt.date(2025, 10, 15), dt.date(2025, 12, 31)), "completed", classes=1)
    teaching("shadowing", pick.take("HN008", young=True), ["HN007"], (dt.date(2025, 11, 10), dt.date(2025, 12, 20)),
             "cancelled", classes=1, cancel_reason="受援校教学任务调整,改为下学期跟岗。")  # fmt: skip
    day = dt.date(2025, 12, 9)
    # 衡南一中 to 硫市联合学校, a school of another alliance (flagged as cross-alliance).
    teaching(
        "lesson_delivery", next(t for t in roster["HN010"] if t.key), ["HN018"], (day, day), "completed", classes=1
    )
    return plan


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _load_exchanges(ctx: Context, models, services, plan: list[ExchangeFact]) -> None:
    Exchange = models.Exchange
    existing = set(
        Exchange.objects.filter(origin_school__county=ctx.county).values_list("teacher_id", "kind", "start_date")
    )
    approvers = [ctx.bureau, ctx.second_bureau]
    steps = {
        "planned": (),
        "approved": ("approve",),
        "active": ("approve", "start"),
        "completed": ("approve", "start", "complete"),
        "cancelled": ("approve", "cancel"),
    }
    for i, fact in enumerate(plan):
        teacher = ctx.teachers[(fact.school, fact.teacher)]
        if (teacher.pk, fact.kind, fact.start) in existing:
            continue
        exchange = services.exchange_create(
            # Principals log their own school's exchanges; the bureau approves them.
            actor=ctx.principal_of(fact.school),
            teacher=teacher,
            origin_school=ctx.schools[fact.school],
            host_schools=[ctx.schools[c] for c in fact.hosts],
            kind=fact.kind,
            start_date=fact.start,
            end_date=fact.end,
            subject=fact.subject,
            class_count=fact.class_count,
            classes=fact.classes,
            weekly_periods=fact.weekly_periods,
        )
        for step in steps[fact.status]:
            if step == "approve":
                exchange = services.exchange_approve(actor=approvers[i % 2], exchange=exchange)
                # Approved a week before it starts, as the demo's calendar goes, not today.
                Exchange.objects.filter(pk=exchange.pk).update(approved_at=_aware(fact.start - dt.timedelta(days=7)))
            elif step == "start":
                exchange = services.exchange_start(actor=ctx.bureau, exchange=exchange)
            elif step == "complete":
                exchange = services.exchange_complete(actor=ctx.bureau, exchange=exchange)
            elif step == "cancel":
                exchange = services.exchange_cancel(actor=ctx.bureau, exchange=exchange, reason=fact.cancel_reason)
        ctx.count(Exchange._meta.label)


# --- mentoring -----------------------------------------------------------------------------

MEETING_NOTES = {
    "lesson_preparation": "集体备课:{subject}单元教学设计,明确重难点与分层作业。",
    "observation": "师傅听徒弟{subject}课并评课,指出课堂提问与时间分配的改进点。",
    "demonstration": "师傅上{subject}示范课,徒弟跟班听课并写听课反思。",
    "review": "阶段小结:回顾本月听课、备课情况,制定下月成长目标。",
    "other": "作业分层设计交流,批改记录互查。",
}


def plan_mentoring(roster: dict[str, list[TeacherFact]]) -> list[MentorFact]:
    draw = rng("mentoring")
    goals = "在集体备课、听课评课、作业分层设计等方面手把手指导,一学年内独立承担公开课。"
    pairs = [
        MentorFact(("HN001", "华朝霞"), ("HN002", "陈佳"), dt.date(2025, 9, 15), goals),
        MentorFact(("HN001", "华朝霞"), ("HN002", "潘华林"), dt.date(2025, 9, 15), goals),
    ]
    for alliance in data.ALLIANCES:
        mentors = [t for t in roster[alliance.lead] if t.key and t.name != "华朝霞"]
        for member in alliance.members[:2]:
            young = [t for t in roster[member] if t.years <= 5 and t.name not in ("陈佳", "潘华林")]
            if not (mentors and young):
                continue
            mentee = draw.choice(young)
            same_subject = [m for m in mentors if m.subject == mentee.subject]
            mentor = draw.choice(same_subject or mentors)
            start = dt.date(2025, 9, draw.randint(10, 30))
            pairs.append(MentorFact((mentor.school, mentor.name), (mentee.school, mentee.name), start, goals))
    for pair in pairs:
        subject = SUBJECT_ZH.get(next(t.subject for t in roster[pair.mentee[0]] if t.name == pair.mentee[1]), "")
        day = pair.start
        for kind in draw.sample(list(MEETING_NOTES), draw.randint(3, 5)):
            day = day + dt.timedelta(days=draw.randint(10, 28))
            if day > AS_OF:
                break
            pair.meetings.append((day, kind, MEETING_NOTES[kind].format(subject=subject)))
    return pairs


def _load_mentoring(ctx: Context, models, plan: list[MentorFact]) -> None:
    MentorMeeting = models.MentorMeeting
    held = set(
        MentorMeeting.objects.filter(pair__mentor__school__county=ctx.county).values_list("pair_id", "date", "kind")
    )
    meetings = []
    for fact in plan:
        pair = ensure(
            ctx,
            models.MentorPair,
            {"mentor": ctx.teachers[fact.mentor], "mentee": ctx.teachers[fact.mentee]},
            {"start_date": fact.start, "end_date": YEAR_LONG[1], "goals": fact.goals},
        )
        meetings += [
            MentorMeeting(pair=pair, date=day, kind=kind, notes=notes)
            for day, kind, notes in fact.meetings
            if (pair.pk, day, kind) not in held
        ]
    add_new(ctx, MentorMeeting, meetings)


# --- activities ----------------------------------------------------------------------------


def plan_activities(roster: dict[str, list[TeacherFact]]) -> list[data.ActivityFact]:
    draw = rng("activities")
    names = {s.code: s.name for s in data.SCHOOLS}
    plan = list(data.SEED_ACTIVITIES)
    seeded_meetings = {a.host for a in data.SEED_ACTIVITIES if a.kind == "term_meeting"}

    def day(months=(9, 10, 11, 12)) -> dt.date:
        month = draw.choice(months)
        return dt.date(2025, month, draw.randint(3, 27))

    def add(kind, when, host, schools, title, participants, person_times, description="", **extra):
        plan.append(
            data.ActivityFact(kind, when, host, tuple(schools), title, participants, person_times, description, extra)
        )

    for index, alliance in enumerate(data.ALLIANCES):
        lead, members = alliance.lead, alliance.members
        everyone = (lead, *members)
        if lead not in seeded_meetings:
            add("term_meeting", dt.date(2025, 9, 12 + index), lead, everyone, "学期帮扶工作例会",
                "各校校长、分管副校长、教务主任", 4 * len(everyone),
                "研究本学期帮扶任务清单,明确时间表、路线图、责任人。")  # fmt: skip
        add("term_meeting", dt.date(2025, 11, 14 + index), lead, everyone, "期中工作推进会",
            "各校校长、教务主任", 3 * len(everyone), "通报任务清单进度,调整帮扶方式与重点。")  # fmt: skip
        # Most lead schools visit every member; two leave one out (the share is an indicator).
        visited = members if index % 5 != 4 else members[:-1]
        if lead == "HN004":
            visited = ()  # 明德小学's visit for 云集联合学校 is the article's own (seed activities)
        for member in visited:
            add("visit", day((9, 10, 11)), lead, (lead, member), f"牵头校赴{names[member]}调研座谈",
                "牵头校校长、教务主任", draw.randint(4, 10), "了解受援校师资、课程和学生生活方面的需求。")  # fmt: skip
        for _round in range(2):
            subject = SUBJECT_ZH[draw.choice((*MAIN_SUBJECTS, "science", "morality_law"))]
            host = draw.choice(everyone)
            title = draw.choice(data.ACTIVITY_TITLES["teaching_research"]).format(subject=subject)
            add("teaching_research", day(), host, everyone, title, f"各校{subject}教师",
                draw.randint(12, 48), "同课异构、评课议课,形成共享教学设计。")  # fmt: skip
        add("training", day((10, 11, 12)), lead, everyone, draw.choice(data.ACTIVITY_TITLES["training"]),
            "成员校青年教师、班主任", draw.randint(30, 120), "专家报告、名师讲座、现场教学。")  # fmt: skip
        for _round in range(draw.randint(1, 3)):
            subject = SUBJECT_ZH[draw.choice(MAIN_SUBJECTS)]
            add("resource_sharing", day((11, 12)), lead, everyone, f"共享{subject}学科教案与课件",
                f"牵头校{subject}教研组", draw.randint(8, 24), "上传教案、课件、微课到联盟资源库。",
                resource_count=draw.randint(20, 160))  # fmt: skip
        if draw.random() < 0.7:
            title = draw.choice(data.ACTIVITY_TITLES["culture_sports"])
            add("culture_sports", day((10, 11, 12)), lead, everyone, title, "各校师生", draw.randint(120, 400),
                "校际艺术节、运动会、社团联谊。")  # fmt: skip
        for _round in range(draw.randint(0, 3)):
            subject = SUBJECT_ZH[draw.choice(MAIN_SUBJECTS)]
            add("online_lesson", day(), lead, everyone, f"智慧云课堂:{subject}名师课堂",
                "牵头校名师、成员校学生", draw.randint(40, 200), "以直播方式同步上课、同屏互动。")  # fmt: skip
    # 责任督学: monthly visits to the assessor's schools, and the quarterly feedback meeting.
    assessed = next(u[5] for u in data.USERS if u[1] == "assessor")
    for code in assessed:
        for month in (10, 11, 12):
            add("supervision_visit", dt.date(2025, month, draw.randint(5, 25)), code, (code,), "责任督学随访督导",
                "责任督学刘影", 1, "巡视校园、听取汇报、推门听课、走访师生、查阅资料。")  # fmt: skip
    add("quarterly_supervision_meeting", dt.date(2025, 12, 30), "HN004", assessed, "季度督导情况反馈点评会",
        "责任督学、各校校长", 2 * len(assessed), "逐一分析每所学校的亮点与不足,给出改进建议。")  # fmt: skip
    return plan


def _load_activities(ctx: Context, models, plan: list[data.ActivityFact]) -> None:
    Activity = models.Activity
    existing = set(
        Activity.objects.filter(host_school__county=ctx.county).values_list("host_school_id", "date", "title")
    )
    new, involved = [], []
    for fact in plan:
        host = ctx.schools[fact.host]
        key = (host.pk, fact.date, fact.title)
        if key in existing:
            continue
        existing.add(key)
        new.append(
            Activity(
                host_school=host,
                date=fact.date,
                title=fact.title,
                kind=fact.kind,
                participants=fact.participants,
                person_times=fact.person_times,
                description=fact.description,
                **fact.extra,
            )
        )
        involved.append(fact.schools)
    Through = Activity.schools.through
    links = [
        Through(activity_id=activity.pk, school_id=ctx.schools[code].pk)
        for activity, codes in zip(add_new(ctx, Activity, new), involved, strict=True)
        for code in codes
    ]
    Through.objects.bulk_create(links)
