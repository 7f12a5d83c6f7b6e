"""The demo county's foundation rows: county, year, schools, alliances, pairings, users.

Every row is found by its natural key first, so a second run writes nothing. New rows go
through the models' validation (``validate``) so that the demo obeys the rules the admin and
API enforce; multi-row writes with rules of their own go through the apps' services.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import models
from django.utils.translation import gettext as _

from alliance.access import Role
from alliance.models import Alliance, County, Membership, Pairing, PairingTask, School, SchoolYear, Term, User

from . import data
from .data import UserSpec

# (username, password, role, school or county) as ``load_demo --logins`` prints it
Login = tuple[str, str, str, str]


@dataclass
class Context:
    """What the sections of the load share: the rows made so far, and where to report."""

    write: Any
    county: County | None = None
    school_year: SchoolYear | None = None
    terms: dict[int, Term] = field(default_factory=dict)
    schools: dict[str, School] = field(default_factory=dict)
    alliances: dict[str, Alliance] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    teachers: dict[tuple[str, str], Any] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    principals: dict[str, User] = field(default_factory=dict)  # by school code
    funding_year: Any = None  # set by the funding part when the funding app exists
    # The further demo counties' rows by county code (``county.CountyRows``), for later parts.
    counties: dict[str, Any] = field(default_factory=dict)

    def note(self, message: str) -> None:
        self.write(message)

    def count(self, label: str, n: int = 1) -> None:
        self.created[label] = self.created.get(label, 0) + n

    @property
    def bureau(self) -> User:
        return self.users["demo-bureau"]

    @property
    def second_bureau(self) -> User:
        return self.users["demo-bureau2"]

    def principal_of(self, code: str) -> User:
        return self.principals[code]


def rng(section: str) -> random.Random:
    """A generator per section, so skipping one section never shifts another's draws."""
    return random.Random(f"{data.SEED}:{section}")


def validate(row: models.Model) -> None:
    """The model's own rules (field choices and ranges, ``clean()``) without a query per
    foreign key: the demo's related rows were just read or written, and the database holds
    the constraints anyway. A query per foreign key would double the load's time."""
    relations = [f.name for f in row._meta.concrete_fields if f.is_relation]
    row.clean_fields(exclude=relations)
    row.clean()


M = TypeVar("M", bound=models.Model)


def ensure(ctx: Context, model: type[M], lookup: dict, defaults: dict | None = None) -> M:
    """Find a row by its natural key or create it after validation."""
    row = model._default_manager.filter(**lookup).first()
    if row is not None:
        return row
    row = model(**lookup, **(defaults or {}))
    validate(row)
    row.save()
    ctx.count(model._meta.label)
    return row


def add_new(ctx: Context, model: type[M], rows: list[M]) -> list[M]:
    """Validate and insert in one statement the rows the caller found missing."""
    for row in rows:
        validate(row)
    if rows:
        rows = model._default_manager.bulk_create(rows)
        ctx.count(model._meta.label, len(rows))
    return rows


def load_core(ctx: Context) -> None:
    ctx.county = ensure(
        ctx, County, {"code": data.COUNTY["code"]}, {k: v for k, v in data.COUNTY.items() if k != "code"}
    )
    ctx.school_year = ensure(
        ctx,
        SchoolYear,
        {"county": ctx.county, "start_year": data.START_YEAR},
        {"start_date": data.YEAR_START, "end_date": data.YEAR_END},
    )
    for number, (start, end) in data.TERMS.items():
        ctx.terms[number] = ensure(
            ctx, Term, {"school_year": ctx.school_year, "number": number}, {"start_date": start, "end_date": end}
        )
    _refuse_an_older_demo(ctx)
    ctx.schools = ensure_schools(ctx, ctx.county, data.SCHOOLS)
    _load_alliances(ctx)
    _load_users(ctx)


