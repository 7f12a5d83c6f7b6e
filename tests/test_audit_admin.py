"""The trail in the admin: an object's history (who, when, before → after) on the portal's
change pages, and the trail itself for bureau staff and auditors of its county only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alliance.models import School
from audit.models import AuditRecord

from .factories import SchoolFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_objects_history_shows_who_when_and_before_after(bureau_staff, county):
    # given a school renamed in the admin by bureau staff, and deactivated by a bulk update
    school = SchoolFactory(county=county, name="旧名小学")
    client = _client(bureau_staff)
    change_url = reverse("admin:alliance_school_change", args=[school.pk])
    form = client.get(change_url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(name="新名小学")
    response = client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    School.objects.filter(pk=school.pk).update(active=False)

    # when its history is opened
    response = client.get(reverse("admin:alliance_school_history", args=[school.pk]))

    # then each change shows who made it and the values before and after
    assert response.status_code == 200
    html = response.content.decode()
    assert "bureau" in html
    assert "旧名小学" in html and "新名小学" in html
    entries = response.context["entries"]
    rename = next(e for e in entries if e["record"].action == "update" and e["record"].username == "bureau")
    assert [(b, a) for _f, b, a in rename["changes"]] == [("旧名小学", "新名小学")]
    bulk = next(e for e in entries if e["record"].action == "update" and not e["record"].username)
    assert [(b, a) for _f, b, a in bulk["changes"]] == [(True, False)]
    assert [e["record"].action for e in entries][-1] == "insert"


def test_another_schools_history_is_not_found(principal, other_school):
    response = _client(principal).get(reverse("admin:alliance_school_history", args=[other_school.pk]))
    assert response.status_code == 404


@pytest.fixture
def two_counties_records(county, other_county):
    SchoolFactory(county=county, name="甲县小学")
    SchoolFactory(county=other_county, name="乙县小学")


def _listed(user) -> list[AuditRecord]:
    response = _client(user).get(reverse("admin:audit_auditrecord_changelist"))
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_bureau_staff_read_their_countys_trail_only(two_counties_records, bureau_staff, other_bureau_staff, county):
    mine = _listed(bureau_staff)
    assert mine and {r.county_id for r in mine} == {county.pk}
    theirs = _listed(other_bureau_staff)
    assert theirs and county.pk not in {r.county_id for r in theirs}
    some_record_of_x = AuditRecord.objects.get(model="alliance.school", after__name="甲县小学")
    response = _client(other_bureau_staff).get(reverse("admin:audit_auditrecord_change", args=[some_record_of_x.pk]))
    assert response.status_code in (302, 404)  # the admin redirects an invisible object away
    assert "甲县小学" not in response.content.decode()


def test_an_auditor_reads_the_trail_and_changes_nothing(two_counties_records, auditor):
    client = _client(auditor)
    record = AuditRecord.objects.get(county_id=auditor.county_id, model="alliance.school", after__name="甲县小学")
    response = client.get(reverse("admin:audit_auditrecord_change", args=[record.pk]))
    assert response.status_code == 200
    assert "甲县小学" in response.content.decode()  # the before → after table
    assert client.post(reverse("admin:audit_auditrecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditrecord_add")).status_code == 403


@pytest.mark.parametrize("who", ["principal", "lead_principal", "assessor"])
def test_schools_and_assessors_have_no_access_to_the_trail(request, who, two_counties_records):
    client = _client(request.getfixturevalue(who))
    assert client.get(reverse("admin:audit_auditrecord_changelist")).status_code == 403
    record = AuditRecord.objects.first()
    assert client.get(reverse("admin:audit_auditrecord_change", args=[record.pk])).status_code in (302, 403)


def test_the_trail_filters_by_user_school_model_and_date(two_counties_records, bureau_staff, member_school):
    client = _client(bureau_staff)
    url = reverse("admin:audit_auditrecord_changelist")
    for params in (
        {"model": "alliance.school"},
        {"user": str(bureau_staff.pk)},
        {"school": str(member_school.pk)},
        {"at__year": str(timezone.now().year)},
        {"action": "insert"},
    ):
        response = client.get(url, params)
        assert response.status_code == 200, params
    models = {r.model for r in client.get(url, {"model": "alliance.school"}).context["cl"].result_list}
    assert models == {"alliance.school"}


def test_the_trail_speaks_chinese():
    import re

    from django.utils import translation

    from audit.models import AuditSeal

    with translation.override("zh-hans"):
        names = [str(AuditRecord._meta.verbose_name), str(AuditSeal._meta.verbose_name)]
        names += [
            str(f.verbose_name) for m in (AuditRecord, AuditSeal) for f in m._meta.concrete_fields if f.name != "id"
        ]
        names += [str(label) for _value, label in AuditRecord.Action.choices]
    assert [n for n in names if not re.search(r"[\u4e00-\u9fff]", n)] == []
