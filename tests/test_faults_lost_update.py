"""No lost update: an edit changes only what it names, under a lock of its row; an edit made from
a stale read (If-Match) is refused with the current values."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from alliance.models import School
from alliance.serializers import SchoolSerializer

ROUNDS = 10


def _patch_in_thread(user, url, data, barrier, results):
    try:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait(timeout=10)
        results.append(client.patch(url, data, format="json").status_code)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_of_different_fields_both_survive(
    bureau_staff, second_bureau_staff, county, monkeypatch
):
    school = School.objects.create(
        county=county, code="C001", name="并发小学", stage="primary", location="rural", strength="weak"
    )
    url = f"/api/v1/schools/{school.pk}/"
    # Widen the window between reading the row and saving it, as a slow request would.
    validate = SchoolSerializer.validate

    def slow_validate(self, attrs):
        time.sleep(0.05)
        return validate(self, attrs)

    monkeypatch.setattr(SchoolSerializer, "validate", slow_validate)
    for n in range(1, ROUNDS + 1):
        barrier = threading.Barrier(2)
        results: list[int] = []
        threads = [
            threading.Thread(
                target=_patch_in_thread, args=(bureau_staff, url, {"students": 100 + n}, barrier, results)
            ),
            threading.Thread(
                target=_patch_in_thread, args=(second_bureau_staff, url, {"classes": 10 + n}, barrier, results)
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert results == [200, 200]
        school.refresh_from_db()
        assert (school.students, school.classes) == (100 + n, 10 + n), f"round {n}"


@pytest.mark.django_db
def test_an_edit_from_a_stale_read_is_refused_with_the_current_values(api_as, bureau_staff, member_school):
    client = api_as(bureau_staff)
    url = f"/api/v1/schools/{member_school.pk}/"
    # given two reads of the same version
    read = client.get(url)
    stale = read["ETag"]
    assert stale
    # when one edit is saved
    first = client.patch(url, {"students": 321}, format="json", HTTP_IF_MATCH=stale)
    assert first.status_code == 200
    assert first["ETag"] != stale
    # then the other, made from the stale read, is refused with what is stored now
    second = client.patch(url, {"classes": 7}, format="json", HTTP_IF_MATCH=stale)
    assert second.status_code == 412
    assert second.json()["current"]["students"] == 321
    assert second["ETag"] == first["ETag"]
    member_school.refresh_from_db()
    assert member_school.classes != 7
    # and an edit based on the fresh version goes through
    third = client.patch(url, {"classes": 7}, format="json", HTTP_IF_MATCH=second["ETag"])
    assert third.status_code == 200
    assert client.get(url)["ETag"] == third["ETag"]


@pytest.mark.django_db
def test_an_edit_saves_only_the_fields_it_names(api_as, bureau_staff, member_school, monkeypatch):
    saved = {}
    original = School.save

    def spy(self, *args, **kwargs):
        saved["update_fields"] = kwargs.get("update_fields")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(School, "save", spy)
    response = api_as(bureau_staff).patch(f"/api/v1/schools/{member_school.pk}/", {"students": 5}, format="json")
    assert response.status_code == 200
    assert set(saved["update_fields"]) == {"students"}


def _form_data(response) -> dict:
    """What the browser would post back: the change form's current values and its version."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    data["_row_version"] = response.context["row_version"]
    for formset in response.context["inline_admin_formsets"]:
        mgmt = formset.formset.management_form
        for name in mgmt.fields:
            data[f"{mgmt.prefix}-{name}"] = mgmt[name].value()
    return data


@pytest.mark.django_db
def test_two_bureau_users_saving_one_row_in_the_admin(client, bureau_staff, second_bureau_staff, member_school):
    from django.test import Client

    url = f"/admin/alliance/school/{member_school.pk}/change/"
    first, second = client, Client()
    first.force_login(bureau_staff)
    second.force_login(second_bureau_staff)
    # given both open the change form of the same school
    form_a = first.get(url)
    form_b = second.get(url)
    assert b'name="_row_version"' in form_a.content
    data_a, data_b = _form_data(form_a), _form_data(form_b)
    assert data_a["_row_version"] == data_b["_row_version"]
    # when the first saves a new headcount
    data_a["students"] = 555
    assert first.post(url, data_a).status_code == 302
    # and the second saves another change from the form it read before
    data_b["classes"] = 44
    refused = second.post(url, data_b, follow=True)
    # then the second save is refused with a message and the fresh values, and nothing is lost
    member_school.refresh_from_db()
    assert (member_school.students, member_school.classes) != (555, 44)
    assert member_school.students == 555
    assert any("someone else" in str(m).lower() or "他人" in str(m) for m in refused.context["messages"])
    assert refused.context["adminform"].form["students"].value() == 555
    # and a save from the fresh form goes through
    fresh = _form_data(refused)
    fresh["classes"] = 44
    assert second.post(url, fresh).status_code == 302
    member_school.refresh_from_db()
    assert (member_school.students, member_school.classes) == (555, 44)
