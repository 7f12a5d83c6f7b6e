"""Fixtures for the evaluation tests: a two-indicator rubric for county X's 2025 year and
its school-year period, over the two alliances of the conftest."""

import pytest

from evaluation import services

from .factories_evaluation import make_rubric


@pytest.fixture
def simple_rubric(bureau_staff, school_year):
    return make_rubric(bureau_staff, school_year)


@pytest.fixture
def year_period(bureau_staff, school_year, simple_rubric, alliance, other_alliance):
    return services.period_create(actor=bureau_staff, school_year=school_year)


@pytest.fixture
def eval_schools(lead_school, member_school, other_lead_school, other_school):
    return {"lead": lead_school, "a": member_school, "other_lead": other_lead_school, "b": other_school}
