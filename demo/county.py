"""The foundation of a further demo county (the Hengnan county's is ``core``): the county, its
school years and terms, schools, alliances re-formed each year, and its demo logins.

Every row is found by its natural key first (``core.ensure``), so a second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from alliance.models import Alliance, County, Membership, School, SchoolYear, Term, User

from . import data
from .core import Context, Login, add_new, ensure, ensure_schools, ensure_users, login_rows
from .data import UserSpec


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
    users: tuple[UserSpec, ...]


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
    rows.schools = ensure_schools(ctx, county, spec.schools)
    for start_year, school_year in rows.years.items():
        _alliances(ctx, spec, rows, start_year, school_year)
    rows.users = ensure_users(ctx, county, rows.schools, spec.users)
    return rows


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


def logins(spec: CountySpec) -> list[Login]:
    """(username, password, role, school or county) per demo login of the county."""
    return login_rows(spec.users, {f.code: f.name for f in spec.schools}, spec.name)
