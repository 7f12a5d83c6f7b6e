"""The portal tests' shared pieces: a valid PDF and PNG for uploads, a signed-in test client and a
period under public notice."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluation import services as evaluation_services

from .factories_evaluation import enter

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def signed_in(user) -> Client:
    """A test client signed in as ``user`` (no password needed)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def proposed(bureau_staff, year_period, simple_rubric, eval_schools, open_year):
    """County X's year period under public notice; school A scored 50 quality, 75 care."""
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    return evaluation_services.publication_propose(actor=bureau_staff, period=year_period)


@pytest.fixture
def people_proposed(bureau_staff, school_year, lead_school, member_school, other_school):
    """County X's principals and teachers on public notice (seed 003): two principals' terms
    (plan 60 points, full from 100; satisfaction 40 points in bands 90 → 40, 75 → 30, 60 → 20;
    a fall of one period warns) in which school A's principal falls from 72 to 56, and a
    teachers' year (the default rubric) with a teacher at A, one at the lead school and one at B."""
    import datetime as dt

    from .factories import TermFactory
    from .factories_evaluation import indicator
    from .factories_staffing import TeacherFactory

    bands = {"bands": [["90", "40"], ["75", "30"], ["60", "20"]]}
    structure = [
        {"code": "planning", "name": "规划学校发展", "indicators": [indicator("plan", 60)]},
        {
            "code": "environment",
            "name": "调适外部环境",
            "indicators": [indicator("satisfaction", 40, method="survey", rule="bands", params=bands)],
        },
    ]
    rubric = evaluation_services.rubric_create(
        actor=bureau_staff, county=school_year.county, school_year=school_year, structure=structure,
        subject="principal", decline_periods=1,
    )  # fmt: skip
    terms = (
        TermFactory(school_year=school_year, number=1),
        TermFactory(school_year=school_year, number=2, start_date=dt.date(2026, 2, 20), end_date=dt.date(2026, 7, 10)),
    )
    periods = [
        evaluation_services.period_create(actor=bureau_staff, school_year=school_year, term=t, subject="principal")
        for t in terms
    ]
    enter(bureau_staff, periods[0], rubric, member_school, plan=70, satisfaction=80)
    enter(bureau_staff, periods[1], rubric, member_school, plan=60, satisfaction=70)
    enter(bureau_staff, periods[1], rubric, lead_school, plan=95, satisfaction=91)
    teachers_rubric = evaluation_services.rubric_create_default(
        actor=bureau_staff, county=school_year.county, school_year=school_year, subject="teacher"
    )
    teachers_period = evaluation_services.period_create(actor=bureau_staff, school_year=school_year, subject="teacher")
    teachers = {
        "a": TeacherFactory(school=member_school, name="张老师"),
        "lead": TeacherFactory(school=lead_school, name="王老师"),
        "b": TeacherFactory(school=other_school, name="赵老师"),
    }
    ethics = teachers_rubric.dimensions.get(code="ethics").indicators.get(code="ethics")
    for key, value in (("a", 90), ("lead", 80), ("b", 70)):
        evaluation_services.indicator_value_set(
            actor=bureau_staff, period=teachers_period, indicator=ethics, teacher=teachers[key], value=value
        )
    for period in (*periods, teachers_period):
        evaluation_services.publication_propose(actor=bureau_staff, period=period)
    return {"principals": periods, "teachers_period": teachers_period, "teachers": teachers}
