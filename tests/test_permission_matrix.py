"""Role × endpoint × operation: every API endpoint answers as ``permission_table.TABLE`` says,
one status per case.

A new endpoint fails ``test_every_endpoint_is_in_the_table`` until it gets a row; anything a
row does not grant is expected to be refused. The world is built once for the module
(``tests/fixtures_matrix.py``); each case runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from rest_framework.test import APIClient

from alliance.access import Role
from alliance.models import User
from config.urls import router

from .factories import UserFactory
from .permission_table import OPS, ROLES, TABLE

pytestmark = pytest.mark.django_db


def test_every_endpoint_is_in_the_table():
    registered = {basename for _, _, basename in router.registry}
    assert registered - set(TABLE) == set(), "endpoints without a row in tests/permission_table.py"
    assert set(TABLE) - registered == set(), "rows for endpoints that no longer exist"


def test_every_writable_endpoint_has_create_payloads():
    missing = sorted(b for b, rule in TABLE.items() if not rule.readonly and not (rule.payload and rule.payload_b))
    assert missing == [], "writable endpoints without a create payload for both sides"


def test_exceptions_name_real_cases():
    # a typo in a row's ``expect`` or ``wrong`` would silently leave the default in force
    for basename, rule in TABLE.items():
        for role, op in [*rule.expect, *rule.wrong]:
            assert role in ROLES and op in OPS, (basename, role, op)
        assert set(rule.expect).isdisjoint(rule.wrong), basename


def _client(w, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        # a fresh copy: the access checkpoint caches on the user object
        client.force_authenticate(User.objects.get(pk=w.users[role].pk))
    return client


def _url(basename: str, pk=None) -> str:
    if pk is None:
        return reverse(f"{basename}-list")
    return reverse(f"{basename}-detail", args=[pk])


def _ids(response) -> set:
    data = response.json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return {row["id"] for row in rows}


def _case(basename: str, role: str, op: str):
    wrong = TABLE[basename].wrong.get((role, op))
    marks = [pytest.mark.xfail(strict=True, reason=f"wrong today: {wrong[1]}")] if wrong else []
    return pytest.param(basename, role, op, id=f"{basename}-{role}-{op}", marks=marks)


CASES = [_case(basename, role, op) for basename in sorted(TABLE) for role in ROLES for op in OPS]


@pytest.mark.parametrize(("basename", "role", "op"), CASES)
def test_permission_matrix(world, basename, role, op):
    # given the world's A-side or B-side row of the endpoint, and a client of the role
    rule = TABLE[basename]
    status, why = rule.expected(role, op)
    kind, side_b = op.removesuffix("_b"), op.endswith("_b")
    row = (rule.b_row if side_b else rule.a_row)(world)
    model = type(row)
    client = _client(world, role)

    # when the role does the operation; then it gets the one expected status, and a refused
    # write writes nothing
    if kind == "list":
        response = client.get(_url(basename))
    elif kind == "retrieve":
        response = client.get(_url(basename, row.pk))
    elif kind == "create":
        payload = rule.payload_b if side_b else rule.payload
        before = model._default_manager.count()
        response = client.post(
            _url(basename), payload(world) if payload else {}, format="multipart" if rule.multipart else "json"
        )
    elif kind == "update":
        before = model_to_dict(model._default_manager.get(pk=row.pk))
        response = client.patch(_url(basename, row.pk), rule.patch(world), format="json")
    else:
        response = client.delete(_url(basename, row.pk))
    assert response.status_code == status, (why, response.content)

    if kind == "list" and status == 200:
        ids = _ids(response)
        assert (rule.a_row(world).pk in ids) == (role in rule.read), f"list: A row visible to {role}?"
        assert (rule.b_row(world).pk in ids) == (role in rule.read_b), f"list: B row visible to {role}?"
    elif kind == "create":
        assert model._default_manager.count() == before + (status == 201)
    elif kind == "update" and status != 200:
        assert model_to_dict(model._default_manager.get(pk=row.pk)) == before
    elif kind == "delete":
        assert model._default_manager.filter(pk=row.pk).exists() == (status != 204)


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
    # given bureau staff whose account is switched off (a copy: the world's object stays as it was)
    user = User.objects.get(pk=world.users["bureau"].pk)
    user.is_active = False
    user.save()
    client = APIClient()
    client.force_login(user)
    # then the API refuses it like an anonymous visitor
    assert client.get(_url("school")).status_code == 403


def test_user_without_role_sees_nothing(world):
    user = UserFactory(username="norole", county=world.county)
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(_url("school")).status_code == 403
