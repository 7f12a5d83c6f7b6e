"""Principals' and teachers' evaluation (seed 003): the same rubric machinery as the schools'
(dimensions → indicators → rules, manual and survey values, versions and hashes, grades, the
decline warning, four-eyes publishing), results per person, no award, each person's result
seen by its own readers only (docs/adr/0008)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from evaluation import services
from evaluation.compute import rubric_content
from evaluation.models import (
    AwardPolicy,
    EvaluationPeriod,
    Indicator,
    IndicatorValue,
    PersonResult,
    Publication,
    SchoolResult,
    Subject,
)
from funding.models import LedgerEntry

from .factories import TermFactory
from .factories_evaluation import indicator
from .factories_staffing import TeacherFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def principal_structure():
    """plan: 60 points, share of 100; satisfaction: 40 points in bands 90 → 40, 75 → 30, 60 → 20."""
    bands = {"bands": [["90", "40"], ["75", "30"], ["60", "20"]]}
    return [
        {"code": "planning", "name": "规划学校发展", "indicators": [indicator("plan", 60)]},
        {
            "code": "environment",
            "name": "调适外部环境",
            "indicators": [indicator("satisfaction", 40, method="survey", rule="bands", params=bands)],
        },
    ]


@pytest.fixture
def terms(school_year):
    first = TermFactory(school_year=school_year, number=1)
    second = TermFactory(
        school_year=school_year, number=2, start_date=dt.date(2026, 2, 20), end_date=dt.date(2026, 7, 10)
    )
    return first, second


@pytest.fixture
def principal_rubric(bureau_staff, school_year):
    return services.rubric_create(
        actor=bureau_staff,
        county=school_year.county,
        school_year=school_year,
        structure=principal_structure(),
        subject=Subject.PRINCIPAL,
        decline_periods=1,
    )


def _period(actor, school_year, subject, term=None):
    return services.period_create(actor=actor, school_year=school_year, term=term, subject=subject)


def _enter(actor, period, rubric, *, school=None, teacher=None, **values):
    for code, value in values.items():
        ind = Indicator.objects.get(dimension__rubric=rubric, code=code)
        services.indicator_value_set(
            actor=actor, period=period, indicator=ind, school=school, teacher=teacher, value=value
        )


def _end_notice(period):
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    period.refresh_from_db()
    return period


@pytest.fixture
def principal_terms(
    bureau_staff, school_year, terms, principal_rubric, lead_school, member_school, other_lead_school, other_school
):
    """Two principals' term periods of county X with values: school A's principal falls from 72 to 56."""
    first = _period(bureau_staff, school_year, Subject.PRINCIPAL, terms[0])
    second = _period(bureau_staff, school_year, Subject.PRINCIPAL, terms[1])
    _enter(bureau_staff, first, principal_rubric, school=lead_school, plan=90, satisfaction=95)
    _enter(bureau_staff, first, principal_rubric, school=member_school, plan=70, satisfaction=80)
    _enter(bureau_staff, first, principal_rubric, school=other_lead_school, plan=50, satisfaction=50)
    _enter(bureau_staff, second, principal_rubric, school=lead_school, plan=95, satisfaction=91)
    _enter(bureau_staff, second, principal_rubric, school=member_school, plan=60, satisfaction=70)
    return first, second


def _scores(period):
    return {
        (r.teacher_id or r.school_id): (r.score, r.grade, r.falls) for r in PersonResult.objects.filter(period=period)
    }


# --- the defaults -------------------------------------------------------------------------


def test_seed_003_dimensions_are_the_default_principals_and_teachers_rubrics(bureau_staff, school_year):
    # when the bureau takes the defaults for principals and for teachers
    principals = services.rubric_create_default(
        actor=bureau_staff, county=school_year.county, school_year=school_year, subject=Subject.PRINCIPAL
    )
    teachers = services.rubric_create_default(
        actor=bureau_staff, county=school_year.county, school_year=school_year, subject=Subject.TEACHER
    )
    schools = services.rubric_create_default(actor=bureau_staff, county=school_year.county, school_year=school_year)

    # then each is a rubric of its own subject, 100 points, seed 003's dimensions in order
    assert [d.code for d in principals.dimensions.all()] == [
        "planning", "culture", "leading_teaching", "teacher_growth", "internal_management", "external_environment",
    ]  # fmt: skip
    assert [d.code for d in teachers.dimensions.all()] == ["ethics", "teaching_quality", "moral_education"]
    for rubric in (principals, teachers, schools):
        assert services.rubric_problems(rubric) == []
    assert (principals.subject, teachers.subject, schools.subject) == ("principal", "teacher", "school")
    # and the three rubrics hash apart; the school rubric's content names no subject (hash unchanged)
    assert len({principals.content_hash, teachers.content_hash, schools.content_hash}) == 3
    assert "subject" not in rubric_content(schools)
    assert rubric_content(principals)["subject"] == "principal"


def test_a_teachers_rubric_refuses_a_computed_indicator(bureau_staff, school_year):
    structure = [
        {
            "code": "main",
            "name": "主维度",
            "indicators": [indicator("training", 100, method="computed", metric="training_person_times")],
        }
    ]
    with pytest.raises(ValidationError, match="no metric per teacher"):
        services.rubric_create(
            actor=bureau_staff,
            county=school_year.county,
            school_year=school_year,
            structure=structure,
            subject=Subject.TEACHER,
        )


# --- principals, end to end ------------------------------------------------------------------


def test_principals_are_scored_graded_and_warned_from_their_values(
    principal_terms, principal_rubric, lead_school, member_school, other_lead_school, other_school
):
    first, second = principal_terms

    # when the nightly run scores the county
    run = services.evaluation_run(county=lead_school.county, start_year=2025)

    # then each principal's score is plan × 0.6 + the satisfaction band, graded 90/75/60:
    # lead 54 + 40 = 94 excellent; A 42 + 30 = 72 pass; other lead 30 + 0 = 30 fail; B no values: 0
    assert _scores(first) == {
        lead_school.pk: (D("94.00"), "excellent", 0),
        member_school.pk: (D("72.00"), "pass", 0),
        other_lead_school.pk: (D("30.00"), "fail", 0),
        other_school.pk: (D("0.00"), "fail", 0),
    }
    # and in the second term A's principal fell from 72 to 36 + 20 = 56 (decline_periods 1): warned;
    # the lead's 57 + 40 = 97 rose, the others stayed at 0 (no fall)
    assert _scores(second) == {
        lead_school.pk: (D("97.00"), "excellent", 0),
        member_school.pk: (D("56.00"), "fail", 1),
        other_lead_school.pk: (D("0.00"), "fail", 1),
        other_school.pk: (D("0.00"), "fail", 0),
    }
    warned = PersonResult.objects.get(period=second, school=member_school)
    assert warned.decline_scores == ["72.00", "56.00"]
    assert warned.trace["decline"] == {"falls": 1, "scores": ["72.00", "56.00"]}
    # and no school result was written for a principals' period; the run counts the people
    assert not SchoolResult.objects.exists()
    assert run.people_count == 8 and run.periods_count == 2
    # and the trace explains each figure with the rubric's words and hash (the same as a school's)
    explained = warned.explained_trace
    assert explained["rubric"]["snapshot"] == "verified"
    assert explained["rubric"]["hash"] == principal_rubric.content_hash
    assert [(i["code"], i["source"], i["raw_value"], i["points"]) for i in explained["indicators"]] == [
        ("plan", "entered", "60.0000", "36.00"),
        ("satisfaction", "entered", "70.0000", "20.00"),
    ]
    assert explained["subject"] == {"kind": "principal", "school_id": member_school.pk, "teacher_id": None}


def test_a_second_run_rewrites_nothing_and_a_changed_value_changes_one_row(
    bureau_staff, principal_terms, principal_rubric, member_school
):
    first, _second = principal_terms
    services.evaluation_run(county=member_school.county, start_year=2025)
    before = dict(PersonResult.objects.filter(period=first).values_list("school_id", "row_digest"))

    _enter(bureau_staff, first, principal_rubric, school=member_school, plan=100)
    services.evaluation_run(county=member_school.county, start_year=2025)

    after = dict(PersonResult.objects.filter(period=first).values_list("school_id", "row_digest"))
    assert {s for s in after if after[s] != before[s]} == {member_school.pk}
    assert PersonResult.objects.get(period=first, school=member_school).score == D("90.00")  # 60 + 30


def test_a_revised_rubric_scores_with_its_new_version_and_hash(bureau_staff, principal_terms, principal_rubric):
    first, _second = principal_terms
    revised = services.rubric_revise(actor=bureau_staff, rubric=principal_rubric)
    revised = services.rubric_update(
        actor=bureau_staff, rubric=revised, grade_bands={"excellent": "95", "good": "80", "pass": "70"}
    )
    services.evaluation_run(county=first.county, start_year=2025)
    row = PersonResult.objects.get(period=first, school__code="M001")
    assert (row.rubric_version, row.rubric_hash) == (2, revised.content_hash)
    assert row.grade == "pass"  # 72 ≥ 70


# --- teachers ----------------------------------------------------------------------------------


@pytest.fixture
def teacher_world(bureau_staff, school_year, member_school, lead_school, other_school):
    rubric = services.rubric_create_default(
        actor=bureau_staff, county=school_year.county, school_year=school_year, subject=Subject.TEACHER
    )
    period = _period(bureau_staff, school_year, Subject.TEACHER)
    teachers = {
        "a1": TeacherFactory(school=member_school, name="张老师"),
        "a2": TeacherFactory(school=member_school, name="李老师"),
        "lead": TeacherFactory(school=lead_school, name="王老师"),
        "b": TeacherFactory(school=other_school, name="赵老师"),
    }
    return rubric, period, teachers


def test_teachers_are_scored_by_seed_003s_three_dimensions(bureau_staff, teacher_world):
    rubric, period, t = teacher_world
    # given the values of two teachers of school A
    _enter(
        bureau_staff, period, rubric, teacher=t["a1"],
        ethics=90, satisfaction=96, teaching_results=80, lesson_quality=80, class_work=100, student_growth=60,
    )  # fmt: skip
    _enter(bureau_staff, period, rubric, teacher=t["a2"], ethics=100)

    # when the run scores the teachers' year
    services.evaluation_run(county=period.county, start_year=2025)

    # then: ethics 20 × 0.9 = 18, satisfaction ≥ 95 → 10, results 25 × 0.8 = 20, lessons 15 × 0.8 = 12,
    # class work 15, growth 15 × 0.6 = 9: 84 good; the second only ethics: 20 fail; the others 0
    assert _scores(period) == {
        t["a1"].pk: (D("84.00"), "good", 0),
        t["a2"].pk: (D("20.00"), "fail", 0),
        t["lead"].pk: (D("0.00"), "fail", 0),
        t["b"].pk: (D("0.00"), "fail", 0),
    }
    row = PersonResult.objects.get(period=period, teacher=t["a1"])
    assert (row.subject, row.school_id) == ("teacher", t["a1"].school_id)


def test_values_of_teachers_go_through_the_values_endpoint_with_the_teacher(
    api_as, assessor, teacher_world, member_school
):
    rubric, period, t = teacher_world
    ethics = Indicator.objects.get(dimension__rubric=rubric, code="ethics")
    api = api_as(assessor)
    # the assessor of school A enters its teacher's value: the value is the teacher's, at school A
    r = api.post(
        "/api/v1/evaluation/values/",
        {"period": period.pk, "indicator": ethics.pk, "teacher": t["a1"].pk, "value": "88"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert (r.json()["teacher"], r.json()["school"]) == (t["a1"].pk, member_school.pk)
    # a second entry changes the same row
    r = api.post(
        "/api/v1/evaluation/values/",
        {"period": period.pk, "indicator": ethics.pk, "teacher": t["a1"].pk, "value": "90"},
        format="json",
    )
    assert r.status_code == 201
    assert IndicatorValue.objects.get(period=period, teacher=t["a1"]).value == D("90")
    # a teacher of a school not assigned to her is not offered (400), nor a school alone for teachers
    r = api.post(
        "/api/v1/evaluation/values/",
        {"period": period.pk, "indicator": ethics.pk, "teacher": t["b"].pk, "value": "90"},
        format="json",
    )
    assert r.status_code == 400
    r = api.post(
        "/api/v1/evaluation/values/",
        {"period": period.pk, "indicator": ethics.pk, "school": member_school.pk, "value": "90"},
        format="json",
    )
    assert r.status_code == 400
    assert "teacher" in r.json()


def test_a_principals_value_names_the_school_and_no_teacher(
    bureau_staff, principal_terms, principal_rubric, member_school, teacher_world
):
    first, _ = principal_terms
    plan = Indicator.objects.get(dimension__rubric=principal_rubric, code="plan")
    with pytest.raises(ValidationError, match="does not evaluate teachers"):
        services.indicator_value_set(
            actor=bureau_staff, period=first, indicator=plan, teacher=teacher_world[2]["a1"], value=50
        )
    # and a school rubric's indicator is not part of a principals' period
    school_rubric = services.rubric_create_default(
        actor=bureau_staff, county=first.county, school_year=first.school_year
    )
    mechanism = Indicator.objects.get(dimension__rubric=school_rubric, code="mechanism")
    with pytest.raises(ValidationError, match="not part of the current rubric"):
        services.indicator_value_set(
            actor=bureau_staff, period=first, indicator=mechanism, school=member_school, value=50
        )


# --- publishing: four eyes, no award -----------------------------------------------------------


def test_publishing_a_principals_period_takes_four_eyes_and_books_no_award(
    bureau_staff, second_bureau_staff, principal_terms, open_year, school_year
):
    first, _ = principal_terms
    entries = LedgerEntry.objects.count()
    policy = AwardPolicy.objects.create(county=school_year.county, school_year=school_year)

    period = services.publication_propose(actor=bureau_staff, period=first)
    assert period.status == "proposed"
    assert PersonResult.objects.filter(period=period).count() == 4
    # the school year's award policy is not settled by a people's proposal (it pays nothing)
    assert not policy.is_settled
    # the proposer may not approve; a second bureau user may, after the notice
    period = _end_notice(period)
    with pytest.raises(ValidationError, match="four eyes"):
        services.publication_approve(actor=bureau_staff, period=period)
    publication = services.publication_approve(actor=second_bureau_staff, period=period)

    assert isinstance(publication, Publication)
    assert (publication.awards, publication.ledger_entry_id) == ({}, None)
    assert LedgerEntry.objects.count() == entries
    period.refresh_from_db()
    assert period.status == "published"
    # published results are frozen: the nightly run leaves them, values are refused
    services.evaluation_run(county=period.county, start_year=2025)
    assert PersonResult.objects.get(period=period, school__code="L001").score == D("94.00")


# --- access ------------------------------------------------------------------------------------


@pytest.fixture
def proposed_people(bureau_staff, principal_terms, teacher_world):
    """The first principals' term and the teachers' year, proposed (public notice)."""
    first, _ = principal_terms
    _rubric, teachers_period, teachers = teacher_world
    services.publication_propose(actor=bureau_staff, period=first)
    services.publication_propose(actor=bureau_staff, period=teachers_period)
    return first, teachers_period, teachers


def _listed(api, period):
    r = api.get("/api/v1/evaluation/person-results/", {"period": period.pk})
    assert r.status_code == 200
    return {(row["teacher"] or row["school"]) for row in r.json()["results"]}


def test_a_principal_sees_its_own_result_and_its_schools_teachers_only(
    api_as, principal, proposed_people, member_school, lead_school, other_school
):
    principals_period, teachers_period, t = proposed_people
    api = api_as(principal)
    assert _listed(api, principals_period) == {member_school.pk}
    assert _listed(api, teachers_period) == {t["a1"].pk, t["a2"].pk}
    # another principal's result is a 404, as if it did not exist
    other = PersonResult.objects.get(period=principals_period, school=other_school)
    lead = PersonResult.objects.get(period=principals_period, school=lead_school)
    for row in (other, lead):
        assert api.get(f"/api/v1/evaluation/person-results/{row.pk}/").status_code == 404
    own = PersonResult.objects.get(period=principals_period, school=member_school)
    r = api.get(f"/api/v1/evaluation/person-results/{own.pk}/")
    assert r.status_code == 200
    assert r.json()["score"] == "72.00"
    assert [i["code"] for i in r.json()["trace"]["indicators"]] == ["plan", "satisfaction"]


def test_a_lead_principal_sees_its_alliances_teachers_but_not_their_principals(
    api_as, lead_principal, proposed_people, lead_school
):
    principals_period, teachers_period, t = proposed_people
    api = api_as(lead_principal)
    assert _listed(api, principals_period) == {lead_school.pk}
    assert _listed(api, teachers_period) == {t["lead"].pk, t["a1"].pk, t["a2"].pk}


def test_the_bureau_and_auditors_see_the_county_others_nothing(
    api_as, bureau_staff, auditor, assessor, other_bureau_staff, other_school_principal, proposed_people, other_school
):
    principals_period, teachers_period, t = proposed_people
    everyone = set(PersonResult.objects.filter(period=principals_period).values_list("school_id", flat=True))
    for user in (bureau_staff, auditor):
        assert _listed(api_as(user), principals_period) == everyone
        assert _listed(api_as(user), teachers_period) == {x.pk for x in t.values()}
    assert _listed(api_as(other_bureau_staff), principals_period) == set()
    assert _listed(api_as(assessor), teachers_period) == set()  # enters values, reads no result
    assert _listed(api_as(other_school_principal), teachers_period) == {t["b"].pk}


def test_schools_see_nothing_before_the_proposal(api_as, principal, bureau_staff, principal_terms):
    first, _ = principal_terms
    services.evaluation_run(county=first.county, start_year=2025)
    assert _listed(api_as(principal), first) == set()
    assert len(_listed(api_as(bureau_staff), first)) == 4


def test_a_principal_appeals_its_own_principal_result_but_no_teachers_period(
    principal, bureau_staff, proposed_people, member_school
):
    principals_period, teachers_period, _t = proposed_people
    plan = Indicator.objects.get(dimension__rubric__subject="principal", code="plan")
    # during the notice, a principal appeals a value of its own principal result
    appeal = services.appeal_file(actor=principal, period=principals_period, indicator=plan, reason="述职材料漏计")
    assert appeal.school == member_school
    # accepted, the value is corrected and its result recomputed: 36 + 30 = 66
    services.appeal_accept(actor=bureau_staff, appeal=appeal, value=60)
    assert PersonResult.objects.get(period=principals_period, school=member_school).score == D("66.00")
    # a teachers' period takes none
    ethics = Indicator.objects.get(dimension__rubric__subject="teacher", code="ethics")
    with pytest.raises(ValidationError, match="takes no appeals"):
        services.appeal_file(actor=principal, period=teachers_period, indicator=ethics, reason="复核")
