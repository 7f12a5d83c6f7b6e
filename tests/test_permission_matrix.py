"""Role × endpoint × method: every API endpoint behaves as ``permission_table.TABLE`` says.

A new endpoint fails ``test_every_endpoint_is_in_the_table`` until it gets a row; anything a
row does not grant is expected to be refused.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from alliance.access import Role
from alliance.models import Alliance
from config.urls import router

from . import fixtures_matrix
from .factories import (
    AllianceFactory,
    PairingFactory,
    PairingTaskFactory,
    SchoolYearFactory,
    TermFactory,
    UserFactory,
)
from .permission_table import ROLES, TABLE, Rule

DENIED_ANONYMOUS = {401, 403}


def test_every_endpoint_is_in_the_table():
    registered = {basename for _, _, basename in router.registry}
    assert registered - set(TABLE) == set(), "endpoints without a row in tests/permission_table.py"
    assert set(TABLE) - registered == set(), "rows for endpoints that no longer exist"


@pytest.fixture
def world(
    county, other_county, school_year, alliance, other_alliance, lead_school, member_school, other_lead_school,
    other_school, bureau_staff, other_bureau_staff, lead_principal, principal, assessor, auditor,
):  # fmt: skip
    w = SimpleNamespace(**locals())
    w.other_school_year = SchoolYearFactory(county=other_county, start_year=2025)
    w.term = TermFactory(school_year=school_year, number=1)
    w.other_term = TermFactory(school_year=w.other_school_year, number=1)
    w.membership = alliance.memberships.get(school=member_school)
    w.other_membership = other_alliance.memberships.get(school=other_school)
    w.spare_alliance = AllianceFactory(school_year=school_year, kind=Alliance.Kind.AREA, name="片区联盟")
    w.pairing = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    w.other_pairing = PairingFactory(
        alliance=other_alliance, helper_school=other_lead_school, helped_school=other_school
    )
    w.task = PairingTaskFactory(pairing=w.pairing, due_date=dt.date(2025, 12, 1))
    w.other_task = PairingTaskFactory(pairing=w.other_pairing, due_date=dt.date(2025, 12, 1))
    w.users = {
        "bureau": bureau_staff,
        "bureau_y": other_bureau_staff,
        "lead": lead_principal,
        "principal": principal,
        "assessor": assessor,
        "auditor": auditor,
    }
    fixtures_matrix.extend(w)
    return w


def _client(w, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(w.users[role])
    return client


def _url(basename: str, pk=None) -> str:
    from django.urls import reverse

    if pk is None:
        return reverse(f"{basename}-list")
    return reverse(f"{basename}-detail", args=[pk])


def _ids(response) -> set:
    data = response.json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return {row["id"] for row in rows}


def _expected_write(rule: Rule, role: str, allowed: frozenset[str], visible: bool, method: str) -> set[int]:
    """What a write by ``role`` on a row (visible to it or not) must answer."""
    if role == "anonymous":
        return DENIED_ANONYMOUS
    if rule.readonly or method in rule.unsupported:
        return {403, 405}
    if role in allowed:
        return {200, 201, 204}
    if role not in rule.writers:
        return {403}  # the role may not write this kind of row at all
    # another school's row is "not found"; a visible one is forbidden or refused by a rule
    return {400, 403} if visible else {404}


def _expected_create(rule: Rule, role: str, allowed: frozenset[str]) -> set[int]:
    if role == "anonymous":
        return DENIED_ANONYMOUS
    if role in allowed:
        return {201}
    if rule.readonly:
        return {403, 405}
    if role not in rule.writers:
        return {403}
    # the role creates such rows, but not naming another school's or county's rows (a 404 where
    # the view looks the named row up itself)
    return {400, 403, 404}


CASES = [(basename, role) for basename in sorted(TABLE) for role in ROLES]


@pytest.mark.parametrize(("basename", "role"), CASES, ids=[f"{b}-{r}" for b, r in CASES])
def test_permission_matrix(world, basename, role):
    rule = TABLE[basename]
    a_row, b_row = rule.a_row(world), rule.b_row(world)
    model = type(a_row)
    client = _client(world, role)

    # list: the A row appears exactly for its readers, the B row exactly for its readers
    response = client.get(_url(basename))
    if role == "anonymous":
        assert response.status_code in DENIED_ANONYMOUS
    else:
        assert response.status_code == 200, response.content
        ids = _ids(response)
        assert (a_row.pk in ids) == (role in rule.read), f"list: A row visible to {role}?"
        assert (b_row.pk in ids) == (role in rule.read_b), f"list: B row visible to {role}?"

    # retrieve
    for row, readers in ((a_row, rule.read), (b_row, rule.read_b)):
        response = client.get(_url(basename, row.pk))
        expected = DENIED_ANONYMOUS if role == "anonymous" else ({200} if role in readers else {404})
        assert response.status_code in expected, (row, response.status_code, response.content)

    # create naming the B side, then the A side: refused ones write nothing
    for payload, allowed in ((rule.payload_b, rule.create_b), (rule.payload, rule.creators)):
        if payload is None and not rule.readonly:
            continue
        before = model._default_manager.count()
        response = client.post(_url(basename), payload(world) if payload else {}, format="json")
        assert response.status_code in _expected_create(rule, role, allowed), (response.status_code, response.content)
        if response.status_code != 201:
            assert model._default_manager.count() == before

    # update (PATCH) the A row and the B row
    for row, readers in ((a_row, rule.read), (b_row, rule.read_b)):
        allowed = rule.change if row is a_row else rule.change_b
        before = model_to_dict(model._default_manager.get(pk=row.pk))
        response = client.patch(_url(basename, row.pk), rule.patch(world), format="json")
        expected = _expected_write(rule, role, allowed, visible=role in readers, method="patch")
        assert response.status_code in expected, (row, response.status_code, response.content)
        if response.status_code not in (200, 201):
            assert model_to_dict(model._default_manager.get(pk=row.pk)) == before

    # delete the B row, then the A row
    if rule.deletable:
        for row, readers in ((b_row, rule.read_b), (a_row, rule.read)):
            allowed = rule.change if row is a_row else rule.change_b
            response = client.delete(_url(basename, row.pk))
            expected = _expected_write(rule, role, allowed, visible=role in readers, method="delete")
            assert response.status_code in expected, (row, response.status_code, response.content)
            assert model._default_manager.filter(pk=row.pk).exists() == (response.status_code != 204)


def test_principal_cannot_set_bureau_only_fields(world):
    # given a pairing task the member principal may update
    client = _client(world, "principal")
    # when it names a field that is not its to set (the task's pairing belongs to the bureau)
    response = client.patch(_url("pairingtask", world.task.pk), {"pairing": world.other_pairing.pk}, format="json")
    # then the request is refused and nothing changes
    assert response.status_code == 400
    world.task.refresh_from_db()
    assert world.task.pairing_id == world.pairing.pk


def test_users_of_the_role_groups_exist():
    assert {r.value for r in Role} == {"bureau_staff", "lead_principal", "member_principal", "assessor", "auditor"}


def test_deactivated_user_is_refused(world):
    user = world.users["bureau"]
    user.is_active = False
    user.save()
    client = APIClient()
    client.force_login(user)
    assert client.get(_url("school")).status_code in DENIED_ANONYMOUS


def test_user_without_role_sees_nothing(world, county):
    user = UserFactory(username="norole", county=county)
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(_url("school")).status_code == 403
