"""Supervision (seed 004): the responsible supervisor (责任督学, the assessor role) logs visits to
its assigned schools with rectification items (整改); the school's principal answers them and the
supervisor closes them; the bureau sees a school × month grid with the months below the rule
marked. The role × endpoint table is tests/permission_table.py's; the metrics' values are
tests/test_evaluation_metrics.py's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from alliance.access import Role
from staffing.models import Activity, Rectification, SupervisionVisit
from staffing.supervision import months_between, visit_grid

from .factories import SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def visit(assessor, member_school):
    return SupervisionVisit.objects.create(school=member_school, supervisor=assessor, date=D(2025, 10, 10))


@pytest.fixture
def rectification(visit):
    return Rectification.objects.create(visit=visit, item="完善校本教研记录", due_date=D(2025, 11, 10))


def _errors(response) -> str:
    return response.content.decode()


# --- logging a visit ----------------------------------------------------------------------


def test_the_assessor_logs_a_visit_of_an_assigned_school(api_as, assessor, member_school):
    # given the supervisor of school A
    api = api_as(assessor)
    # when it logs a visit with its forms and findings
    response = api.post(
        reverse("supervisionvisit-list"),
        {"school": member_school.pk, "date": "2025-11-05", "forms": ["campus_tour", "lesson_observation"],
         "findings": "课堂常规良好"},
        format="json",
    )  # fmt: skip
    # then it is recorded as the visit's supervisor
    assert response.status_code == 201, _errors(response)
    visit = SupervisionVisit.objects.get(pk=response.json()["id"])
    assert visit.supervisor == assessor
    assert visit.forms == ["campus_tour", "lesson_observation"]


def test_the_assessor_is_refused_for_an_unassigned_school(api_as, assessor, other_school):
    # when the supervisor of school A logs a visit of school B
    response = api_as(assessor).post(
        reverse("supervisionvisit-list"), {"school": other_school.pk, "date": "2025-11-05"}, format="json"
    )
    # then the rule says why, and nothing is written
    assert response.status_code == 400
    with translation.override("zh-hans"):
        message = translation.gettext("This school is not among the schools assigned to you.")
    assert response.json()["school"] == [message]
    assert not SupervisionVisit.objects.exists()


def test_the_assessor_is_refused_for_another_countys_school(api_as, assessor, foreign_school):
    response = api_as(assessor).post(
        reverse("supervisionvisit-list"), {"school": foreign_school.pk, "date": "2025-11-05"}, format="json"
    )
    assert response.status_code == 400
    assert "school" in response.json()
    assert not SupervisionVisit.objects.exists()


def test_a_principal_logs_no_visits(api_as, principal, member_school):
    response = api_as(principal).post(
        reverse("supervisionvisit-list"), {"school": member_school.pk, "date": "2025-11-05"}, format="json"
    )
    assert response.status_code == 403


def test_the_bureau_names_an_assigned_supervisor_or_none(api_as, bureau_staff, assessor, member_school, other_school):
    api = api_as(bureau_staff)
    url = reverse("supervisionvisit-list")
    # the bureau names school A's supervisor
    ok = api.post(url, {"school": member_school.pk, "supervisor": assessor.pk, "date": "2025-11-05"}, format="json")
    assert ok.status_code == 201, _errors(ok)
    assert ok.json()["supervisor"] == assessor.pk
    # but not for school B, to which the assessor is not assigned
    refused = api.post(url, {"school": other_school.pk, "supervisor": assessor.pk, "date": "2025-11-05"}, format="json")
    assert refused.status_code == 400
    assert "supervisor" in refused.json()
    # without a supervisor the bureau's own visit
    own = api.post(url, {"school": other_school.pk, "date": "2025-11-06"}, format="json")
    assert own.status_code == 201
    assert own.json()["supervisor"] == bureau_staff.pk


def test_an_unknown_form_of_visit_is_refused(api_as, assessor, member_school):
    response = api_as(assessor).post(
        reverse("supervisionvisit-list"),
        {"school": member_school.pk, "date": "2025-11-05", "forms": ["picnic"]},
        format="json",
    )
    assert response.status_code == 400
    assert "forms" in response.json()


# --- rectification items --------------------------------------------------------------------


def test_the_supervisor_sets_a_rectification_item(api_as, assessor, visit):
    response = api_as(assessor).post(
        reverse("rectification-list"), {"visit": visit.pk, "item": "规范作业布置", "due_date": "2025-12-01"}
    )
    assert response.status_code == 201, _errors(response)
    assert response.json()["status"] == "open"


def test_a_due_date_before_the_visit_is_refused(api_as, assessor, visit):
    response = api_as(assessor).post(
        reverse("rectification-list"), {"visit": visit.pk, "item": "规范作业布置", "due_date": "2025-10-01"}
    )
    assert response.status_code == 400
    assert "due_date" in response.json()
    assert not Rectification.objects.exists()


def test_the_principal_answers_and_the_supervisor_closes(api_as, principal, assessor, rectification):
    # when school A's principal answers
    answered = api_as(principal).post(
        reverse("rectification-answer", args=[rectification.pk]), {"answer": "已补齐记录"}, format="json"
    )
    # then the item is answered, by the principal
    assert answered.status_code == 200, _errors(answered)
    assert answered.json()["status"] == "answered"
    assert answered.json()["answered_by"] == principal.pk
    # and when the supervisor closes it, it is closed
    closed = api_as(assessor).post(reverse("rectification-close", args=[rectification.pk]))
    assert closed.status_code == 200, _errors(closed)
    rectification.refresh_from_db()
    assert rectification.status == "closed"
    assert rectification.closed_by == assessor
    assert rectification.closed_at is not None


def test_another_schools_principal_gets_404(api_as, other_school_principal, rectification):
    response = api_as(other_school_principal).post(
        reverse("rectification-answer", args=[rectification.pk]), {"answer": "x"}, format="json"
    )
    assert response.status_code == 404
    rectification.refresh_from_db()
    assert rectification.status == "open"


def test_the_lead_principal_reads_but_does_not_answer(api_as, lead_principal, rectification):
    # the lead principal reads school A's rows, but the answer is the school's own principal's
    response = api_as(lead_principal).post(
        reverse("rectification-answer", args=[rectification.pk]), {"answer": "x"}, format="json"
    )
    assert response.status_code == 403


def test_the_supervisor_answers_nothing(api_as, assessor, rectification):
    response = api_as(assessor).post(
        reverse("rectification-answer", args=[rectification.pk]), {"answer": "x"}, format="json"
    )
    assert response.status_code == 403


def test_an_open_item_is_not_closed(api_as, assessor, rectification):
    response = api_as(assessor).post(reverse("rectification-close", args=[rectification.pk]))
    assert response.status_code == 400
    rectification.refresh_from_db()
    assert rectification.status == "open"


def test_another_assessor_of_the_school_does_not_close(api_as, county, member_school, rectification):
    # given a second assessor assigned to school A, not the visit's supervisor
    second = UserFactory(username="assessor2", county=county, role=Role.ASSESSOR)
    second.assessed_schools.add(member_school)
    rectification.status = "answered"
    rectification.save()
    response = api_as(second).post(reverse("rectification-close", args=[rectification.pk]))
    assert response.status_code == 403


def test_the_bureau_closes_an_answered_item(api_as, bureau_staff, rectification):
    rectification.status = "answered"
    rectification.save()
    response = api_as(bureau_staff).post(reverse("rectification-close", args=[rectification.pk]))
    assert response.status_code == 200
    assert response.json()["status"] == "closed"


# --- the monthly rule ------------------------------------------------------------------------


def test_the_grid_marks_the_month_without_a_visit(
    county, assessor, member_school, other_school, django_assert_num_queries
):
    # given school A visited in September (twice) and November, school B never
    for day in (D(2025, 9, 3), D(2025, 9, 24), D(2025, 11, 5)):
        SupervisionVisit.objects.create(school=member_school, supervisor=assessor, date=day)
    months = months_between(D(2025, 9, 1), D(2025, 12, 31))
    schools = county.schools.filter(pk__in=[member_school.pk, other_school.pk])
    # when the grid is read (on 2025-12-15: December has begun)
    with django_assert_num_queries(2):
        rows = visit_grid(schools=schools, months=months, today=D(2025, 12, 15))
    # then A's October and December are gaps, every month of B
    by_school = {row.school: [(c.visits, c.gap) for c in row.cells] for row in rows}
    assert by_school[member_school] == [(2, False), (0, True), (1, False), (0, True)]
    assert by_school[other_school] == [(0, True)] * 4


def test_a_month_not_yet_begun_is_no_gap(county, member_school):
    rows = visit_grid(schools=county.schools.filter(pk=member_school.pk), months=[D(2026, 1, 1)], today=D(2025, 12, 31))
    assert rows[0].cells[0].gap is False


def test_the_rule_is_a_setting(settings, county, assessor, member_school):
    settings.SUPERVISION_VISITS_PER_MONTH = 2
    SupervisionVisit.objects.create(school=member_school, supervisor=assessor, date=D(2025, 9, 3))
    rows = visit_grid(schools=county.schools.filter(pk=member_school.pk), months=[D(2025, 9, 1)], today=D(2025, 12, 1))
    assert rows[0].cells[0].gap is True


def test_the_grid_endpoint(api_as, bureau_staff, assessor, principal, school_year, member_school, other_school):
    SupervisionVisit.objects.create(school=member_school, supervisor=assessor, date=school_year.start_date)
    url = reverse("supervisionvisit-grid") + f"?school_year={school_year.pk}"
    # the bureau sees every school of its county
    bureau = api_as(bureau_staff).get(url)
    assert bureau.status_code == 200
    rows = {row["school"]: row for row in bureau.json()}
    assert other_school.pk in rows
    assert rows[member_school.pk]["cells"][0]["visits"] == 1
    # the assessor its assigned school only
    mine = api_as(assessor).get(url)
    assert [row["school"] for row in mine.json()] == [member_school.pk]
    # a principal none
    assert api_as(principal).get(url).status_code == 403


# --- the quarterly feedback meeting ----------------------------------------------------------


def test_the_quarterly_feedback_meeting_is_an_activity_kind():
    assert Activity.Kind.QUARTERLY_SUPERVISION_MEETING == "quarterly_supervision_meeting"


def test_the_grid_of_another_countys_year_is_not_found(api_as, other_bureau_staff, school_year):
    url = reverse("supervisionvisit-grid") + f"?school_year={school_year.pk}"
    assert api_as(other_bureau_staff).get(url).status_code == 404


def test_the_grid_endpoint_reads_in_a_fixed_number_of_queries(
    api_as, bureau_staff, assessor, school_year, county, django_assert_max_num_queries
):
    # given twenty schools with a visit each
    for _ in range(20):
        school = SchoolFactory(county=county)
        SupervisionVisit.objects.create(school=school, supervisor=bureau_staff, date=school_year.start_date)
    api = api_as(bureau_staff)
    url = reverse("supervisionvisit-grid") + f"?school_year={school_year.pk}"
    api.get(url)  # warm the caches
    # when the bureau reads the grid, then a handful of queries, not one per school
    with django_assert_max_num_queries(6):
        response = api.get(url)
    assert response.status_code == 200
    assert len(response.json()) >= 20
