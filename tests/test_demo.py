"""The demo county: ``load_demo`` loads it, a second run changes nothing, ``--logins`` prints it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse

from alliance.access import Role, role_of
from alliance.models import Alliance, County, Membership, Pairing, PairingTask, School, User
from demo import data

pytestmark = pytest.mark.django_db


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture(scope="module")
def loaded_once(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module inside a transaction rolled back at its end (each
    test runs in a savepoint inside it): a load takes seconds, the tests only read it."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(loaded_once, db):
    return County.objects.get(code=data.COUNTY["code"])


def test_load_demo_creates_a_county_of_about_thirty_schools(demo):
    # given the demo loaded (fixture)
    schools = School.objects.filter(county=demo)
    # then it has about 30 schools of mixed stages, locations and strengths
    assert 28 <= schools.count() <= 32
    assert schools.values("stage").distinct().count() >= 4
    assert set(schools.values_list("location", flat=True)) == {"urban", "township", "rural"}
    assert set(schools.values_list("strength", flat=True)) == {"strong", "weak", "new"}
    assert not schools.filter(Q(students=0) | Q(teachers=0) | Q(classes=0)).exists()


def test_every_alliance_has_exactly_one_lead_and_one_to_four_members(demo):
    alliances = Alliance.objects.filter(school_year__county=demo).annotate(
        leads=Count("memberships", filter=Q(memberships__role=Membership.Role.LEAD)),
        members=Count("memberships", filter=Q(memberships__role=Membership.Role.MEMBER)),
    )
    assert 9 <= alliances.count() <= 11
    assert {a.leads for a in alliances} == {1}
    assert all(1 <= a.members <= 4 for a in alliances)
    assert alliances.values("kind").distinct().count() >= 5


def test_pairings_have_task_lists_in_several_states(demo):
    pairings = Pairing.objects.filter(alliance__school_year__county=demo)
    assert (
        pairings.count()
        == Membership.objects.filter(
            alliance__in=Alliance.objects.filter(school_year__county=demo), role=Membership.Role.MEMBER
        ).count()
    )
    assert not pairings.annotate(n=Count("tasks")).filter(n=0).exists()
    statuses = set(PairingTask.objects.filter(pairing__in=pairings).values_list("status", flat=True))
    assert {"done", "in_progress", "planned"} <= statuses


def test_there_is_a_demo_user_for_every_role_with_the_known_password(demo):
    users = User.objects.filter(county=demo)
    roles = [role_of(u) for u in users]
    # then every role has a user, and there are two bureau users (publishing needs four eyes)
    assert set(roles) == set(Role)
    assert roles.count(Role.BUREAU) >= 2
    assert all(u.is_staff and u.check_password(data.PASSWORD) for u in users)
    assessor = next(u for u in users if role_of(u) == Role.ASSESSOR)
    assert assessor.assessed_schools.exists()
    lead = next(u for u in users if role_of(u) == Role.LEAD_PRINCIPAL)
    assert lead.school.memberships.filter(role=Membership.Role.LEAD).exists()
    member = next(u for u in users if role_of(u) == Role.MEMBER_PRINCIPAL)
    assert member.school.memberships.filter(role=Membership.Role.MEMBER).exists()


def test_a_demo_user_can_log_into_the_admin(demo):
    # given the demo's bureau user and the published password
    client = Client()
    # when it logs in through the admin's login form
    response = client.post(
        reverse("admin:login"),
        {"username": "demo-bureau", "password": data.PASSWORD, "next": reverse("admin:index")},
    )
    # then it is let in and sees the admin's index
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_second_run_changes_no_row_count_of_any_model(demo):
    # given the demo loaded once (fixture)
    before = row_counts()
    # when it is loaded again
    output = load_demo()
    # then no model has a row more or less
    assert row_counts() == before
    assert "created" not in output


def test_logins_prints_one_line_per_role_and_nothing_else(demo):
    # when the logins are asked for
    lines = load_demo("--logins").strip().splitlines()
    # then each line is a demo login (username, password, role, school) and every role appears
    assert len(lines) == len(data.USERS)
    printed_roles = {line.split()[0] for line in lines}
    assert printed_roles == {r.value for r in Role}
    for line in lines:
        role, username, password, *_where = line.split()
        assert password == data.PASSWORD
        assert role_of(User.objects.get(username=username)) == Role(role)


def test_logins_needs_no_database_rows():
    # --logins only prints the fixed logins: make demo calls it after loading anyway
    lines = load_demo("--logins").strip().splitlines()
    assert len(lines) == len(data.USERS)
