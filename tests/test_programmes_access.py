"""Who of the two counties reaches what of a cross-county programme, in the permission matrix's
world (tests/fixtures_matrix.py ``_programmes``): county Y helps county X (Y1 → school A) and a
third county Z. Each bureau of a programme reads and manages its pairings, task lists,
exchanges and term meeting; neither reads the other county's other rows, nor a programme it is
not part of. The programme endpoints themselves are rows of tests/permission_table.py."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from alliance.models import User

pytestmark = pytest.mark.django_db

# (endpoint, the world's row of the X–Y programme, the row of Y's programme with Z)
SHARED = [
    ("pairing", "programme_pairing", "other_programme_pairing"),
    ("pairingtask", "programme_task", "other_programme_task"),
    ("exchange", "programme_exchange", "other_programme_exchange"),
    ("activity", "programme_meeting", None),
]
# rows each county keeps to itself: (endpoint, row, its county's bureau)
OWN = [
    ("school", "y_school", "bureau_y"),
    ("teacher", "y_teacher", "bureau_y"),
    ("school", "member_school", "bureau"),
    ("alliance", "alliance", "bureau"),
    ("teacher", "teacher", "bureau"),
    ("fundingyear", "open_year", "bureau"),
    ("fundingyear", "programme_year", "bureau_y"),
    ("account", "spending_account", "bureau"),
]


def _client(world, role):
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=world.users[role].pk))
    return client


def _get(client, basename, pk):
    return client.get(reverse(f"{basename}-detail", args=[pk]))


@pytest.mark.parametrize(("basename", "row", "other_row"), SHARED)
@pytest.mark.parametrize("role", ["bureau", "bureau_y"])
def test_both_bureaus_read_the_programmes_rows(world, basename, row, other_row, role):
    client = _client(world, role)
    assert _get(client, basename, getattr(world, row).pk).status_code == 200
    if other_row is not None:
        # Y's programme with Z is Y's alone
        expected = 200 if role == "bureau_y" else 404
        assert _get(client, basename, getattr(world, other_row).pk).status_code == expected


@pytest.mark.parametrize("role", ["bureau", "bureau_y"])
def test_both_bureaus_manage_the_programmes_pairing_and_task(world, role):
    client = _client(world, role)
    response = client.patch(
        reverse("pairing-detail", args=[world.programme_pairing.pk]), {"focus_areas": ["teachers"]}, format="json"
    )
    assert response.status_code == 200, response.content
    response = client.patch(
        reverse("pairingtask-detail", args=[world.programme_task.pk]), {"responsible_person": "赵主任"}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("role", ["bureau", "bureau_y"])
def test_both_bureaus_approve_the_programmes_exchange(world, role):
    response = _client(world, role).post(reverse("exchange-approve", args=[world.programme_exchange.pk]))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("basename", "row", "owner"), OWN)
@pytest.mark.parametrize("role", ["bureau", "bureau_y"])
def test_neither_bureau_reads_the_other_countys_other_rows(world, basename, row, owner, role):
    expected = 200 if role == owner else 404
    assert _get(_client(world, role), basename, getattr(world, row).pk).status_code == expected


def test_the_participating_principal_sees_its_programme_pairing_and_task(world):
    client = _client(world, "principal")
    assert _get(client, "pairing", world.programme_pairing.pk).status_code == 200
    assert _get(client, "pairingtask", world.programme_task.pk).status_code == 200
    assert _get(client, "programme", world.programme.pk).status_code == 200
    # but not the helper school's own rows, nor Y's programme with Z
    assert _get(client, "school", world.y_school.pk).status_code == 404
    assert _get(client, "pairing", world.other_programme_pairing.pk).status_code == 404


def test_the_other_county_is_only_a_name_on_the_programmes_rows(world):
    row = _get(_client(world, "bureau"), "programme", world.programme.pk).json()
    assert row["helper_county_name"] == world.other_county.name
    assert [p["helper_school_name"] for p in row["pairings"]] == [world.y_school.name]
