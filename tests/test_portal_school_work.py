"""The school's daily work on the portal: pairing tasks (progress reported by the pairing's
schools), mentoring meetings and activities with photos or PDFs, through the test client.
Access per page and role is in test_portal_access.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.models import PairingTask
from staffing.models import Activity, ActivityAttachment, MentorMeeting

from .factories import PairingFactory, PairingTaskFactory
from .factories_staffing import ActivityFactory, MentorMeetingFactory, MentorPairFactory, TeacherFactory
from .fixtures_portal import PDF, PNG, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(alliance, lead_school, member_school):
    pairing = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    return PairingTaskFactory(pairing=pairing, title="共建语文教研组")


@pytest.fixture
def pair(teacher, lead_school):
    return MentorPairFactory(mentor=TeacherFactory(school=lead_school, name="李老师"), mentee=teacher)


# --- pairing tasks ----------------------------------------------------------------------------


def test_the_lead_principal_reports_a_tasks_progress(lead_principal, task):
    # given the lead school's principal on the tasks page
    client = signed_in(lead_principal)
    assert "共建语文教研组" in client.get("/tasks/").content.decode()

    # when it marks the task done with its date and notes
    response = client.post(
        f"/tasks/{task.pk}/",
        {
            f"t{task.pk}-status": "done",
            f"t{task.pk}-completed_on": "2025-11-20",
            f"t{task.pk}-progress_notes": "已完成",
        },
    )

    # then the task is done
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_on, task.progress_notes) == ("done", dt.date(2025, 11, 20), "已完成")


def test_a_task_marked_done_without_its_date_shows_the_error_beside_the_date(lead_principal, task):
    response = signed_in(lead_principal).post(f"/tasks/{task.pk}/", {f"t{task.pk}-status": "done"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="errors-completed_on"' in page
    task.refresh_from_db()
    assert task.status == PairingTask.Status.PLANNED


def test_another_schools_task_is_a_404(other_school_principal, task):
    response = signed_in(other_school_principal).post(f"/tasks/{task.pk}/", {f"t{task.pk}-status": "in_progress"})

    assert response.status_code == 404
    assert "共建语文教研组" not in signed_in(other_school_principal).get("/tasks/").content.decode()


def test_the_tasks_page_does_not_grow_with_its_tasks(lead_principal, alliance, lead_school, member_school):
    pairing = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    client = signed_in(lead_principal)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/tasks/").status_code == 200
        return len(queries)

    PairingTaskFactory(pairing=pairing)
    one = count()
    PairingTaskFactory.create_batch(6, pairing=pairing)
    assert count() == one


# --- mentoring meetings -------------------------------------------------------------------------


def test_a_meeting_is_logged_and_edited(principal, pair):
    client = signed_in(principal)
    data = {"pair": pair.pk, "date": "2025-10-09", "kind": "observation", "notes": "听课两节"}

    response = client.post("/meetings/", data)

    assert response.status_code == 302
    meeting = MentorMeeting.objects.get(pair=pair)
    assert "听课两节" in client.get("/meetings/").content.decode()
    response = client.post(f"/meetings/{meeting.pk}/", {**data, "kind": "review"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.kind == "review"


def test_a_meeting_outside_the_pairs_dates_shows_the_error_beside_the_date(principal, pair):
    response = signed_in(principal).post("/meetings/", {"pair": pair.pk, "date": "2024-01-01", "kind": "review"})

    assert response.status_code == 400
    assert 'id="errors-date"' in response.content.decode()
    assert not MentorMeeting.objects.exists()


def test_another_schools_meeting_is_a_404(other_school_principal, pair):
    meeting = MentorMeetingFactory(pair=pair)

    assert signed_in(other_school_principal).get(f"/meetings/{meeting.pk}/").status_code == 404


def test_the_meetings_page_does_not_grow_with_its_meetings(principal, pair):
    client = signed_in(principal)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/meetings/").status_code == 200
        return len(queries)

    MentorMeetingFactory(pair=pair)
    one = count()
    MentorMeetingFactory.create_batch(6, pair=pair)
    assert count() == one


# --- activities ---------------------------------------------------------------------------------


def activity_data(**overrides):
    return {"kind": "teaching_research", "title": "同课异构", "date": "2025-10-15", "person_times": "30", **overrides}


def test_an_activity_is_logged_with_a_photo_and_a_pdf(principal, lead_school):
    # given a photo and a PDF
    files = [SimpleUploadedFile("p.png", PNG, "image/png"), SimpleUploadedFile("s.pdf", PDF, "application/pdf")]

    # when the principal logs an activity with both
    response = signed_in(principal).post("/activities/", {**activity_data(schools=[lead_school.pk]), "uploads": files})

    # then the activity and its two files are kept, under generated names, listed on the page
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get(title="同课异构")
    assert list(activity.schools.all()) == [lead_school]
    names = [a.file.name for a in activity.attachments.all()]
    assert len(names) == 2 and not any("p.png" in n or "s.pdf" in n for n in names)
    page = signed_in(principal).get("/activities/").content.decode()
    assert "同课异构" in page and "<img" in page
    assert lead_school.name in page.split('id="activity-list"')[1]  # the schools involved, listed


def test_a_file_that_is_no_photo_or_pdf_is_refused_beside_the_files_and_nothing_is_written(principal):
    fake = SimpleUploadedFile("p.png", b"MZ not a png", "image/png")

    response = signed_in(principal).post("/activities/", {**activity_data(), "uploads": [fake]})

    assert response.status_code == 400
    assert 'id="errors-uploads"' in response.content.decode()
    assert not Activity.objects.exists()


def test_a_donation_without_amount_or_goods_shows_the_error_beside_the_amount(principal):
    response = signed_in(principal).post("/activities/", activity_data(kind="donation", title="捐书"))

    assert response.status_code == 400
    assert 'id="errors-donation_amount"' in response.content.decode()


def test_donation_fields_are_dropped_for_another_kind(principal):
    response = signed_in(principal).post("/activities/", activity_data(donation_amount="500", goods_description="书"))

    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.donation_amount, activity.goods_description) == (None, "")


def test_a_donation_keeps_its_amount(principal):
    response = signed_in(principal).post("/activities/", activity_data(kind="donation", donation_amount="1234.5"))

    assert response.status_code == 302
    assert str(Activity.objects.get().donation_amount) == "1234.50"


def test_an_activity_is_edited_and_its_file_removed(principal, member_school):
    activity = ActivityFactory(host_school=member_school, title="旧标题")
    client = signed_in(principal)
    client.post(
        f"/activities/{activity.pk}/", {**activity_data(title="新标题"), "uploads": [SimpleUploadedFile("a.pdf", PDF)]}
    )
    activity.refresh_from_db()
    assert activity.title == "新标题"
    attachment = ActivityAttachment.objects.get(activity=activity)

    response = client.post(f"/attachments/{attachment.pk}/delete/")

    assert response.status_code == 302
    assert not ActivityAttachment.objects.exists()


def test_another_schools_activity_is_a_404(other_school_principal, member_school):
    activity = ActivityFactory(host_school=member_school)

    assert signed_in(other_school_principal).get(f"/activities/{activity.pk}/").status_code == 404


def test_the_activities_page_does_not_grow_with_its_activities(principal, member_school, lead_school):
    client = signed_in(principal)

    def add(n: int) -> None:
        for activity in ActivityFactory.create_batch(n, host_school=member_school, schools=[lead_school]):
            ActivityAttachment.objects.create(activity=activity, file=SimpleUploadedFile("a.pdf", PDF))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/activities/").status_code == 200
        return len(queries)

    add(1)
    one = count()
    add(5)
    assert count() == one
