"""The admin obeys the same access checkpoint as the API: every model of the permission table,
every role, through the changelist, the change page and the delete page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from .permission_table import ROLES, TABLE
from .test_permission_matrix import world  # noqa: F401  (the shared fixture)

ADMIN_CASES = [
    (basename, role) for basename in sorted(TABLE) for role in ROLES if role != "anonymous"
]  # fmt: skip


def _admin_url(obj, view: str) -> str:
    meta = obj._meta
    if view == "changelist":
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])


@pytest.mark.parametrize(("basename", "role"), ADMIN_CASES, ids=[f"{b}-{r}" for b, r in ADMIN_CASES])
def test_admin_scoping(world, basename, role):  # noqa: F811
    rule = TABLE[basename]
    a_row, b_row = rule.a_row(world), rule.b_row(world)
    if type(a_row) not in admin.site._registry:
        pytest.skip("no admin page for this model")
    client = Client()
    client.force_login(world.users[role])

    # the changelist links exactly the rows the role may read
    response = client.get(_admin_url(a_row, "changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    for row, readers in ((a_row, rule.read), (b_row, rule.read_b)):
        link = _admin_url(row, "change")
        assert (f'href="{link}"' in body) == (role in readers), (row, role)

    # a row outside the role's reach is not found; a readable one opens (read-only unless changeable)
    a_changers = rule.change if rule.admin_change is None else rule.admin_change
    b_changers = rule.change_b if rule.admin_change_b is None else rule.admin_change_b
    for row, readers, changers in ((a_row, rule.read, a_changers), (b_row, rule.read_b, b_changers)):
        response = client.get(_admin_url(row, "change"))
        assert response.status_code == (200 if role in readers else 404), (row, role)
        if response.status_code == 200:
            can_save = 'name="_save"' in response.content.decode()
            assert can_save == (role in changers), (row, role, "save button")
        response = client.post(_admin_url(row, "delete"), {"post": "yes"})
        if role in (rule.admin_delete if row is a_row else rule.admin_delete_b):
            assert response.status_code == 302
        elif rule.readonly or "delete" in rule.unsupported:
            assert response.status_code in (403, 404)  # nobody deletes such rows
        elif role not in rule.writers:
            assert response.status_code == 403  # the role deletes no such rows anywhere
        elif role not in readers:
            assert response.status_code == 404  # another school's row is "not found"
        elif role not in changers:
            assert response.status_code == 403
        assert type(row)._default_manager.filter(pk=row.pk).exists() or role in changers
