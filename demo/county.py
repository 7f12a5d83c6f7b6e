"""The foundation of a further demo county (the Hengnan county's is ``core``): the county, its
school years and terms, schools, alliances re-formed each year, and its demo logins.

Every row is found by its natural key first (``core.ensure``), so a second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from alliance.access import Role
from alliance.models import Alliance, County, Membership, School, SchoolYear, Term, User

from . import data
from .core import Context, add_new, ensure, validate


@dataclass(frozen=True)
class YearFact:
    start_year: int
    start: dt.date
    end: dt.date
    terms: dict[int, tuple[dt.date, dt.date]]


@dataclass(frozen=True)
class CountySpec:
    code: str
    name: str
    province: str
    years: tuple[YearFact, ...]
    schools: tuple[data.SchoolFact, ...]
    alliances: tuple[data.AllianceFact, ...]  # formed again in every school year
    # (username, role, last name, first name, school code or None, assessed school codes)
    users: tuple[tuple[str, str, str, str, str | None, tuple[str, ...]], ...]


@dataclass
class CountyRows:
    county: County
    years: dict[int, SchoolYear] = field(default_factory=dict)
    terms: dict[tuple[int, int], Term] = field(default_factory=dict)
    schools: dict[str, School] = field(default_factory=dict)
    alliances: dict[tuple[int, str], Alliance] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def user(self, username: str) -> User:
        return self.users[username]


def load_county(ctx: Context, spec: CountySpec) -> CountyRows:
    county = ensure(ctx, County, {"code": spec.code}, {"name": spec.name, "province": spec.province})
    rows = CountyRows(county)
    for year in spec.years:
        school_year = ensure(
            ctx,
            SchoolYear,
            {"county": county, "start_year": year.start_year},
            {"start_date": year.start, "end_date": year.end},
        )
        rows.years[year.start_year] = school_year
        for number, (start, end) in year.terms.items():
            rows.terms[(year.start_year, number)] = ensure(
                ctx, Term, {"school_year": school_year, "number": number}, {"start_date": start, "end_date": end}
            )
    _schools(ctx, spec, rows)
    for start_year, school_year in rows.years.items():
        _alliances(ctx, spec, rows, start_year, school_year)
    _users(ctx, spec, rows)
    return rows


def _schools(ctx: Context, spec: CountySpec, rows: CountyRows) -> None:
    existing = {s.code: s for s in School.objects.filter(county=rows.county)}
    new = []
    for fact in spec.schools:
        if fact.code in existing:
            continue
        students = fact.staff * data.PUPILS_PER_TEACHER[fact.location]
        new.append(
            School(
                county=rows.county,
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
    rows.schools = {s.code: s for s in School.objects.filter(county=rows.county)}


def _alliances(ctx: Context, spec: CountySpec, rows: CountyRows, start_year: int, school_year: SchoolYear) -> None:
    existing = {a.name: a for a in Alliance.objects.filter(school_year=school_year)}
    joined = set(Membership.objects.filter(school_year=school_year).values_list("alliance_id", "school_id"))
    memberships = []
    for fact in spec.alliances:
        alliance = existing.get(fact.name) or ensure(
            ctx,
            Alliance,
            {"school_year": school_year, "name": fact.name},
            {"kind": fact.kind, "description": fact.description},
        )
        rows.alliances[(start_year, fact.name)] = alliance
        for code, role in ((fact.lead, "lead"), *((m, "member") for m in fact.members)):
            school = rows.schools[code]
            if (alliance.pk, school.pk) in joined:
                continue
            # school_year and kind are copied from the alliance (Membership.save); set here for validation.
            memberships.append(
                Membership(alliance=alliance, school=school, role=role, school_year=school_year, kind=fact.kind)
            )
    add_new(ctx, Membership, memberships)


def _users(ctx: Context, spec: CountySpec, rows: CountyRows) -> None:
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in spec.users])}
    password = None
    for username, role, last, first, school_code, assessed in spec.users:
        user = existing.get(username)
        if user is None:
            # One hash for all demo users: hashing is deliberately slow, and they share one password.
            password = password or make_password(data.PASSWORD)
            user = User(
                username=username,
                last_name=last,
                first_name=first,
                county=rows.county,
                school=rows.schools[school_code] if school_code else None,
                is_staff=True,
                password=password,
            )
            validate(user)
            user.save()
            ctx.count(User._meta.label)
            user.groups.add(groups[Role(role)])
            if assessed:
                user.assessed_schools.add(*(rows.schools[c] for c in assessed))
        rows.users[username] = user


def logins(spec: CountySpec) -> list[tuple[str, str, str, str]]:
    """(username, password, role, school or county) per demo login of the county."""
    names = {f.code: f.name for f in spec.schools}
    out = []
    for username, role, _last, _first, school_code, assessed in spec.users:
        if school_code:
            where = names[school_code]
        elif assessed:
            where = "、".join(names[c] for c in assessed)
        else:
            where = spec.name
        out.append((username, data.PASSWORD, role, where))
    return out
