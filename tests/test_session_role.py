"""The session's user is read with its portal role (alliance/backends.py), in one statement,
and the role is the one ``access.role_of`` picks from the user's groups."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from alliance import access
from alliance.access import Role
from alliance.backends import RoleModelBackend

from .factories import UserFactory


def _fresh_role(user):
    """The role as ``role_of`` reads it from the groups (its own query)."""
    fresh = type(user).objects.get(pk=user.pk)
    return access.role_of(fresh)


def test_the_session_user_comes_with_its_role_in_one_statement(principal, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = RoleModelBackend().get_user(principal.pk)
        assert access.role_of(user) == Role.MEMBER_PRINCIPAL
    assert user == principal


def test_of_several_role_groups_the_role_is_the_one_role_of_picks(county, member_school):
    user = UserFactory(username="two-roles", county=county, school=member_school, role=Role.ASSESSOR)
    user.groups.add(Group.objects.get(name=Role.LEAD_PRINCIPAL.value), Group.objects.create(name="not-a-role"))
    read = RoleModelBackend().get_user(user.pk)
    assert access.role_of(read) == _fresh_role(user) == Role.LEAD_PRINCIPAL


@pytest.mark.parametrize("change", ["no_groups", "other_group"])
def test_a_user_without_a_role_group_has_no_role(county, change):
    user = UserFactory(username="no-role", county=county)
    user.groups.clear()
    if change == "other_group":
        user.groups.add(Group.objects.create(name="not-a-role"))
    read = RoleModelBackend().get_user(user.pk)
    assert access.role_of(read) is None
    assert _fresh_role(user) is None


def test_an_inactive_or_missing_user_is_nobody(principal):
    type(principal).objects.filter(pk=principal.pk).update(is_active=False)
    assert RoleModelBackend().get_user(principal.pk) is None
    assert RoleModelBackend().get_user(principal.pk + 1000) is None


def test_a_page_reads_no_groups_beside_the_user(client, principal):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(principal)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("portal:home")).status_code == 200
    links = Group.user_set.through._meta.db_table
    groups = [q["sql"] for q in queries if f'"{links}"' in q["sql"]]
    # the one statement naming the groups is the session's user read (its role beside it)
    assert len(groups) == 1, groups
    assert "_role_name" in groups[0]
