"""Bureau staff manage the principals, assessors and auditors of their county, never another
bureau user (only superusers do), and assignments stay inside the county."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from alliance import access
from alliance.access import Role
from alliance.models import User

from .factories import UserFactory


@pytest.mark.django_db
def test_bureau_staff_see_the_other_roles_of_their_county_only(
    bureau_staff, second_bureau_staff, other_bureau_staff, principal, assessor, auditor
):
    superuser = UserFactory(username="root", county=bureau_staff.county, is_superuser=True)
    seen = set(access.visible_users(User.objects.all(), bureau_staff))
    assert seen == {principal, assessor, auditor}
    assert second_bureau_staff not in seen and superuser not in seen and other_bureau_staff not in seen
    assert set(access.visible_users(User.objects.all(), superuser)) >= {bureau_staff, second_bureau_staff}
    assert not access.visible_users(User.objects.all(), principal).exists()


@pytest.mark.django_db
def test_another_bureau_user_is_not_found_in_the_admin(client, bureau_staff, second_bureau_staff, principal):
    client.force_login(bureau_staff)
    assert client.get(f"/admin/alliance/user/{second_bureau_staff.pk}/change/").status_code == 404
    page = client.get("/admin/alliance/user/")
    assert page.status_code == 200
    listed = {u.pk for u in page.context["cl"].result_list}
    assert principal.pk in listed and second_bureau_staff.pk not in listed
    assert client.get(f"/admin/alliance/user/{principal.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_bureau_staff_cannot_make_a_bureau_user(client, bureau_staff, principal):
    client.force_login(bureau_staff)
    form = client.get(f"/admin/alliance/user/{principal.pk}/change/").context["adminform"].form
    offered = set(form.fields["groups"].queryset.values_list("name", flat=True))
    assert Role.BUREAU.value not in offered
    assert Role.AUDITOR.value in offered
    bureau_group = Group.objects.get(name=Role.BUREAU.value)
    data = {
        "username": principal.username, "county": principal.county_id, "school": principal.school_id,
        "groups": [bureau_group.pk], "is_active": "on", "is_staff": "on", "_row_version": "",
    }  # fmt: skip
    response = client.post(f"/admin/alliance/user/{principal.pk}/change/", data)
    assert response.status_code == 200  # the form again, with an error
    assert not principal.groups.filter(name=Role.BUREAU.value).exists()


@pytest.mark.django_db
def test_assessed_schools_stay_in_the_users_county(assessor, foreign_school, member_school):
    # adding a school of another county is refused, however it is done
    with pytest.raises(ValidationError), transaction.atomic():
        assessor.assessed_schools.add(foreign_school)
    with pytest.raises(ValidationError), transaction.atomic():
        foreign_school.assessors.add(assessor)
    assert list(assessor.assessed_schools.all()) == [member_school]


@pytest.mark.django_db
def test_moving_an_assessor_to_another_county_needs_its_schools_moved_too(assessor, other_county):
    assessor.county = other_county
    with pytest.raises(ValidationError) as err:
        assessor.full_clean()
    assert "assessed_schools" in err.value.message_dict


@pytest.mark.django_db
def test_the_admin_refuses_a_school_of_another_county_for_an_assessor(client, assessor, foreign_school):
    superuser = UserFactory(username="root", is_superuser=True)
    client.force_login(superuser)
    url = f"/admin/alliance/user/{assessor.pk}/change/"
    data = {
        "username": assessor.username, "county": assessor.county_id, "assessed_schools": [foreign_school.pk],
        "is_active": "on", "is_staff": "on", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200
    assert "assessed_schools" in response.context["adminform"].form.errors
    assert foreign_school not in assessor.assessed_schools.all()
