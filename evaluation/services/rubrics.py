"""Writing rubrics: create (from a structure, the default or last year's), update while
unlocked, revise into a new version; each write stores the rubric's content hash."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import County, SchoolYear

from ..compute import rubric_hash
from ..models import Dimension, Indicator, Rubric
from .default_rubric import default_rubric_structure
from .errors import EvaluationError, _error

RUBRIC_SETTINGS = ("name", "beta", "bundling_basis", "alliance_averaging", "grade_bands", "decline_periods")


def _structure_of(rubric: Rubric) -> list[dict[str, Any]]:
    fields = ("code", "name", "max_points", "method", "metric_key", "rule", "rule_params", "direction")
    return [
        {
            "code": d.code,
            "name": d.name,
            "indicators": [{f: getattr(i, f) for f in (*fields, "value_min", "value_max")} for i in d.indicators.all()],
        }
        for d in rubric.dimensions.prefetch_related("indicators")
    ]


def _write_structure(rubric: Rubric, structure: Iterable[Mapping[str, Any]]) -> None:
    """Replace the rubric's dimensions and indicators after validating every one of them."""
    errors: list[str] = []
    total = Decimal(0)
    dims: list[tuple[Dimension, list[Indicator]]] = []
    dim_codes: set[str] = set()
    for d_order, spec in enumerate(structure):
        dim = Dimension(rubric=rubric, code=spec.get("code", ""), name=spec.get("name", ""), order=d_order)
        if dim.code in dim_codes:
            errors.append(_("Dimension code “%(code)s” is used twice.") % {"code": dim.code})
        dim_codes.add(dim.code)
        inds = []
        codes: set[str] = set()
        for i_order, ispec in enumerate(spec.get("indicators", ())):
            ind = Indicator(dimension=dim, order=i_order, **{k: v for k, v in ispec.items() if k != "id"})
            try:
                ind.max_points = Decimal(str(ind.max_points))
                ind.full_clean(exclude=["dimension"], validate_unique=False)
            except (ValidationError, ArithmeticError) as exc:
                msgs = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                errors.append(f"{dim.name} / {ispec.get('name', '')}: " + " ".join(msgs))
                continue
            if ind.code in codes:
                errors.append(_("Indicator code “%(code)s” is used twice.") % {"code": ind.code})
            codes.add(ind.code)
            total += ind.max_points
            inds.append(ind)
        dims.append((dim, inds))
    if not errors and total != Decimal(100):
        raise _error(
            _("The indicators' max points add up to %(total)s; they must add up to 100.") % {"total": total},
            EvaluationError.POINTS_NOT_100,
        )
    if errors:
        raise ValidationError(errors)
    rubric.dimensions.all().delete()
    for dim, inds in dims:
        dim.save()
        for ind in inds:
            ind.dimension = dim
        Indicator.objects.bulk_create(inds)


def rubric_rehash(rubric: Rubric) -> Rubric:
    rubric = Rubric.objects.prefetch_related("dimensions__indicators").get(pk=rubric.pk)
    rubric.content_hash = rubric_hash(rubric)
    Rubric.objects.filter(pk=rubric.pk).update(content_hash=rubric.content_hash)
    return rubric


def rubric_create(
    *, actor: Any, county: County, school_year: SchoolYear, structure: Iterable[Mapping[str, Any]], **settings: Any
) -> Rubric:
    """A new rubric (version 1) for a county's school year with its dimensions and indicators."""
    access.require_bureau_of(actor, county.pk)
    with transaction.atomic():
        if Rubric.objects.filter(county=county, school_year=school_year).exists():
            raise _error(
                _("%(year)s already has a rubric; revise it instead.") % {"year": school_year}, EvaluationError.EXISTS
            )
        rubric = Rubric(county=county, school_year=school_year, version=1, **settings)
        rubric.name = rubric.name or _("Comprehensive evaluation plan %(year)s") % {"year": school_year}
        rubric.full_clean()
        rubric.save()
        _write_structure(rubric, structure)
        return rubric_rehash(rubric)


def rubric_create_default(*, county: County, school_year: SchoolYear, actor: Any = None) -> Rubric:
    """Seed 003's seven dimensions as the county's rubric for the year (also used by the demo)."""
    if actor is not None:
        access.require_bureau_of(actor, county.pk)
    with transaction.atomic():
        rubric = Rubric(
            county=county,
            school_year=school_year,
            version=1,
            name=_("Comprehensive evaluation plan %(year)s") % {"year": school_year},
        )
        rubric.full_clean()
        rubric.save()
        _write_structure(rubric, default_rubric_structure())
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
            .filter(county_id=rubric.county_id, school_year_id=rubric.school_year_id)
            .order_by("-version")
            .first()
        )
        copy = Rubric(
            county_id=latest.county_id,
            school_year_id=latest.school_year_id,
            version=latest.version + 1,
            **{k: getattr(latest, k) for k in RUBRIC_SETTINGS},
        )
        copy.save()
        _write_structure(copy, _structure_of(latest))
        return rubric_rehash(copy)


def rubric_copy(*, actor: Any, county: County, school_year: SchoolYear) -> Rubric:
    """This year's rubric as a copy of last year's latest version."""
    access.require_bureau_of(actor, county.pk)
    last = (
        Rubric.objects.filter(county=county, school_year__start_year=school_year.start_year - 1)
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
        **{k: getattr(last, k) for k in RUBRIC_SETTINGS if k != "name"},
    )
