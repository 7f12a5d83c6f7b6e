"""Evaluation periods and the values entered for their indicators (manual and survey
indicators; computed ones change only through appeals)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from alliance import access
from alliance.models import School, SchoolYear, Term
from staffing.models import Teacher

from ..compute import current_rubric
from ..models import EvaluationPeriod, Indicator, IndicatorValue, Rubric, Subject
from .errors import EvaluationError, _error


def period_create(
    *,
    actor: Any,
    school_year: SchoolYear,
    term: Term | None = None,
    notice_days: int = 7,
    subject: str = Subject.SCHOOL,
) -> EvaluationPeriod:
    """A term or school-year period of the county; ``subject``: whom it evaluates (schools, or
    principals or teachers by their own rubric)."""
    access.require_bureau_of(actor, school_year.county_id)
    with transaction.atomic():
        period = EvaluationPeriod(
            county_id=school_year.county_id,
            school_year=school_year,
            subject=subject,
            kind=EvaluationPeriod.Kind.TERM if term else EvaluationPeriod.Kind.YEAR,
            term=term,
            start_date=(term or school_year).start_date,
            end_date=(term or school_year).end_date,
            notice_days=notice_days,
        )
        period.full_clean()
        period.save()
        return period


def _check_value(indicator: Indicator, value: Any) -> Decimal:
    try:
        value = Decimal(str(value))
    except ArithmeticError:
        raise _error(_("Enter a number."), EvaluationError.OUT_OF_RANGE, "value") from None
    if not value.is_finite() or not (indicator.value_min <= value <= indicator.value_max):
        raise _error(
            _("%(indicator)s takes values from %(low)s to %(high)s.")
            % {
                "indicator": indicator.name,
                "low": format(indicator.value_min.normalize(), "f"),
                "high": format(indicator.value_max.normalize(), "f"),
            },
            EvaluationError.OUT_OF_RANGE,
            "value",
        )
    return value


def _indicator_of_period(period: EvaluationPeriod, indicator: Indicator) -> Rubric:
    rubric = current_rubric(period.county_id, period.school_year_id, period.subject)
    if rubric is None or not Indicator.objects.filter(pk=indicator.pk, dimension__rubric=rubric).exists():
        raise _error(
            _("This indicator is not part of the current rubric of %(period)s.") % {"period": period},
            EvaluationError.NOT_IN_RUBRIC,
            "indicator",
        )
    return rubric


def _require_period_open(period: EvaluationPeriod) -> None:
    if period.status == EvaluationPeriod.Status.PUBLISHED:
        raise _error(
            _("%(period)s is published; its values can no longer change.") % {"period": period},
            EvaluationError.PERIOD_PUBLISHED,
        )
    if period.status != EvaluationPeriod.Status.OPEN:
        raise _error(
            _("%(period)s is under public notice; values change only through appeals.") % {"period": period},
            EvaluationError.PERIOD_NOT_OPEN,
        )


def _subject_school(period: EvaluationPeriod, school: School | None, teacher: Teacher | None) -> School:
    """The school a value is entered for (whose assessors may enter it): the school named, or a
    teachers' period's teacher's school. A teachers' period takes a teacher, the others none."""
    if period.subject == Subject.TEACHER:
        if teacher is None:
            raise _error(_("Name the teacher evaluated."), EvaluationError.NO_SUBJECT, "teacher")
        if school is not None and school.pk != teacher.school_id:
            raise _error(_("The teacher teaches at another school."), EvaluationError.NO_SUBJECT, "teacher")
        return teacher.school
    if teacher is not None:
        raise _error(
            _("%(period)s does not evaluate teachers: name the school only.") % {"period": period},
            EvaluationError.NO_SUBJECT,
            "teacher",
        )
    if school is None:
        raise _error(_("Name the school."), EvaluationError.NO_SUBJECT, "school")
    return school


def indicator_value_set(
    *,
    actor: Any,
    period: EvaluationPeriod,
    indicator: Indicator,
    school: School | None = None,
    value: Any,
    comment: str = "",
    evidence: Any = None,
    teacher: Teacher | None = None,
) -> IndicatorValue:
    """Enter (or change) a manual or survey value. Assessors only for their assigned schools
    (and those schools' principals and teachers); bureau staff for any school of the county.
    A teachers' period names the teacher (its school is the teacher's); a principals' period
    names the school whose principal is evaluated. Locks the rubric."""
    with transaction.atomic():
        period = EvaluationPeriod.objects.select_for_update().get(pk=period.pk)
        school = _subject_school(period, school, teacher)
        access.require_assessor_of(actor, school, period.county_id, code=EvaluationError.NOT_ASSESSOR_OF_SCHOOL)
        if school.county_id != period.county_id:  # the bureau naming a school of another county
            raise _error(_("The school belongs to another county."), EvaluationError.OTHER_COUNTY, "school")
        _require_period_open(period)
        rubric = _indicator_of_period(period, indicator)
        if indicator.method == Indicator.Method.COMPUTED:
            raise _error(
                _("%(indicator)s is computed from logged data; correct it through an appeal.")
                % {"indicator": indicator.name},
                EvaluationError.COMPUTED_INDICATOR,
                "indicator",
            )
        value = _check_value(indicator, value)
        row, _created = IndicatorValue.objects.update_or_create(
            period=period,
            indicator=indicator,
            **IndicatorValue.subject_key(school.pk, teacher.pk if teacher is not None else None),
            defaults={
                "school": school,
                "value": value,
                "comment": comment,
                "entered_by": actor,
                **({"evidence": evidence} if evidence else {}),
            },
        )
        Rubric.objects.filter(pk=rubric.pk, locked=False).update(locked=True)
        return row
