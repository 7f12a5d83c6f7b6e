"""Writing rubrics: create (from a structure, the default or last year's), update while
unlocked, revise into a new version; each write stores the rubric's content hash."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import County, SchoolYear

from ..compute import rubric_hash
from ..models import Dimension, Indicator, Rubric, Subject
from .default_rubric import default_structure
from .errors import EvaluationError, _error

RUBRIC_SETTINGS = ("name", "beta", "bundling_basis", "alliance_averaging", "grade_bands", "decline_periods")


def _structure_of(rubric: Rubric, *, with_ids: bool = False) -> list[dict[str, Any]]:
    """The rubric's dimensions and indicators as a structure (``with_ids``: with the rows' ids and
    orders, so that ``rubric_update`` changes them in place)."""
    fields = ("code", "name", "max_points", "method", "metric_key", "rule", "rule_params", "direction")
    extra = ("id", "order") if with_ids else ()
    return [
        {
            **({"id": d.pk, "order": d.order} if with_ids else {}),
            "code": d.code,
            "name": d.name,
            "indicators": [
                {f: getattr(i, f) for f in (*extra, *fields, "value_min", "value_max")} for i in d.indicators.all()
            ],
        }
        for d in _dimensions(rubric)
    ]


def rubric_structure(rubric: Rubric) -> list[dict[str, Any]]:
    """The rubric's dimensions and indicators with their ids and orders: change it and give it to
    ``rubric_update`` to change those rows in place (the admin's inlines do)."""
    return _structure_of(rubric, with_ids=True)


def _dimensions(rubric: Rubric):
    if "dimensions" in getattr(rubric, "_prefetched_objects_cache", {}):
        return rubric.dimensions.all()  # as read, e.g. by the nightly run
    return rubric.dimensions.prefetch_related("indicators")


@dataclass(frozen=True)
class Problem:
    """What is wrong with a rubric's structure, and where: the dimension's and indicator's
    positions in the structure given (``None``: the rubric as a whole) and the field."""

    message: str
    code: str
    dimension: int | None = None
    indicator: int | None = None
    field: str | None = None
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class StructureError(ValidationError):
    """A structure refused by the rubric services; ``problems`` says where."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([ValidationError(str(p), code=p.code) for p in problems])
        self.problems = problems


def _messages(exc: ValidationError) -> list[tuple[str | None, str]]:
    if hasattr(exc, "error_dict"):
        return [(None if f == NON_FIELD_ERRORS else f, m) for f, errs in exc.message_dict.items() for m in errs]
    return [(None, m) for m in exc.messages]


def _build(rubric: Rubric | None, structure: Iterable[Mapping[str, Any]]):
    """Unsaved dimensions and indicators of a structure, and its problems (each row checked by its
    model's own clean; codes unique in the rubric; max points adding up to 100)."""
    problems: list[Problem] = []
    total = Decimal(0)
    dims: list[tuple[Dimension, list[Indicator]]] = []
    dim_codes: set[str] = set()
    codes: set[str] = set()
    for d_order, spec in enumerate(structure):
        dim = Dimension(
            rubric=rubric,
            id=spec.get("id"),
            code=spec.get("code", ""),
            name=spec.get("name", ""),
            order=spec.get("order", d_order),
        )
        try:
            dim.full_clean(exclude=["rubric"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            problems += [
                Problem(m, EvaluationError.RUBRIC_INVALID, d_order, None, f, dim.name or dim.code)
                for f, m in _messages(exc)
            ]
        if dim.code in dim_codes:
            problems.append(
                Problem(
                    _("Dimension code “%(code)s” is used twice.") % {"code": dim.code},
                    EvaluationError.DUPLICATE_CODE,
                    d_order,
                    None,
                    "code",
                )
            )
        dim_codes.add(dim.code)
        inds = []
        for i_order, ispec in enumerate(spec.get("indicators", ())):
            values = {k: v for k, v in ispec.items() if k != "order"}
            ind = Indicator(dimension=dim, order=ispec.get("order", i_order), **values)
            where = f"{dim.name} / {ispec.get('name', '')}"
            try:
                ind.max_points = Decimal(str(ind.max_points))
                ind.full_clean(exclude=["dimension"], validate_unique=False, validate_constraints=False)
            except ArithmeticError:
                problems.append(
                    Problem(_("Enter a number."), EvaluationError.RUBRIC_INVALID, d_order, i_order, "max_points", where)
                )
                continue
            except ValidationError as exc:
                problems += [
                    Problem(m, EvaluationError.RUBRIC_INVALID, d_order, i_order, f, where) for f, m in _messages(exc)
                ]
                continue
            if rubric is not None and rubric.subject == Subject.TEACHER and ind.method == Indicator.Method.COMPUTED:
                problems.append(
                    Problem(
                        _("A teachers' rubric has no computed indicators: there is no metric per teacher."),
                        EvaluationError.RUBRIC_INVALID,
                        d_order,
                        i_order,
                        "method",
                        where,
                    )
                )
            if ind.code in codes:
                problems.append(
                    Problem(
                        _("Indicator code “%(code)s” is used twice.") % {"code": ind.code},
                        EvaluationError.DUPLICATE_CODE,
                        d_order,
                        i_order,
                        "code",
                    )
                )
            codes.add(ind.code)
            total += ind.max_points
            inds.append(ind)
        dims.append((dim, inds))
    # The total is the rubric's, across rows: checked once every row is sound.
    if not problems and total != Decimal(100):
        problems.append(
            Problem(
                _("The indicators' max points add up to %(total)s; they must add up to 100.") % {"total": total},
                EvaluationError.POINTS_NOT_100,
                field="max_points",
            )
        )
    return dims, problems


def structure_problems(structure: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """What is wrong with a structure (``[]``: nothing); writes nothing."""
    return _build(None, structure)[1]


def rubric_structure_problems(rubric: Rubric) -> list[str]:
    """What is wrong with a saved rubric's dimensions and indicators, in words (no query if they
    are prefetched)."""
    return [str(p) for p in structure_problems(_structure_of(rubric))]


def rubric_problems(rubric: Rubric) -> list[str]:
    """What is wrong with a saved rubric, in words (``[]``: it can score a period): its settings,
    each dimension and indicator, unique codes, and max points adding up to 100. The nightly
    run skips a period whose rubric has problems."""
    problems = []
    try:
        rubric.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        problems += [m for _f, m in _messages(exc)]
    return problems + rubric_structure_problems(rubric)


def _write_structure(rubric: Rubric, structure: Iterable[Mapping[str, Any]]) -> None:
    """Write the rubric's dimensions and indicators after validating every one of them: rows
    named by id (of this rubric) change in place, rows without one are added, the others go."""
    structure = list(structure)
    dims, problems = _build(rubric, structure)
    if problems:
        raise StructureError(problems)
    kept_dims = {d.pk for d, _i in dims if d.pk}
    existing_dims = set(rubric.dimensions.filter(pk__in=kept_dims).values_list("pk", flat=True))
    existing_inds = set(
        Indicator.objects.filter(
            dimension__rubric=rubric, pk__in=[i.pk for _d, inds in dims for i in inds if i.pk]
        ).values_list("pk", flat=True)
    )
    rubric.dimensions.exclude(pk__in=existing_dims).delete()
    Indicator.objects.filter(dimension__rubric=rubric).exclude(pk__in=existing_inds).delete()
    for dim, inds in dims:
        if dim.pk not in existing_dims:
            dim.pk = None
        dim.rubric = rubric
        dim.save(force_insert=dim.pk is None)
        for ind in inds:
            if ind.pk not in existing_inds:
                ind.pk = None
            ind.dimension = dim
            ind.save(force_insert=ind.pk is None)


def rubric_rehash(rubric: Rubric) -> Rubric:
    rubric = Rubric.objects.prefetch_related("dimensions__indicators").get(pk=rubric.pk)
    rubric.content_hash = rubric_hash(rubric)
    Rubric.objects.filter(pk=rubric.pk).update(content_hash=rubric.content_hash)
    return rubric


def _refuse_second_rubric(county: County, school_year: SchoolYear, subject: str = Subject.SCHOOL) -> None:
    if Rubric.objects.filter(county=county, school_year=school_year, subject=subject).exists():
        raise _error(
            _("%(year)s already has a rubric; revise it instead.") % {"year": school_year},
            EvaluationError.EXISTS,
            "school_year",
        )


def rubric_create(
    *, actor: Any, county: County, school_year: SchoolYear, structure: Iterable[Mapping[str, Any]], **settings: Any
) -> Rubric:
    """A new rubric (version 1) for a county's school year with its dimensions and indicators
    (``subject`` in the settings: whom it evaluates, schools by default)."""
    access.require_bureau_of(actor, county.pk)
    with transaction.atomic():
        _refuse_second_rubric(county, school_year, settings.get("subject", Subject.SCHOOL))
        rubric = Rubric(county=county, school_year=school_year, version=1, **settings)
        rubric.name = rubric.name or _default_name(rubric)
        rubric.full_clean()
        rubric.save()
        _write_structure(rubric, structure)
        return rubric_rehash(rubric)


def _default_name(rubric: Rubric) -> str:
    year = {"year": rubric.school_year}
    if rubric.subject == Subject.PRINCIPAL:
        return _("Principals' evaluation plan %(year)s") % year
    if rubric.subject == Subject.TEACHER:
        return _("Teachers' evaluation plan %(year)s") % year
    return _("Comprehensive evaluation plan %(year)s") % year


def rubric_create_default(
    *, county: County, school_year: SchoolYear, actor: Any = None, subject: str = Subject.SCHOOL
) -> Rubric:
    """Seed 003's dimensions as the county's rubric for the year (also used by the demo): the
    seven school dimensions, or the six of principals or the three of teachers (``subject``)."""
    if actor is not None:
        access.require_bureau_of(actor, county.pk)
    with transaction.atomic():
        _refuse_second_rubric(county, school_year, subject)
        rubric = Rubric(county=county, school_year=school_year, version=1, subject=subject)
        rubric.name = _default_name(rubric)
        rubric.full_clean()
        rubric.save()
        _write_structure(rubric, default_structure(subject))
        return rubric_rehash(rubric)


def rubric_update(
    *, actor: Any, rubric: Rubric, structure: Iterable[Mapping[str, Any]] | None = None, **settings: Any
) -> Rubric:
    """Change an unlocked rubric's settings and/or replace its dimensions and indicators."""
    access.require_bureau_of(actor, rubric.county_id)
    with transaction.atomic():
        rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
        if rubric.locked:
            raise _error(
                _("This rubric is locked because values have been entered; revise it to make a new version."),
                EvaluationError.LOCKED,
            )
        for key, value in settings.items():
            if key not in RUBRIC_SETTINGS:
                raise ValueError(key)
            setattr(rubric, key, value)
        rubric.full_clean()
        rubric.save()
        if structure is not None:
            _write_structure(rubric, structure)
        return rubric_rehash(rubric)


def rubric_revise(*, actor: Any, rubric: Rubric) -> Rubric:
    """A new, unlocked version copied from the rubric's latest version; it scores the year from
    now on and locks again when the next value is entered. Results keep the version they used."""
    access.require_bureau_of(actor, rubric.county_id)
    with transaction.atomic():
        latest = (
            Rubric.objects.select_for_update()
            .filter(county_id=rubric.county_id, school_year_id=rubric.school_year_id, subject=rubric.subject)
            .order_by("-version")
            .first()
        )
        assert latest is not None  # the rubric itself is among them
        copy = Rubric(
            county_id=latest.county_id,
            school_year_id=latest.school_year_id,
            version=latest.version + 1,
            subject=latest.subject,
            **{k: getattr(latest, k) for k in RUBRIC_SETTINGS},
        )
        copy.save()
        _write_structure(copy, _structure_of(latest))
        return rubric_rehash(copy)


def rubric_copy(*, actor: Any, county: County, school_year: SchoolYear, subject: str = Subject.SCHOOL) -> Rubric:
    """This year's rubric as a copy of last year's latest version (of the same subject)."""
    access.require_bureau_of(actor, county.pk)
    last = (
        Rubric.objects.filter(county=county, school_year__start_year=school_year.start_year - 1, subject=subject)
        .order_by("-version")
        .first()
    )
    if last is None:
        raise _error(
            _("There is no rubric of the %(year)s school year to copy.") % {"year": school_year.start_year - 1},
            EvaluationError.NO_LAST_YEAR,
        )
    return rubric_create(
        actor=actor,
        county=county,
        school_year=school_year,
        structure=_structure_of(last),
        subject=last.subject,
        **{k: getattr(last, k) for k in RUBRIC_SETTINGS if k != "name"},
    )
