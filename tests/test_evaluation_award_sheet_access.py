"""The award sheet names every school's score and award: bureau staff and auditors download it
from the admin, a principal cannot, even though it sees the evaluation period."""

import pytest
from django.test import Client
from django.urls import reverse

from evaluation import services

from .factories_evaluation import enter


@pytest.fixture
def scored_period(
    bureau_staff, year_period, simple_rubric, lead_school, member_school, other_lead_school, other_school
):
    for school, score in ((lead_school, 90), (member_school, 80), (other_lead_school, 85), (other_school, 70)):
        enter(bureau_staff, year_period, simple_rubric, school, quality=score, care=score)
    services.evaluation_run(county=year_period.county, start_year=2025)
    return year_period


def _download(user, period):
    client = Client()
    client.force_login(user)
    return client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "export_awards", "_selected_action": [period.pk]},
    )


@pytest.mark.parametrize("who", ["bureau_staff", "auditor"])
def test_bureau_and_auditor_download_the_award_sheet(request, who, scored_period):
    response = _download(request.getfixturevalue(who), scored_period)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("who", ["principal", "lead_principal", "assessor"])
def test_schools_cannot_download_every_schools_awards(request, who, scored_period):
    # given a user who sees the period in the admin
    user = request.getfixturevalue(who)
    # when it posts the award-sheet action
    response = _download(user, scored_period)
    # then no CSV comes back
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert "西岭小学" not in response.content.decode()