def _refuse_an_older_demo(ctx: Context) -> None:
    """A database loaded by an earlier demo of another shape (other schools or alliances under
    the same codes and names) is refused with the way out, before anything is written to it:
    adding this demo's alliances beside the old ones would put a school in two of a kind."""
    known_schools = {(f.code, f.name) for f in data.SCHOOLS}
    stale = [
        f"{code} {name}"
        for code, name in School.objects.filter(county=ctx.county).order_by("code").values_list("code", "name")
        if (code, name) not in known_schools
    ]
    stale += list(
        Alliance.objects.filter(school_year=ctx.school_year)
        .exclude(name__in=[a.name for a in data.ALLIANCES])
        .order_by("name")
        .values_list("name", flat=True)
    )
    if stale:
        raise CommandError(
            _(
                "The database holds an older demo of %(county)s (%(rows)s); start it afresh with "
                "`make demo-clean` and then `make demo`."
            )
            % {"county": data.COUNTY["name"], "rows": "、".join(stale[:5]) + ("…" if len(stale) > 5 else "")}
        )


def ensure_schools(ctx: Context, county: County, facts: Iterable[data.SchoolFact]) -> dict[str, School]:
    """The county's schools by code, those of ``facts`` it lacks inserted in one statement
    (pupils and classes follow the teachers and the location)."""
    have = set(School.objects.filter(county=county).values_list("code", flat=True))
    new = []
    for fact in facts:
        if fact.code in have:
            continue
        students = fact.staff * data.PUPILS_PER_TEACHER[fact.location]
        new.append(
            School(
                county=county,
                code=fact.code,
                name=fact.name,
                stage=fact.stage,
                location=fact.location,
                strength=fact.strength,
                students=students,
                teachers=fact.staff,
                classes=max(1, round(students / data.PUPILS_PER_CLASS[fact.location])),
            )
        )
    add_new(ctx, School, new)
    return {s.code: s for s in School.objects.filter(county=county)}


def _load_alliances(ctx: Context) -> None:
    draw = rng("tasks")
    done = set(
        PairingTask.objects.filter(pairing__alliance__school_year=ctx.school_year).values_list("pairing_id", "title")
    )
    tasks: list[PairingTask] = []
    for fact in data.ALLIANCES:
        alliance = ensure(
            ctx,
            Alliance,
            {"school_year": ctx.school_year, "name": fact.name},
            {"kind": fact.kind, "description": fact.description},
        )
        ctx.alliances[fact.name] = alliance
        # school_year and kind are copied from the alliance (Membership.save); set them before validation.
        copied = {"school_year": ctx.school_year, "kind": fact.kind}
        ensure(ctx, Membership, {"alliance": alliance, "school": ctx.schools[fact.lead]}, {"role": "lead", **copied})
        for code in fact.members:
            ensure(ctx, Membership, {"alliance": alliance, "school": ctx.schools[code]}, {"role": "member", **copied})
        for code in fact.members:
            pairing = ensure(
                ctx,
                Pairing,
                {"alliance": alliance, "helper_school": ctx.schools[fact.lead], "helped_school": ctx.schools[code]},
                {
                    "agreement_date": fact.agreement,
                    "focus_areas": list(fact.focus),
                    "start_date": fact.agreement,
                    "end_date": data.YEAR_END,
                },
            )
            tasks += _plan_tasks(ctx, draw, fact, pairing, done)
    add_new(ctx, PairingTask, tasks)


# The demo is looked at as of the end of the first term: tasks due by then are mostly done.
AS_OF = dt.date(2026, 1, 20)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    return dt.date(year, month % 12 + 1, min(day.day, 28))


