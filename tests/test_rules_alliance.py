"""A pairing's task list: the bureau draws it up; the pairing's schools and the lead school of
its alliance report the status, completion date and progress (issue 13), through the API and
the admin alike, and nothing else."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from alliance.models import PairingTask

from .factories import MembershipFactory, PairingFactory, PairingTaskFactory, SchoolFactory

API = "/api/v1"


def zh(msgid):
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


BUREAU_SETS = zh("The bureau sets this; a pairing's schools report the status, completion date and progress.")


@pytest.fixture
def members_task(alliance, county, member_school):
    """A task of a pairing between two member schools of the lead school's alliance."""
    third = SchoolFactory(county=county)
    MembershipFactory(alliance=alliance, school=third)
    pairing = PairingFactory(alliance=alliance, helper_school=member_school, helped_school=third)
    return PairingTaskFactory(pairing=pairing, due_date=dt.date(2025, 12, 1))


def test_the_lead_principal_reports_on_its_alliances_pairing_tasks(api_as, lead_principal, members_task):
    # when the lead principal reports a task of a pairing of two of its member schools as done
    res = api_as(lead_principal).patch(
        f"{API}/pairing-tasks/{members_task.pk}/",
        {"status": "done", "completed_on": "2025-11-20", "progress_notes": "两校同课异构三次，教案已归档"},
        format="json",
    )
    # then it is saved
    assert res.status_code == 200, res.data
    members_task.refresh_from_db()
    assert (members_task.status, members_task.completed_on) == ("done", dt.date(2025, 11, 20))


@pytest.mark.parametrize("who", ["lead_principal", "principal"])
@pytest.mark.parametrize(
    "change", [{"due_date": "2026-06-30"}, {"title": "改名"}, {"responsible_person": "某"}, {"status": "dropped"}]
)
def test_a_school_may_not_rewrite_the_bureaus_task_list(request, api_as, who, members_task, change):
    # when a school moves the due date, renames the task or drops it
    before = PairingTask.objects.values().get(pk=members_task.pk)
    res = api_as(request.getfixturevalue(who)).patch(f"{API}/pairing-tasks/{members_task.pk}/", change, format="json")
    # then it is refused beside the field, with the rule's message, and nothing is written
    assert res.status_code == 400
    field = next(iter(change))
    assert [str(m) for m in res.data[field]] == [BUREAU_SETS]
    assert PairingTask.objects.values().get(pk=members_task.pk) == before


def test_the_admin_refuses_the_same_with_the_same_message(client, principal, members_task):
    client.force_login(principal)
    url = reverse("admin:alliance_pairingtask_change", args=[members_task.pk])
    res = client.post(
        url,
        {
            "pairing": members_task.pairing_id, "title": members_task.title, "due_date": "2026-06-30",
            "responsible_person": members_task.responsible_person, "status": "in_progress", "progress_notes": "",
        },
    )  # fmt: skip
    assert res.status_code == 200
    assert [str(m) for m in res.context["adminform"].form.errors["due_date"]] == [BUREAU_SETS]
    members_task.refresh_from_db()
    assert (members_task.due_date, members_task.status) == (dt.date(2025, 12, 1), "planned")


def test_the_bureau_sets_every_field(api_as, bureau_staff, members_task):
    res = api_as(bureau_staff).patch(
        f"{API}/pairing-tasks/{members_task.pk}/", {"due_date": "2026-01-15", "status": "dropped"}, format="json"
    )
    assert res.status_code == 200, res.data


def test_a_task_marked_done_needs_its_date_alike(api_as, principal, members_task):
    res = api_as(principal).patch(f"{API}/pairing-tasks/{members_task.pk}/", {"status": "done"}, format="json")
    assert res.status_code == 400
    assert [str(m) for m in res.data["completed_on"]] == [zh("A task marked done needs its completion date.")]


def test_a_member_school_reports_on_a_task_but_never_deletes_it(api_as, principal, members_task):
    # given a task of a pairing between member school A and another member
    # when A's principal deletes it
    res = api_as(principal).delete(f"{API}/pairing-tasks/{members_task.pk}/")
    # then it is refused (the list is the bureau's and the lead's) and the task stays
    assert res.status_code == 403
    assert PairingTask.objects.filter(pk=members_task.pk).exists()


@pytest.mark.parametrize("who", ["lead_principal", "bureau_staff"])
def test_the_lead_principal_and_the_bureau_take_a_task_off_the_list(request, api_as, who, members_task):
    # given a task of a pairing in the alliance; when the lead principal or the bureau deletes it
    res = api_as(request.getfixturevalue(who)).delete(f"{API}/pairing-tasks/{members_task.pk}/")
    # then it is gone
    assert res.status_code == 204
    assert not PairingTask.objects.filter(pk=members_task.pk).exists()
