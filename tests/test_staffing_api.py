"""The staffing endpoints as each role reaches them: rules, scoping and query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from staffing.models import Activity, Exchange, MentorPair, Teacher

from .factories_staffing import (
    ActivityAttachmentFactory,
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)

API = "/api/v1"


def exchange_payload(teacher, hosts, **kw):
    data = {
        "kind": "dispatched",
        "teacher": teacher.pk,
        "origin_school": teacher.school_id,
        "hosts": [h.pk for h in hosts],
        "subject": "math",
        "class_count": 2,
        "classes": "三(1)班",
        "weekly_periods": 8,
        "start_date": "2025-09-01",
        "end_date": "2026-01-20",
    }
    data.update(kw)
    return data


# --- exchanges: rules ---------------------------------------------------------------------


def test_principal_logs_an_exchange(api_as, lead_principal, lead_teacher, member_school):
    # when the lead principal posts an exchange of its teacher to a member school
    res = api_as(lead_principal).post(
        f"{API}/exchanges/", exchange_payload(lead_teacher, [member_school]), format="json"
    )
    # then it is saved, planned, with its host, logged by the principal
    assert res.status_code == 201, res.data
    assert res.data["hosts"] == [member_school.pk]
    assert res.data["status"] == "planned"
    assert res.data["logged_by"] == lead_principal.pk
    assert res.data["cross_alliance"] is False


def test_overlapping_posting_gets_400_and_writes_nothing(api_as, lead_principal, lead_teacher, member_school):
    # given a posting for the autumn
    client = api_as(lead_principal)
    assert (
        client.post(f"{API}/exchanges/", exchange_payload(lead_teacher, [member_school]), format="json").status_code
        == 201
    )
    # when an overlapping one is posted
    res = client.post(
        f"{API}/exchanges/", exchange_payload(lead_teacher, [member_school], start_date="2025-12-01"), format="json"
    )
    # then a 400 names the field, and nothing more is written
    assert res.status_code == 400
    assert "该教师在此期间已有其他交流安排" in res.data["start_date"][0]
    assert Exchange.objects.count() == 1


def test_end_before_start_gets_400(api_as, lead_principal, lead_teacher, member_school):
    res = api_as(lead_principal).post(
        f"{API}/exchanges/", exchange_payload(lead_teacher, [member_school], end_date="2025-08-01"), format="json"
    )
    assert res.status_code == 400
    assert "end_date" in res.data
    assert not Exchange.objects.exists()


def test_host_of_other_county_gets_400(api_as, bureau_staff, lead_teacher, foreign_school):
    res = api_as(bureau_staff).post(
        f"{API}/exchanges/", exchange_payload(lead_teacher, [foreign_school]), format="json"
    )
    assert res.status_code == 400
    assert "hosts" in res.data
    assert not Exchange.objects.exists()


def test_two_hosts_for_a_posting_get_400(api_as, lead_principal, lead_teacher, member_school, other_school):
    res = api_as(lead_principal).post(
        f"{API}/exchanges/", exchange_payload(lead_teacher, [member_school, other_school]), format="json"
    )
    assert res.status_code == 400
    assert "hosts" in res.data


def test_cross_alliance_exchange_is_flagged(api_as, lead_principal, lead_teacher, other_school, other_alliance):
    res = api_as(lead_principal).post(
        f"{API}/exchanges/", exchange_payload(lead_teacher, [other_school]), format="json"
    )
    assert res.status_code == 201
    assert res.data["cross_alliance"] is True
    listed = api_as(lead_principal).get(f"{API}/exchanges/?cross_alliance=true")
    assert [row["id"] for row in listed.data["results"]] == [res.data["id"]]


def test_principal_cannot_set_status_on_create_or_patch(api_as, principal, teacher, lead_school):
    client = api_as(principal)
    res = client.post(f"{API}/exchanges/", exchange_payload(teacher, [lead_school], status="approved"), format="json")
    assert res.status_code == 400
    assert "status" in res.data
    assert not Exchange.objects.exists()
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    for field, value in (("status", "approved"), ("approved_by", principal.pk), ("logged_by", principal.pk)):
        res = client.patch(f"{API}/exchanges/{exchange.pk}/", {field: value}, format="json")
        assert res.status_code == 400, field
        assert field in res.data
    exchange.refresh_from_db()
    assert (exchange.status, exchange.approved_by) == ("planned", None)


def test_principal_patch_changes_hosts_and_rechecks(
    api_as, principal, teacher, lead_school, other_school, other_alliance
):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    res = api_as(principal).patch(f"{API}/exchanges/{exchange.pk}/", {"hosts": [other_school.pk]}, format="json")
    assert res.status_code == 200, res.data
    assert res.data["hosts"] == [other_school.pk]
    assert res.data["cross_alliance"] is True


def test_workflow_through_the_api(api_as, bureau_staff, principal, teacher, lead_school):
    # given a planned exchange of school A
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    url = f"{API}/exchanges/{exchange.pk}"
    # a principal may not approve; cannot start before approval
    assert api_as(principal).post(f"{url}/approve/").status_code == 403
    res = api_as(principal).post(f"{url}/start/")
    assert res.status_code == 400
    assert "status" in res.data
    # the bureau approves; the principal starts and completes
    res = api_as(bureau_staff).post(f"{url}/approve/")
    assert res.status_code == 200
    assert (res.data["status"], res.data["approved_by"]) == ("approved", bureau_staff.pk)
    assert api_as(principal).post(f"{url}/start/").data["status"] == "active"
    assert api_as(principal).post(f"{url}/complete/").data["status"] == "completed"
    # a completed exchange cannot be cancelled
    assert api_as(bureau_staff).post(f"{url}/cancel/", {"reason": "x"}, format="json").status_code == 400


def test_cancel_needs_a_reason(api_as, principal, teacher, lead_school):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    client = api_as(principal)
    assert client.post(f"{API}/exchanges/{exchange.pk}/cancel/", {}, format="json").status_code == 400
    res = client.post(f"{API}/exchanges/{exchange.pk}/cancel/", {"reason": "学校安排调整"}, format="json")
    assert res.status_code == 200
    assert (res.data["status"], res.data["cancel_reason"]) == ("cancelled", "学校安排调整")


def test_bureau_of_another_county_cannot_approve(api_as, other_bureau_staff, teacher, lead_school):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    assert api_as(other_bureau_staff).post(f"{API}/exchanges/{exchange.pk}/approve/").status_code == 404
    exchange.refresh_from_db()
    assert exchange.status == "planned"


# --- scoping ------------------------------------------------------------------------------


@pytest.fixture
def b_rows(other_teacher, other_lead_school):
    """School B's teacher, exchange, mentoring pair and activity."""
    return {
        "teachers": other_teacher,
        "exchanges": ExchangeFactory(teacher=other_teacher, hosts=[other_lead_school]),
        "mentor-pairs": MentorPairFactory(mentor=TeacherFactory(school=other_lead_school), mentee=other_teacher),
        "activities": ActivityFactory(host_school=other_teacher.school),
    }


