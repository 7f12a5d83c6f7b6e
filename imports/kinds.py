"""What each import reads and how it writes: its columns (named in Chinese on the template,
English accepted), how a row's cells become values, the natural key that finds the row already
there (so a second import of the same file changes nothing), and the write, through the owning
app's service where it has one.

A kind's ``write`` returns what it did ("create", "update" or "unchanged", with the fields that
changed) or raises the service's ``ValidationError``; it runs inside the import's transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from alliance import services as alliance_services
from alliance.models import Alliance, County, Membership, Pairing, School, SchoolYear
from funding import services as funding_services
from funding.models import FundingQuota, FundingYear
from staffing import services as staffing_services
from staffing.models import Teacher

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
# Names of columns, sheets and imports carry the context "import", so that no other app's
# translation of the same English word ("Name") becomes the template's Chinese.

# --- cells → values ------------------------------------------------------------------------


def text(max_length: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a code typed as a number in Excel
        result = "" if value is None else str(value).strip()
        if len(result) > max_length:
            raise ValidationError(_("At most %(n)d characters.") % {"n": max_length})
        return result

    return parse


def whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        number = int(value.strip())
    else:
        raise ValidationError(_("Enter a whole number."))
    if number < 0:
        raise ValidationError(_("Enter a whole number."))
    return number


def amount(value: Any) -> Decimal:
    """Money as the funding app checks it (``check_amount``): to the fen, no exponent. A
    spreadsheet's number arrives as a float; its shortest text is what the cell showed."""
    if isinstance(value, bool):
        raise ValidationError(_("Enter the amount as a plain decimal number, e.g. 1000.00."))
    if isinstance(value, int | float):
        value = repr(value) if isinstance(value, float) else str(value)
    try:
        return funding_services.check_amount(value, "quota")
    except ValidationError as exc:
        raise ValidationError(list(exc.messages)) from exc


YES = {"是", "y", "yes", "true", "1", "√", "✓"}
NO = {"否", "n", "no", "false", "0", ""}


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = "" if value is None else str(value).strip().lower()
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValidationError(_("Enter 是 or 否."))


def choice(choices: type[models.TextChoices]) -> Callable[[Any], str]:
    """A choice by its value, its English label or its Chinese label (either half of "A/B")."""

    cache: dict[str, str] = {}

    def names() -> dict[str, str]:
        if cache:
            return cache
        found = cache
        for language in ("en", "zh-hans"):
            with translation.override(language):
                for value, label in choices.choices:
                    found[str(value).lower()] = value
                    for part in [str(label), *str(label).split("/")]:
                        found[part.strip().lower()] = value
        return found

    def parse(value: Any) -> str:
        word = "" if value is None else str(value).strip().lower()
        match = names().get(word)
        if match is None:
            with translation.override("zh-hans"):
                allowed = "、".join(str(label) for _v, label in choices.choices)
            raise ValidationError(_("Not one of: %(allowed)s.") % {"allowed": allowed})
        return match

    parse.choices = choices  # type: ignore[attr-defined]  # for the template's notes (``allowed``)
    return parse


def start_year(value: Any) -> int:
    """A school year by the year it starts: 2025, "2025-2026", "2025学年"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    match = re.match(r"\s*(\d{4})", str(value or ""))
    if not match:
        raise ValidationError(_("Enter the school year as the year it starts, e.g. 2025."))
    return int(match.group(1))


def day(value: Any) -> dt.date:
    """A date: a date cell, or text as 2025-09-01, 2025/9/1 or 2025年9月1日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value))
    try:
        if match:
            return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        pass
    raise ValidationError(_("Enter a date, e.g. 2025-09-01."))


def choices_list(choices: type[models.TextChoices]) -> Callable[[Any], list[str]]:
    """Several choices in one cell, separated by 、 , ; or spaces."""
    one = choice(choices)

    def parse(value: Any) -> list[str]:
        parts = [p for p in re.split(r"[、,，;；\s]+", str(value or "")) if p]
        found = [one(p) for p in parts]
        return sorted(set(found), key=found.index)

    parse.choices = choices  # type: ignore[attr-defined]
    return parse


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # English msgid; the template shows its Chinese
    parse: Callable[[Any], Any]
    required: bool = True
    default: Any = None