def _plan_tasks(
    ctx: Context, draw: random.Random, fact: data.AllianceFact, pairing: Pairing, done: set
) -> list[PairingTask]:
    # Always draw the same numbers, whether or not the rows exist already.
    templates = [data.TASK_TEMPLATES[0], *draw.sample(data.TASK_TEMPLATES[1:], 4)]
    helper = ctx.schools[fact.lead].name
    tasks = []
    for title, months, who in templates:
        due = min(_add_months(fact.agreement, months) + dt.timedelta(days=draw.randint(0, 20)), data.YEAR_END)
        roll = draw.random()
        late = draw.randint(-20, 5)
        if due <= AS_OF:
            status = "done" if roll < 0.8 else ("in_progress" if roll < 0.95 else "dropped")
        else:
            status = "in_progress" if roll < 0.4 else "planned"
        completed_on = min(due + dt.timedelta(days=late), AS_OF) if status == "done" else None
        notes = {
            "done": "已按计划完成,资料已归档。" if late <= 0 else "延期完成,已补充过程资料。",
            "in_progress": "正在推进,本学期末前完成。",
            "planned": "",
            "dropped": "因受援校需求调整,本学期不再开展。",
        }[status]
        if (pairing.pk, title) in done:
            continue
        tasks.append(
            PairingTask(
                pairing=pairing,
                title=title,
                due_date=due,
                responsible_person=f"{helper}{who}",
                status=status,
                completed_on=completed_on,
                progress_notes=notes,
            )
        )
    return tasks


def user_specs() -> list[UserSpec]:
    """The six demo logins, then a principal account for every other school (the lead
    principal of each alliance plans its fund; member principals log their own rows)."""
    specs = list(data.USERS)
    taken = {spec[4] for spec in specs if spec[4]}
    leads = {a.lead for a in data.ALLIANCES}
    draw = rng("principals")
    for school in data.SCHOOLS:
        if school.code in taken:
            continue
        role = "lead_principal" if school.code in leads else "member_principal"
        last = draw.choice(data.SURNAMES)
        first = draw.choice(data.GIVEN_ANY) + draw.choice(data.GIVEN_MALE + data.GIVEN_FEMALE)
        specs.append((f"principal-{school.code.lower()}", role, last, first, school.code, ()))
    return specs


def _load_users(ctx: Context) -> None:
    assert ctx.county is not None
    specs = user_specs()
    ctx.users = ensure_users(ctx, ctx.county, ctx.schools, specs)
    ctx.principals = {school: ctx.users[username] for username, _r, _l, _f, school, _a in specs if school}


def ensure_users(
    ctx: Context, county: County, schools: dict[str, School], specs: Iterable[UserSpec]
) -> dict[str, User]:
    """The demo users of ``specs`` by username, each made (with its role's group and assessed
    schools) unless it exists; every demo user has the published password."""
    specs = list(specs)
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in specs])}
    users = {}
    # One hash for all demo users: hashing is deliberately slow, and they share one password.
    password = None
    for username, role, last, first, school_code, assessed in specs:
        user = existing.get(username)
        if user is None:
            password = password or make_password(data.PASSWORD)
            user = User(
                username=username,
                last_name=last,
                first_name=first,
                county=county,
                school=schools[school_code] if school_code else None,
                is_staff=True,
                password=password,
            )
            validate(user)
            user.save()
            ctx.count(User._meta.label)
            user.groups.add(groups[Role(role)])
            if assessed:
                user.assessed_schools.add(*(schools[c] for c in assessed))
        users[username] = user
    return users


def login_rows(specs: Iterable[UserSpec], school_names: dict[str, str], county_name: str) -> list[Login]:
    """(username, password, role, school or county) per demo login of ``specs``: a principal's
    school, an assessor's schools, or the county."""
    rows = []
    for username, role, _last, _first, school_code, assessed in specs:
        if school_code:
            where = school_names[school_code]
        elif assessed:
            where = "、".join(school_names[c] for c in assessed)
        else:
            where = county_name
        rows.append((username, data.PASSWORD, role, where))
    return rows


def logins() -> list[Login]:
    """The demo logins of the Hengnan county, from the fixed data (``all_logins``: every county's)."""
    return login_rows(data.USERS, {f.code: f.name for f in data.SCHOOLS}, data.COUNTY["name"])


def all_logins() -> list[tuple[str, list[Login]]]:
    """(county name, its logins) per demo county, from the fixed data only."""
    from . import baihe_part, hetang_part, programme_part, tianxin_part

    return [
        (data.COUNTY["name"], logins()),
        (baihe_part.SPEC.name, baihe_part.logins()),
        (hetang_part.SPEC.name, hetang_part.logins()),
        (tianxin_part.SPEC.name, tianxin_part.logins()),
        (programme_part.HELPER_COUNTY["name"], programme_part.logins()),
    ]
