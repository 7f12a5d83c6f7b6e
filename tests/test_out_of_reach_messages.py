"""A write naming a school outside the user's reach says which rule refused it, and says the
same for a school of another county as for an id that names no school at all (issue 15)."""

from __future__ import annotations

import pytest
from django.utils import translation

from evaluation.models import Indicator, IndicatorValue
from staffing.models import SupervisionVisit, Teacher

pytestmark = pytest.mark.django_db

NO_SUCH_SCHOOL = 987654


def zh(msgid: str, **params) -> str:
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    return text % params if params else text


ASSIGNED = "This school is not among the schools assigned to you."


@pytest.mark.parametrize("which", ["unassigned", "other county", "no such school"])
def test_an_assessor_logging_a_visit_outside_its_schools_is_told_they_are_not_assigned_to_it(
    api_as, assessor, other_school, foreign_school, which
):
    school = {"unassigned": other_school.pk, "other county": foreign_school.pk, "no such school": NO_SUCH_SCHOOL}
    response = api_as(assessor).post(
        "/api/v1/supervision-visits/", {"school": school[which], "date": "2025-11-05"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["school"] == [zh(ASSIGNED)]
    assert not SupervisionVisit.objects.exists()


@pytest.mark.parametrize("which", ["unassigned", "other county", "no such school"])
def test_an_assessor_entering_a_value_outside_its_schools_is_told_the_same(
    api_as, assessor, year_period, simple_rubric, other_school, foreign_school, which
):
    school = {"unassigned": other_school.pk, "other county": foreign_school.pk, "no such school": NO_SUCH_SCHOOL}
    indicator = Indicator.objects.filter(dimension__rubric=simple_rubric).first()
    response = api_as(assessor).post(
        "/api/v1/evaluation/values/",
        {"period": year_period.pk, "indicator": indicator.pk, "school": school[which], "value": "80"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["school"] == [zh(ASSIGNED)]
    assert not IndicatorValue.objects.exists()


@pytest.mark.parametrize("which", ["other county", "no such school"])
def test_the_bureau_naming_a_school_of_another_county_in_a_pairing_is_told_the_county_rule(
    api_as, bureau_staff, alliance, lead_school, foreign_school, which
):
    school = {"other county": foreign_school.pk, "no such school": NO_SUCH_SCHOOL}
    response = api_as(bureau_staff).post(
        "/api/v1/pairings/",
        {
            "alliance": alliance.pk,
            "helper_school": lead_school.pk,
            "helped_school": school[which],
            "start_date": "2025-09-01",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    message = zh("Name a %(model)s of your county; this one is not among them.", model=zh("school"))
    assert response.json()["helped_school"] == [message]


@pytest.mark.parametrize("which", ["another school", "other county", "no such school"])
def test_a_principal_naming_a_school_it_may_not_change_is_told_so(
    api_as, principal, other_school, foreign_school, which
):
    school = {"another school": other_school.pk, "other county": foreign_school.pk, "no such school": NO_SUCH_SCHOOL}
    response = api_as(principal).post(
        "/api/v1/teachers/",
        {"school": school[which], "name": "李老师", "gender": "female", "subject": "math", "title": "none"},
        format="json",
    )
    assert response.status_code == 400, response.content
    message = zh("Name a %(model)s you may change; this one is not among them.", model=zh("school"))
    assert response.json()["school"] == [message]
    assert not Teacher.objects.filter(name="李老师").exists()