@dataclass
class Context:
    """What every row of one import shares: who imports, into which county, and lookups."""

    actor: Any
    county: County
    _schools: dict[str, School | None] = field(default_factory=dict)
    _years: dict[int, SchoolYear | None] = field(default_factory=dict)

    def school(self, code: str) -> School:
        if code not in self._schools:
            self._schools[code] = School.objects.filter(county=self.county, code=code).first()
        school = self._schools[code]
        if school is None:
            raise ValidationError(_("No school with code %(code)s in your county.") % {"code": code})
        return school

    def school_year(self, year: int) -> SchoolYear:
        if year not in self._years:
            self._years[year] = SchoolYear.objects.filter(county=self.county, start_year=year).first()
        found = self._years[year]
        if found is None:
            raise ValidationError(_("Your county has no %(year)d school year.") % {"year": year})
        return found


@dataclass
class Unit:
    """What one write takes: one row, or for an alliance all rows naming it."""

    key: str
    rows: list[int]
    values: dict[str, Any]
    members: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    action: str
    changes: tuple[str, ...] = ()


def _diff(row: models.Model, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if getattr(row, name) != value}


def _label(model: type[models.Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def _saved(row: models.Model) -> None:
    row.full_clean()
    row.save()


M = TypeVar("M", bound=models.Model)


def _changed_saved(row: models.Model, changed: dict[str, Any]) -> None:
    for name, value in changed.items():
        setattr(row, name, value)
    _saved(row)


def _create_or_update(
    row: M | None,
    fields: dict[str, Any],
    *,
    create: Callable[[], object],
    update: Callable[[M, dict[str, Any]], object],
) -> Outcome:
    """Every import row's one shape: create what is missing, change only what differs (named
    in the preview by its column's label), or leave it, so importing a file again changes
    nothing."""
    if row is None:
        create()
        return Outcome(CREATE)
    changed = _diff(row, fields)
    if not changed:
        return Outcome(UNCHANGED)
    update(row, changed)
    return Outcome(UPDATE, tuple(_label(type(row), n) for n in changed))


@dataclass(frozen=True)
class Kind:
    name: str
    title: Any
    sheet: Any  # the sheet's name on the template (its Chinese)
    columns: tuple[Column, ...]
    key: Callable[[dict[str, Any]], str]
    write: Callable[[Context, Unit], Outcome]
    grouped: bool = False  # several rows make one unit (an alliance's members)

    def units(self, rows: list[tuple[int, dict[str, Any]]]) -> list[Unit]:
        if not self.grouped:
            return [Unit(key=self.key(v), rows=[n], values=v) for n, v in rows]
        units: dict[str, Unit] = {}
        for number, values in rows:
            key = self.key(values)
            unit = units.setdefault(key, Unit(key=key, rows=[], values=values))
            unit.rows.append(number)
            unit.members.append((number, values))
        return list(units.values())


# --- schools -----------------------------------------------------------------------------


SCHOOL_FIELDS = ("name", "stage", "location", "strength", "students", "teachers", "classes", "active")


def write_school(ctx: Context, unit: Unit) -> Outcome:
    """Schools have no rule beyond their model's: written as the admin and the API write them
    (``full_clean``, then ``save``), in the importer's county only."""
    values = unit.values
    county_code = values.get("county_code")
    if county_code and county_code != ctx.county.code:
        raise ValidationError(
            _("This row is for county %(code)s; you may import only into your own county.") % {"code": county_code}
        )
    fields = {name: values[name] for name in SCHOOL_FIELDS if values.get(name) is not None}
    school = School.objects.select_for_update().filter(county=ctx.county, code=values["code"]).first()
    return _create_or_update(
        school,
        fields,
        create=lambda: _saved(School(county=ctx.county, code=values["code"], **fields)),
        update=_changed_saved,
    )


SCHOOLS = Kind(
    name="schools",
    title=pgettext_lazy("import", "Schools"),
    sheet=pgettext_lazy("import", "Schools"),
    columns=(
        Column("code", pgettext_lazy("import", "School code"), text(32)),
        Column("name", pgettext_lazy("import", "School name"), text(100)),
        Column("stage", pgettext_lazy("import", "Stage"), choice(School.Stage)),
        Column("location", pgettext_lazy("import", "Location"), choice(School.Location)),
        Column("strength", pgettext_lazy("import", "Strength class"), choice(School.Strength)),
        Column("students", pgettext_lazy("import", "Number of students"), whole_number, required=False),
        Column("teachers", pgettext_lazy("import", "Number of teachers"), whole_number, required=False),
        Column("classes", pgettext_lazy("import", "Number of classes"), whole_number, required=False),
        Column("active", pgettext_lazy("import", "Active"), yes_no, required=False),
        Column("county_code", pgettext_lazy("import", "County code"), text(12), required=False),
    ),
    key=lambda v: v["code"],
    write=write_school,
)


# --- teachers ----------------------------------------------------------------------------


TEACHER_OPTIONAL = ("gender", "title", "years_of_service", "is_key_teacher", "active")


def write_teacher(ctx: Context, unit: Unit) -> Outcome:
    """Teachers by school and name (the registry has no other key), through the staffing
    services the admin and the API call."""
    values = unit.values
    school = ctx.school(values["school_code"])
    fields = {"subject": values["subject"]}
    fields.update({n: values[n] for n in TEACHER_OPTIONAL if values.get(n) is not None})
    found = list(Teacher.objects.filter(school=school, name=values["name"])[:2])
    if len(found) > 1:
        raise ValidationError(
            _("%(school)s has several teachers named %(name)s; change them one by one in the administration.")
            % {"school": school, "name": values["name"]}
        )
    return _create_or_update(
        found[0] if found else None,
        fields,
        create=lambda: staffing_services.teacher_create(actor=ctx.actor, school=school, name=values["name"], **fields),
        update=lambda teacher, changed: staffing_services.teacher_update(actor=ctx.actor, teacher=teacher, **changed),
    )


TEACHERS = Kind(
    name="teachers",
    title=pgettext_lazy("import", "Teachers"),
    sheet=pgettext_lazy("import", "Teachers"),
    columns=(
        Column("school_code", pgettext_lazy("import", "School code"), text(32)),
        Column("name", pgettext_lazy("import", "Name"), text(50)),
        Column("subject", pgettext_lazy("import", "Subject"), choice(Teacher.Subject)),
        Column("gender", pgettext_lazy("import", "Gender"), choice(Teacher.Gender), required=False),
        Column("title", pgettext_lazy("import", "Professional title"), choice(Teacher.Title), required=False),
        Column("years_of_service", pgettext_lazy("import", "Years of service"), whole_number, required=False),
        Column("is_key_teacher", pgettext_lazy("import", "Key teacher"), yes_no, required=False),
        Column("active", pgettext_lazy("import", "Active"), yes_no, required=False),
    ),
    key=lambda v: f"{v['school_code']} · {v['name']}",
    write=write_teacher,
)


# --- alliances and their memberships -------------------------------------------------------


def write_alliance(ctx: Context, unit: Unit) -> Outcome:
    """An alliance of a school year, named, with its whole composition: the file lists every
    member; a school the file no longer names leaves the alliance. The composition's rule
    (exactly one lead) is ``alliance_members_check``, the rows' their models' (one alliance of
    a kind per school and year, schools of the county)."""
    values = unit.values
    year = ctx.school_year(values["school_year"])
    kinds = {v["kind"] for _n, v in unit.members}
    if len(kinds) > 1:
        raise ValidationError(_("The rows of one alliance name different kinds."))
    wanted: dict[int, str] = {}
    schools: dict[int, School] = {}
    for _number, member in unit.members:
        school = ctx.school(member["school_code"])
        if school.pk in wanted:
            raise ValidationError(_("School %(code)s is listed twice.") % {"code": member["school_code"]})
        wanted[school.pk], schools[school.pk] = member["role"], school
    alliance_services.alliance_members_check(roles=list(wanted.values()))

    alliance = Alliance.objects.select_for_update().filter(school_year=year, name=values["name"]).first()
    action, changes = UNCHANGED, []
    if alliance is None:
        alliance = Alliance(school_year=year, name=values["name"], kind=values["kind"])
        _saved(alliance)
        action = CREATE
    elif alliance.kind != values["kind"]:
        alliance.kind = values["kind"]
        _saved(alliance)  # refused while it has members (``Alliance.clean``)
        action, changes = UPDATE, [_label(Alliance, "kind")]
    present = {m.school_id: m for m in alliance.memberships.select_related("school")}
    # Leaving and demotions first, so that a new lead never meets the old one.
    for school_id, leaving in present.items():
        if school_id not in wanted:
            leaving.delete()
            changes.append(_("%(school)s leaves") % {"school": leaving.school})
    ordered = sorted(wanted.items(), key=lambda item: item[1] == Membership.Role.LEAD)
    for school_id, role in ordered:
        membership = present.get(school_id)
        if membership is None:
            _saved(Membership(alliance=alliance, school=schools[school_id], role=role))
            if action != CREATE:
                changes.append(_("%(school)s joins") % {"school": schools[school_id]})
        elif membership.role != role:
            membership.role = role
            _saved(membership)
            changes.append(
                _("%(school)s becomes %(role)s") % {"school": schools[school_id], "role": membership.get_role_display()}
            )
    if action == UNCHANGED and changes:
        action = UPDATE
    return Outcome(action, tuple(changes))


ALLIANCES = Kind(
    name="alliances",
    title=pgettext_lazy("import", "Alliances and memberships"),
    sheet=pgettext_lazy("import", "Alliances"),
    columns=(
        Column("school_year", pgettext_lazy("import", "School year"), start_year),
        Column("name", pgettext_lazy("import", "Alliance name"), text(100)),
        Column("kind", pgettext_lazy("import", "Alliance kind"), choice(Alliance.Kind)),
        Column("school_code", pgettext_lazy("import", "School code"), text(32)),
        Column("role", pgettext_lazy("import", "Role in the alliance"), choice(Membership.Role)),
    ),
    key=lambda v: f"{v['school_year']} · {v['name']}",
    write=write_alliance,
    grouped=True,
)


# --- funding quotas ------------------------------------------------------------------------


def write_quota(ctx: Context, unit: Unit) -> Outcome:
    """A funded school's quota of a draft funding year, through the funding services (which
    check the amount to the fen and refuse a year no longer a draft)."""
    values = unit.values
    year = ctx.school_year(values["school_year"])
    funding_year = FundingYear.objects.filter(county=ctx.county, school_year=year).first()
    if funding_year is None:
        raise ValidationError(_("The %(year)s school year has no funding year yet.") % {"year": year})
    school = ctx.school(values["school_code"])
    alliance = None
    if values.get("alliance"):
        alliance = Alliance.objects.filter(school_year=year, name=values["alliance"]).first()
        if alliance is None:
            raise ValidationError(_("No alliance named %(name)s in that school year.") % {"name": values["alliance"]})
    row = FundingQuota.objects.filter(funding_year=funding_year, school=school).first()
    return _create_or_update(
        row,
        {"quota": values["quota"], "alliance": alliance},
        create=lambda: funding_services.funding_quota_create(
            actor=ctx.actor, funding_year=funding_year, school=school, quota=values["quota"], alliance=alliance
        ),
        update=lambda quota, changed: funding_services.funding_quota_update(
            actor=ctx.actor, funding_quota=quota, **changed
        ),
    )


QUOTAS = Kind(
    name="quotas",
    title=pgettext_lazy("import", "Funding quotas"),
    sheet=pgettext_lazy("import", "Quotas"),
    columns=(
        Column("school_year", pgettext_lazy("import", "School year"), start_year),
        Column("school_code", pgettext_lazy("import", "School code"), text(32)),
        Column("quota", pgettext_lazy("import", "Quota (CNY)"), amount),
        Column("alliance", pgettext_lazy("import", "Alliance name"), text(100), required=False),
    ),
    key=lambda v: f"{v['school_year']} · {v['school_code']}",
    write=write_quota,
)


# --- pairings inside an alliance -----------------------------------------------------------


def _within(year: SchoolYear, values: dict[str, Any]) -> None:
    """The pairing's dates lie in its alliance's school year (an alliance is formed per year)."""
    for key in ("start_date", "end_date", "agreement_date"):
        when = values.get(key)
        if when is not None and not (year.start_date <= when <= year.end_date):
            raise ValidationError(
                _("%(date)s is outside the %(year)s school year (%(start)s to %(end)s).")
                % {"date": when.isoformat(), "year": year, "start": year.start_date, "end": year.end_date}
            )


PAIRING_FIELDS = ("start_date", "end_date", "agreement_date", "focus_areas")


def write_pairing(ctx: Context, unit: Unit) -> Outcome:
    """A helper school → helped school pairing (结对) of an alliance, by its alliance and its two
    schools. Pairings have no rule beyond their model's (both schools members of the alliance,
    end after start): written as the admin writes them, after the dates are checked against the
    school year."""
    values = unit.values
    year = ctx.school_year(values["school_year"])
    _within(year, values)
    alliance = Alliance.objects.filter(school_year=year, name=values["alliance"]).first()
    if alliance is None:
        raise ValidationError(_("No alliance named %(name)s in that school year.") % {"name": values["alliance"]})
    helper, helped = ctx.school(values["helper_code"]), ctx.school(values["helped_code"])
    fields = {n: values[n] for n in PAIRING_FIELDS if values.get(n) is not None}
    pairing = (
        Pairing.objects.select_for_update()
        .filter(alliance=alliance, helper_school=helper, helped_school=helped)
        .first()
    )
    return _create_or_update(
        pairing,
        fields,
        create=lambda: _saved(
            Pairing(alliance=alliance, helper_school=helper, helped_school=helped, **{"focus_areas": [], **fields})
        ),
        update=_changed_saved,
    )


PAIRINGS = Kind(
    name="pairings",
    title=pgettext_lazy("import", "Pairings"),
    sheet=pgettext_lazy("import", "Pairings"),
    columns=(
        Column("school_year", pgettext_lazy("import", "School year"), start_year),
        Column("alliance", pgettext_lazy("import", "Alliance name"), text(100)),
        Column("helper_code", pgettext_lazy("import", "Helper school code"), text(32)),
        Column("helped_code", pgettext_lazy("import", "Helped school code"), text(32)),
        Column("start_date", pgettext_lazy("import", "Start date"), day),
        Column("end_date", pgettext_lazy("import", "End date"), day, required=False),
        Column("agreement_date", pgettext_lazy("import", "Agreement signed on"), day, required=False),
        Column("focus_areas", pgettext_lazy("import", "Focus areas"), choices_list(Pairing.Focus), required=False),
    ),
    key=lambda v: f"{v['school_year']} · {v['alliance']} · {v['helper_code']} → {v['helped_code']}",
    write=write_pairing,
)


KINDS: dict[str, Kind] = {k.name: k for k in (SCHOOLS, TEACHERS, ALLIANCES, PAIRINGS, QUOTAS)}


def header_names(column: Column) -> set[str]:
    """The names a header cell may give a column: its key, English and Chinese labels."""
    names = {column.key}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            names.add(str(column.label))
    return {normal(n) for n in names}


def normal(header: str) -> str:
    return re.sub(r"[\s*＊]+", "", str(header)).lower()


def chinese(label: Any) -> str:
    with translation.override("zh-hans"):
        return str(label)


def allowed(column: Column) -> str:
    """What a column accepts, in Chinese, for the template's notes."""
    choices = getattr(column.parse, "choices", None)
    with translation.override("zh-hans"):
        if choices is not None:
            return "、".join(str(label) for _v, label in choices.choices)
        if column.parse is yes_no:
            return "是、否"
        if column.parse is whole_number:
            return _("a whole number")
        if column.parse is amount:
            return _("yuan, at most two decimal places, e.g. 200000.00")
        if column.parse is start_year:
            return _("the year it starts, e.g. 2025")
        if column.parse is day:
            return _("a date, e.g. 2025-09-01")
    return ""