@pytest.mark.parametrize("endpoint", ["teachers", "exchanges", "mentor-pairs", "activities"])
def test_principal_of_a_gets_404_on_b_rows(api_as, principal, teacher, b_rows, endpoint):
    # given rows of school B
    row = b_rows[endpoint]
    client = api_as(principal)
    # when the principal of school A reaches them
    url = f"{API}/{endpoint}/{row.pk}/"
    # then they do not exist for it, and its lists never show them
    assert client.get(url).status_code == 404
    assert client.patch(url, {}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert row.pk not in [r["id"] for r in client.get(f"{API}/{endpoint}/").data["results"]]
    assert type(row).objects.filter(pk=row.pk).exists()


def test_principal_cannot_create_with_b_school_or_teacher(
    api_as, principal, teacher, other_teacher, other_school, lead_school
):
    client = api_as(principal)
    res = client.post(
        f"{API}/teachers/", {"school": other_school.pk, "name": "新教师", "subject": "math"}, format="json"
    )
    assert res.status_code == 400
    assert "school" in res.data
    res = client.post(f"{API}/exchanges/", exchange_payload(other_teacher, [lead_school]), format="json")
    assert res.status_code == 400
    assert {"teacher", "origin_school"} <= set(res.data)
    res = client.post(
        f"{API}/activities/",
        {"kind": "training", "date": "2025-10-01", "host_school": other_school.pk, "title": "培训"},
        format="json",
    )
    assert res.status_code == 400
    assert "host_school" in res.data
    assert not Teacher.objects.filter(name="新教师").exists()
    assert not Exchange.objects.exists()
    assert not Activity.objects.exists()


def test_principal_creates_own_rows(api_as, principal, member_school, lead_teacher, teacher, other_school):
    client = api_as(principal)
    res = client.post(
        f"{API}/teachers/", {"school": member_school.pk, "name": "新教师", "subject": "math"}, format="json"
    )
    assert res.status_code == 201, res.data
    res = client.post(
        f"{API}/activities/",
        {
            "kind": "teaching_research", "date": "2025-10-01", "host_school": member_school.pk,
            "schools": [other_school.pk], "title": "同课异构", "person_times": 40,
        },
        format="json",
    )  # fmt: skip
    assert res.status_code == 201, res.data
    # a mentoring pair of two of A's teachers (a pair naming the lead school's teacher is the
    # lead principal's or the bureau's to log: a member principal names only teachers it may
    # read, tests/test_rules_staffing.py)
    res = client.post(
        f"{API}/mentor-pairs/",
        {"mentor": TeacherFactory(school=member_school).pk, "mentee": teacher.pk, "start_date": "2025-09-01"},
        format="json",
    )
    assert res.status_code == 201, res.data
    res = client.post(
        f"{API}/mentor-meetings/", {"pair": res.data["id"], "date": "2025-10-01", "kind": "observation"}, format="json"
    )
    assert res.status_code == 201, res.data


def test_mentor_pair_of_two_other_schools_is_refused(api_as, principal, lead_teacher, other_teacher):
    res = api_as(principal).post(
        f"{API}/mentor-pairs/",
        {"mentor": lead_teacher.pk, "mentee": other_teacher.pk, "start_date": "2025-09-01"},
        format="json",
    )
    assert res.status_code == 400
    assert not MentorPair.objects.exists()


def test_activity_with_school_of_other_county_is_refused(api_as, bureau_staff, lead_school, foreign_school):
    res = api_as(bureau_staff).post(
        f"{API}/activities/",
        {"kind": "training", "date": "2025-10-01", "host_school": lead_school.pk, "schools": [foreign_school.pk],
         "title": "培训"},
        format="json",
    )  # fmt: skip
    assert res.status_code == 400
    assert "schools" in res.data


def test_lead_principal_reads_member_rows_but_cannot_change_them(api_as, lead_principal, teacher, lead_school):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school], kind="shadowing")
    client = api_as(lead_principal)
    assert client.get(f"{API}/teachers/{teacher.pk}/").status_code == 200
    assert client.get(f"{API}/exchanges/{exchange.pk}/").status_code == 200
    assert client.patch(f"{API}/teachers/{teacher.pk}/", {"name": "改名"}, format="json").status_code == 403
    assert client.patch(f"{API}/exchanges/{exchange.pk}/", {"weekly_periods": 1}, format="json").status_code == 403
    assert client.delete(f"{API}/teachers/{teacher.pk}/").status_code == 403
    teacher.refresh_from_db()
    assert teacher.name == "王老师"


