"""Bad input on alliance rows: a clear message in the admin and a 400 with field errors in the
API, and nothing written."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from alliance.models import Alliance, Membership, School, SchoolYear


@pytest.fixture
def bureau_client(bureau_staff):
    client = Client()
    client.force_login(bureau_staff)
    return client


def test_api_second_lead_school_is_a_400_with_field_errors(api_as, bureau_staff, alliance, other_school):
    # given an alliance with its lead school
    before = Membership.objects.count()
    # when the bureau adds a second lead through the API
    response = api_as(bureau_staff).post(
        "/api/v1/memberships/", {"alliance": alliance.pk, "school": other_school.pk, "role": "lead"}, format="json"
    )
    # then: 400 naming the field, in Chinese by default, nothing written
    assert response.status_code == 400
    with translation.override("zh-hans"):
        message = str(translation.gettext("This alliance already has a lead school."))
    assert message in response.json()["role"]
    assert Membership.objects.count() == before


def test_api_school_of_another_county_is_refused(api_as, bureau_staff, alliance, foreign_school):
    response = api_as(bureau_staff).post(
        "/api/v1/memberships/", {"alliance": alliance.pk, "school": foreign_school.pk}, format="json"
    )
    assert response.status_code == 400
    assert "school" in response.json()
    assert not Membership.objects.filter(school=foreign_school).exists()


def test_api_school_in_two_alliances_of_one_kind_is_refused(
    api_as, bureau_staff, alliance, other_alliance, member_school
):
    response = api_as(bureau_staff).post(
        "/api/v1/memberships/", {"alliance": other_alliance.pk, "school": member_school.pk}, format="json"
    )
    assert response.status_code == 400
    assert "school" in response.json()
    assert member_school.memberships.count() == 1


def test_api_negative_headcount_is_refused(api_as, bureau_staff, county):
    response = api_as(bureau_staff).post(
        "/api/v1/schools/",
        {"county": county.pk, "code": "N1", "name": "负数小学", "stage": "primary", "location": "rural",
         "strength": "weak", "students": -5},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "students" in response.json()
    assert not School.objects.filter(code="N1").exists()


def test_api_end_before_start_is_refused(api_as, bureau_staff, county):
    response = api_as(bureau_staff).post(
        "/api/v1/school-years/",
        {"county": county.pk, "start_year": 2030, "start_date": "2030-09-01", "end_date": "2030-08-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "end_date" in response.json()
    assert not SchoolYear.objects.filter(start_year=2030).exists()


def test_api_messages_switch_to_english(api_as, bureau_staff, county):
    response = api_as(bureau_staff).post(
        "/api/v1/school-years/",
        {"county": county.pk, "start_year": 2030, "start_date": "2030-09-01", "end_date": "2030-08-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["end_date"] == ["The end date must be after the start date."]


def _alliance_form(alliance, rows):
    data = {
        "school_year": alliance.school_year_id, "kind": alliance.kind, "name": alliance.name, "description": "",
        "memberships-TOTAL_FORMS": str(len(rows)), "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "pairings-TOTAL_FORMS": "0", "pairings-INITIAL_FORMS": "0",
        "pairings-MIN_NUM_FORMS": "0", "pairings-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, (school, role) in enumerate(rows):
        data[f"memberships-{i}-school"] = school.pk
        data[f"memberships-{i}-role"] = role
    return data


def test_admin_alliance_needs_exactly_one_lead(bureau_client, school_year, lead_school, other_lead_school):
    # given a new alliance with two lead schools
    new = Alliance(school_year=school_year, kind=Alliance.Kind.GROUP, name="双牵头集团")
    data = _alliance_form(new, [(lead_school, "lead"), (other_lead_school, "lead")])
    # when it is saved in the admin
    with translation.override("zh-hans"):
        response = bureau_client.post(reverse("admin:alliance_alliance_add"), data)
    # then the form is shown again with the message and nothing is written
    assert response.status_code == 200
    with translation.override("zh-hans"):
        message = str(translation.gettext("An alliance has exactly one lead school."))
    assert message != "An alliance has exactly one lead school."  # translated
    assert message in response.content.decode()
    assert not Alliance.objects.filter(name="双牵头集团").exists()


def test_admin_school_from_another_county_is_not_a_choice(bureau_client, school_year, lead_school, foreign_school):
    new = Alliance(school_year=school_year, kind=Alliance.Kind.GROUP, name="跨县集团")
    data = _alliance_form(new, [(lead_school, "lead"), (foreign_school, "member")])
    response = bureau_client.post(reverse("admin:alliance_alliance_add"), data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Alliance.objects.filter(name="跨县集团").exists()


def test_admin_negative_headcount_shows_a_message(bureau_client, county):
    data = {
        "county": county.pk, "code": "N2", "name": "负数小学", "stage": "primary", "location": "rural",
        "strength": "weak", "students": "-1", "teachers": "0", "classes": "0", "active": "on",
    }  # fmt: skip
    response = bureau_client.post(reverse("admin:alliance_school_add"), data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not School.objects.filter(code="N2").exists()


def test_admin_valid_alliance_is_saved(bureau_client, school_year, lead_school, member_school):
    new = Alliance(school_year=school_year, kind=Alliance.Kind.GROUP, name="实验教育集团")
    data = _alliance_form(new, [(lead_school, "lead"), (member_school, "member")])
    response = bureau_client.post(reverse("admin:alliance_alliance_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Alliance.objects.get(name="实验教育集团")
    assert saved.lead_membership.school == lead_school
