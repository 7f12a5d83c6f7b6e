"""Cross-county programmes (跨区域结对帮扶, seed 002): pairings, task lists with a timetable,
exchanges hosted across the line, the term meeting, and who of the two counties sees what.

County Y (``other_county``, its bureau ``other_bureau_staff``) helps county X (``county``):
``foreign_school`` of Y helps ``member_school`` of X."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from alliance import services
from alliance.access import Role
from alliance.models import Pairing, PairingTask
from staffing import services as staffing_services
from staffing.models import Activity, Exchange

from .factories import SchoolFactory, SchoolYearFactory, TermFactory, UserFactory
from .factories_staffing import TeacherFactory

API = "/api/v1"


@pytest.fixture
def helper_principal(other_county, foreign_school):
    return UserFactory(username="helper", county=other_county, school=foreign_school, role=Role.MEMBER_PRINCIPAL)


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def pdf(name="evidence.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


# --- pairings across the line ----------------------------------------------------------------


def test_a_pairing_across_counties_is_refused_without_a_programme(alliance, foreign_school, member_school):
    # given an ordinary pairing in county X's alliance naming a school of county Y
    pairing = Pairing(
        alliance=alliance, helper_school=foreign_school, helped_school=member_school, start_date=dt.date(2025, 9, 1)
    )
    # when it is validated, then it is refused: the school is not of the alliance
    with pytest.raises(ValidationError) as err:
        pairing.full_clean()
    assert "helper_school" in err.value.message_dict


def test_the_api_refuses_a_cross_county_pairing_without_a_programme(
    api_as, bureau_staff, alliance, foreign_school, member_school
):
    # when county X's bureau pairs a school of county Y into its alliance
    response = api_as(bureau_staff).post(
        f"{API}/pairings/",
        {
            "alliance": alliance.pk,
            "helper_school": foreign_school.pk,
            "helped_school": member_school.pk,
            "start_date": "2025-09-01",
        },
        format="json",
    )
    # then it is refused and nothing is written
    assert response.status_code == 400, response.content
    assert not Pairing.objects.exists()


@pytest.mark.parametrize("who", ["bureau_staff", "other_bureau_staff"])
def test_either_bureau_pairs_the_programmes_schools(request, api_as, who, programme, foreign_school, member_school):
    # given a programme of county Y helping county X
    user = request.getfixturevalue(who)
    # when either bureau pairs Y's school with X's through the programme
    response = api_as(user).post(
        f"{API}/programmes/{programme.pk}/pairings/",
        {"helper_school": foreign_school.pk, "helped_school": member_school.pk, "start_date": "2025-09-01"},
        format="json",
    )
    # then the pairing is made, in the programme and no alliance
    assert response.status_code == 201, response.content
    pairing = Pairing.objects.get()
    assert (pairing.programme, pairing.alliance, pairing.helper_school) == (programme, None, foreign_school)


def test_a_programme_pairing_keeps_each_side_in_its_county(
    api_as, other_bureau_staff, programme, foreign_school, member_school
):
    # when the sides are swapped (the helped county's school as the helper)
    response = api_as(other_bureau_staff).post(
        f"{API}/programmes/{programme.pk}/pairings/",
        {"helper_school": member_school.pk, "helped_school": foreign_school.pk, "start_date": "2025-09-01"},
        format="json",
    )
    # then the programme's rule refuses it beside both fields
    assert response.status_code == 400
    assert set(response.json()) >= {"helper_school", "helped_school"}
    assert not Pairing.objects.exists()


def test_a_programme_pairing_names_no_third_countys_school(api_as, other_bureau_staff, programme, member_school):
    # given a school of a third county
    third = SchoolFactory(county__code="330300")
    response = api_as(other_bureau_staff).post(
        f"{API}/programmes/{programme.pk}/pairings/",
        {"helper_school": third.pk, "helped_school": member_school.pk, "start_date": "2025-09-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "helper_school" in response.json()


def test_a_bureau_outside_the_programme_cannot_pair_in_it(programme, foreign_school, member_school):
    # given the bureau of a third county
    stranger = UserFactory(username="bureau_z", county__code="330300", role=Role.BUREAU)
    with pytest.raises(PermissionDenied):
        services.programme_pairing_create(
            actor=stranger,
            programme=programme,
            helper_school=foreign_school,
            helped_school=member_school,
            start_date=dt.date(2025, 9, 1),
        )


def test_a_programme_is_recorded_only_by_a_bureau_of_its_counties(api_as, bureau_staff, county, other_county):
    # when county X's bureau records a programme of Y helping X, then it is made
    body = {"name": "帮扶", "helper_county": other_county.pk, "helped_county": county.pk, "start_date": "2025-09-01"}
    assert api_as(bureau_staff).post(f"{API}/programmes/", body, format="json").status_code == 201
    # and a programme between two other counties is refused
    third = SchoolFactory(county__code="330300").county
    body = {**body, "name": "别人的", "helped_county": third.pk}
    assert api_as(bureau_staff).post(f"{API}/programmes/", body, format="json").status_code == 403


# --- both bureaus manage, neither reads the other's other rows --------------------------------


def test_both_bureaus_see_the_programme_and_its_pairing(api_as, bureau_staff, other_bureau_staff, programme_pairing):
    for user in (bureau_staff, other_bureau_staff):
        client = api_as(user)
        assert ids(client.get(f"{API}/programmes/")) == {programme_pairing.programme_id}
        assert ids(client.get(f"{API}/pairings/")) == {programme_pairing.pk}
    # and the programme's row names the other county's school
    row = api_as(bureau_staff).get(f"{API}/programmes/{programme_pairing.programme_id}/").json()
    assert row["pairings"][0]["helper_school_name"] == programme_pairing.helper_school.name


def test_neither_bureau_reads_the_other_countys_other_rows(
    api_as, bureau_staff, other_bureau_staff, programme_pairing, alliance, foreign_school, member_school
):
    # given the programme pairing Y → X
    # then X's bureau does not read Y's school, nor Y's bureau X's school or alliance
    assert api_as(bureau_staff).get(f"{API}/schools/{foreign_school.pk}/").status_code == 404
    client = api_as(other_bureau_staff)
    assert client.get(f"{API}/schools/{member_school.pk}/").status_code == 404
    assert client.get(f"{API}/alliances/{alliance.pk}/").status_code == 404
    assert member_school.pk not in ids(client.get(f"{API}/schools/"))


@pytest.mark.parametrize("who", ["bureau_staff", "other_bureau_staff"])
def test_both_bureaus_draw_up_the_task_list(request, api_as, who, programme_pairing):
    user = request.getfixturevalue(who)
    response = api_as(user).post(
        f"{API}/pairing-tasks/",
        {
            "pairing": programme_pairing.pk,
            "title": "送教下乡",
            "milestone": "第一阶段：调研诊断",
            "due_date": "2025-10-31",
            "responsible_person": "王主任",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    task = PairingTask.objects.get()
    assert (task.milestone, task.responsible_person) == ("第一阶段：调研诊断", "王主任")


def test_the_principal_sees_its_pairing_and_reports_with_evidence(
    api_as, principal, other_bureau_staff, programme_pairing
):
    # given a task of the programme pairing
    task = services.pairing_task_create(
        actor=other_bureau_staff,
        pairing=programme_pairing,
        title="同课异构",
        milestone="第二阶段",
        due_date=dt.date(2025, 12, 1),
        responsible_person="李老师",
    )
    client = api_as(principal)
    # then the helped school's principal sees the pairing and the task
    assert ids(client.get(f"{API}/pairings/")) == {programme_pairing.pk}
    assert ids(client.get(f"{API}/pairing-tasks/")) == {task.pk}
    # and reports it done with its evidence
    response = client.patch(
        f"{API}/pairing-tasks/{task.pk}/",
        {"status": "done", "completed_on": "2025-11-20", "evidence": pdf()},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.status == "done" and task.evidence.name
    # but not its due date
    response = client.patch(f"{API}/pairing-tasks/{task.pk}/", {"due_date": "2026-01-01"}, format="json")
    assert response.status_code == 400


def test_the_helper_principal_sees_its_pairing_but_not_the_helped_schools_rows(
    api_as, helper_principal, programme_pairing, member_school
):
    client = api_as(helper_principal)
    assert ids(client.get(f"{API}/pairings/")) == {programme_pairing.pk}
    assert ids(client.get(f"{API}/programmes/")) == {programme_pairing.programme_id}
    assert client.get(f"{API}/schools/{member_school.pk}/").status_code == 404


# --- exchanges across the line ---------------------------------------------------------------


def log_exchange(user, teacher, host, kind=Exchange.Kind.POSTING):
    return staffing_services.exchange_create(
        actor=user,
        teacher=teacher,
        origin_school=teacher.school,
        host_schools=[host],
        kind=kind,
        start_date=dt.date(2025, 9, 1),
        end_date=dt.date(2026, 1, 20),
    )


def test_an_exchange_across_counties_is_refused_without_a_programme(other_bureau_staff, foreign_school, member_school):
    teacher = TeacherFactory(school=foreign_school)
    with pytest.raises(ValidationError) as err:
        log_exchange(other_bureau_staff, teacher, member_school)
    assert "hosts" in err.value.message_dict


def test_a_stationed_cadre_is_hosted_across_the_line_and_both_bureaus_manage_it(
    api_as, bureau_staff, other_bureau_staff, programme_pairing, foreign_school, member_school
):
    # given a cadre of county Y's helper school posted (挂职) to the helped school in county X
    teacher = TeacherFactory(school=foreign_school, subject="management")
    exchange = log_exchange(other_bureau_staff, teacher, member_school)
    # then it is recorded at the home school and belongs to the programme
    assert (exchange.origin_school, exchange.programme) == (foreign_school, programme_pairing.programme)
    # and both bureaus see it; the helped county's bureau approves it
    for user in (bureau_staff, other_bureau_staff):
        assert ids(api_as(user).get(f"{API}/exchanges/")) == {exchange.pk}
    response = api_as(bureau_staff).post(f"{API}/exchanges/{exchange.pk}/approve/")
    assert response.status_code == 200, response.content
    # while county X's bureau still does not read Y's teacher register
    assert ids(api_as(bureau_staff).get(f"{API}/teachers/")) == set()


def test_the_api_hosts_an_exchange_at_a_programme_partner(
    api_as, other_bureau_staff, programme_pairing, foreign_school, member_school
):
    teacher = TeacherFactory(school=foreign_school)
    response = api_as(other_bureau_staff).post(
        f"{API}/exchanges/",
        {
            "kind": "dispatched",
            "teacher": teacher.pk,
            "origin_school": foreign_school.pk,
            "hosts": [member_school.pk],
            "start_date": "2025-09-01",
            "end_date": "2026-01-20",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


# --- the term meeting --------------------------------------------------------------------------


@pytest.fixture
def first_term(county):
    year = SchoolYearFactory(county=county, start_year=2025)
    return TermFactory(school_year=year, number=1)


def test_a_programme_without_its_term_meeting_is_reported(
    api_as, bureau_staff, helper_principal, programme_pairing, first_term, foreign_school, member_school
):
    programme = programme_pairing.programme
    # given no term meeting: the programme is reported, by the service and the API
    assert services.programmes_missing_term_meeting(actor=bureau_staff, term=first_term) == [programme]
    response = api_as(bureau_staff).get(f"{API}/programmes/missing-term-meetings/", {"term": first_term.pk})
    assert [row["id"] for row in response.json()] == [programme.pk]
    assert services.programme_terms_missing_meeting(programme=programme, today=dt.date(2025, 12, 1)) == [first_term]
    # when the helper school holds the meeting with the helped school
    activity = staffing_services.activity_create(
        actor=helper_principal,
        host_school=foreign_school,
        schools=[member_school],
        kind=Activity.Kind.PROGRAMME_TERM_MEETING,
        programme=programme,
        date=dt.date(2025, 9, 20),
        title="学期帮扶例会",
    )
    # then it is no longer reported, and both bureaus see the meeting
    assert services.programmes_missing_term_meeting(actor=bureau_staff, term=first_term) == []
    assert services.programme_terms_missing_meeting(programme=programme, today=dt.date(2025, 12, 1)) == []
    assert ids(api_as(bureau_staff).get(f"{API}/activities/")) == {activity.pk}


def test_a_term_meeting_names_its_programme(helper_principal, foreign_school):
    with pytest.raises(ValidationError) as err:
        staffing_services.activity_create(
            actor=helper_principal,
            host_school=foreign_school,
            kind=Activity.Kind.PROGRAMME_TERM_MEETING,
            date=dt.date(2025, 9, 20),
            title="例会",
        )
    assert "programme" in err.value.message_dict


def test_the_admin_shows_the_terms_without_a_term_meeting(client, bureau_staff, programme_pairing, first_term):
    # given a programme without any term meeting, and a term of the helped county that has begun
    client.force_login(bureau_staff)
    # when the helped county's bureau opens the programme in the admin
    response = client.get(f"/admin/alliance/programme/{programme_pairing.programme_id}/change/")
    # then the term is named as missing its meeting
    assert response.status_code == 200
    assert str(first_term) in response.content.decode()