def test_lead_principal_does_not_see_other_alliances(api_as, lead_principal, other_teacher):
    assert api_as(lead_principal).get(f"{API}/teachers/{other_teacher.pk}/").status_code == 404


def test_assessor_reads_assigned_schools_only(api_as, assessor, teacher, other_teacher):
    client = api_as(assessor)
    assert client.get(f"{API}/teachers/{teacher.pk}/").status_code == 200
    assert client.get(f"{API}/teachers/{other_teacher.pk}/").status_code == 404
    assert [r["id"] for r in client.get(f"{API}/teachers/").data["results"]] == [teacher.pk]
    assert client.patch(f"{API}/teachers/{teacher.pk}/", {"name": "x"}, format="json").status_code == 403


def test_auditor_reads_the_county_and_writes_nothing(
    api_as, auditor, teacher, other_teacher, member_school, lead_school
):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    client = api_as(auditor)
    assert {r["id"] for r in client.get(f"{API}/teachers/").data["results"]} == {teacher.pk, other_teacher.pk}
    assert (
        client.post(f"{API}/teachers/", {"school": member_school.pk, "name": "x", "subject": "math"}).status_code == 403
    )
    assert client.put(f"{API}/teachers/{teacher.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.patch(f"{API}/exchanges/{exchange.pk}/", {"weekly_periods": 1}, format="json").status_code == 403
    assert client.delete(f"{API}/exchanges/{exchange.pk}/").status_code == 403
    assert client.post(f"{API}/exchanges/{exchange.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert Exchange.objects.get().status == "planned"


def test_bureau_of_another_county_gets_404(api_as, other_bureau_staff, teacher, lead_school):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    client = api_as(other_bureau_staff)
    assert client.get(f"{API}/teachers/{teacher.pk}/").status_code == 404
    assert client.patch(f"{API}/exchanges/{exchange.pk}/", {"weekly_periods": 1}, format="json").status_code == 404
    assert client.delete(f"{API}/exchanges/{exchange.pk}/").status_code == 404
    assert client.get(f"{API}/exchanges/").data["count"] == 0


def test_filters(api_as, bureau_staff, teacher, lead_teacher, member_school, lead_school):
    ExchangeFactory(teacher=teacher, hosts=[lead_school], kind="shadowing", start_date=dt.date(2025, 9, 1))
    ExchangeFactory(
        teacher=lead_teacher, hosts=[member_school], start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 6, 1)
    )
    client = api_as(bureau_staff)
    assert client.get(f"{API}/exchanges/?kind=shadowing").data["count"] == 1
    assert client.get(f"{API}/exchanges/?start_from=2026-01-01").data["count"] == 1
    assert client.get(f"{API}/exchanges/?school={member_school.pk}").data["count"] == 2
    assert client.get(f"{API}/exchanges/?search=王老师").data["count"] == 1
    assert client.get(f"{API}/teachers/?is_key_teacher=true").data["count"] == 1


# --- query counts -------------------------------------------------------------------------


def _teachers(county, school, n):
    TeacherFactory.create_batch(n, school=school)


def _exchanges(county, school, n):
    for teacher in TeacherFactory.create_batch(n, school=school):
        host = TeacherFactory(school__county=county).school
        ExchangeFactory(teacher=teacher, hosts=[host])


def _pairs(county, school, n):
    for _ in range(n):
        MentorMeetingFactory(pair=MentorPairFactory(mentor__school=school, mentee__school=school))


def _meetings(county, school, n):
    MentorMeetingFactory.create_batch(n, pair=MentorPairFactory(mentor__school=school, mentee__school=school))


def _activities(county, school, n):
    for _ in range(n):
        ActivityAttachmentFactory(activity=ActivityFactory(host_school=school, schools=[school]))


def _attachments(county, school, n):
    ActivityAttachmentFactory.create_batch(n, activity=ActivityFactory(host_school=school))


@pytest.mark.parametrize(
    ("endpoint", "make"),
    [
        ("teachers", _teachers),
        ("exchanges", _exchanges),
        ("mentor-pairs", _pairs),
        ("mentor-meetings", _meetings),
        ("activities", _activities),
        ("activity-attachments", _attachments),
    ],
)
@pytest.mark.parametrize("who", ["bureau_staff", "principal"])
def test_list_queries_do_not_grow_with_rows(
    request, api_as, county, member_school, endpoint, make, who, django_assert_num_queries
):
    # given a user and two rows
    client = api_as(request.getfixturevalue(who))
    client.get(f"{API}/{endpoint}/")  # the user's role is read once per user object
    make(county, member_school, 2)
    with CaptureQueriesContext(connection) as two:
        assert client.get(f"{API}/{endpoint}/").data["count"] == 2
    # when there are ten
    make(county, member_school, 8)
    # then the list costs the same number of queries
    with django_assert_num_queries(len(two)):
        assert client.get(f"{API}/{endpoint}/").data["count"] == 10


@pytest.mark.parametrize("status", ["approved", "active", "completed", "cancelled"])
@pytest.mark.parametrize("who", ["principal", "bureau_staff"])
def test_an_exchange_past_planning_is_cancelled_never_deleted(request, api_as, who, status, teacher, lead_school):
    # given an exchange of school A that is no longer a draft
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school], status=status)
    # when its principal or the bureau deletes it
    res = api_as(request.getfixturevalue(who)).delete(f"{API}/exchanges/{exchange.pk}/")
    # then it is refused with a reason and the exchange stays as it was
    assert res.status_code == 400
    with translation.override("zh-hans"):
        message = translation.gettext(
            "Only a planned exchange may be deleted; cancel this one, with a reason, instead."
        )
    assert res.json() == {"non_field_errors": [message]}
    assert Exchange.objects.get(pk=exchange.pk).status == status


def test_a_school_deletes_its_own_planned_exchange(api_as, principal, teacher, lead_school):
    # given a planned (draft) exchange of school A; when its principal deletes it; then it is gone
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    assert api_as(principal).delete(f"{API}/exchanges/{exchange.pk}/").status_code == 204
    assert not Exchange.objects.filter(pk=exchange.pk).exists()
