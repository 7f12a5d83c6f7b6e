"""Fixtures for the evaluation tests: a two-indicator rubric for county X's 2025 year and
its school-year period, over the two alliances of the conftest, and that period published."""

import datetime as dt

import pytest
from django.utils import timezone

from evaluation import services
from evaluation.models import EvaluationPeriod

from .factories_evaluation import enter, make_rubric


@pytest.fixture
def simple_rubric(bureau_staff, school_year):
    return make_rubric(bureau_staff, school_year)


@pytest.fixture
def year_period(bureau_staff, school_year, simple_rubric, alliance, other_alliance):
    return services.period_create(actor=bureau_staff, school_year=school_year)


@pytest.fixture
def eval_schools(lead_school, member_school, other_lead_school, other_school):
    return {"lead": lead_school, "a": member_school, "other_lead": other_lead_school, "b": other_school}


@pytest.fixture
def published(bureau_staff, second_bureau_staff, year_period, simple_rubric, eval_schools, open_year):
    """County X's year period, published (revision 1): school B's own total is 40.00."""
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    period = services.publication_propose(actor=bureau_staff, period=year_period)
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    period.refresh_from_db()
    services.publication_approve(actor=second_bureau_staff, period=period)
    period.refresh_from_db()
    return period
