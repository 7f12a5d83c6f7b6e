"""The portal's programme pages (seed 002): both counties' bureaus and the participating
schools' principals see a programme, its pairings, the task timetable and the term meetings
held or missing per term; a participating principal reports on its own tasks there, through
the alliance's service (``pairing_task_update``).

County Y (``other_county``) helps county X: ``foreign_school`` (Y) helps ``member_school``
(X, the principal's school A); school B's principal takes no part."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from alliance import services
from alliance.access import Role
from alliance.models import PairingTask
from staffing.models import Activity

from .factories import SchoolFactory, SchoolYearFactory, TermFactory, UserFactory

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def terms(county):
    year = SchoolYearFactory(county=county, start_year=2025)
    autumn = TermFactory(school_year=year, number=1)
    spring = TermFactory(school_year=year, number=2, start_date=dt.date(2026, 2, 20), end_date=dt.date(2026, 7, 10))
    return autumn, spring


@pytest.fixture
def tasks(programme_pairing, other_bureau_staff):
    make = services.pairing_task_create
    return [
        make(actor=other_bureau_staff, pairing=programme_pairing, title="诊断调研", milestone="第一阶段：诊断",
             due_date=dt.date(2025, 10, 15), responsible_person="李校长", status="done",
             completed_on=dt.date(2025, 10, 10)),
        make(actor=other_bureau_staff, pairing=programme_pairing, title="联合教研", milestone="第二阶段：提升",
             due_date=dt.date(2026, 1, 10), responsible_person="王主任"),
        make(actor=other_bureau_staff, pairing=programme_pairing, title="成果展示", milestone="第二阶段：提升",
             due_date=dt.date(2026, 6, 30), responsible_person="王主任"),
    ]  # fmt: skip


@pytest.fixture
def meeting(programme, foreign_school, member_school, other_bureau_staff):
    from staffing import services as staffing_services

    return staffing_services.activity_create(
        actor=other_bureau_staff,
        host_school=foreign_school,
        schools=[foreign_school, member_school],
        kind=Activity.Kind.PROGRAMME_TERM_MEETING,
        programme=programme,
        date=dt.date(2025, 11, 5),
        title="秋季帮扶例会",
    )


@pytest.fixture
def helper_principal(other_county, foreign_school):
    return UserFactory(username="helper", county=other_county, school=foreign_school, role=Role.MEMBER_PRINCIPAL)


@pytest.fixture
def today(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    return TODAY


def page(client, user, programme):
    client.force_login(user)
    return client.get(reverse("portal:programme", args=[programme.pk]), HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("who", ["bureau_staff", "other_bureau_staff", "principal", "helper_principal"])
def test_both_bureaus_and_the_participating_principals_see_the_programme(
    request, client, who, programme, terms, tasks, meeting, today
):
    # when a bureau of either county, or a principal of either paired school, opens the programme
    response = page(client, request.getfixturevalue(who), programme)
    # then it shows the pairing, the timetable by milestone with dates, persons and status,
    # and the autumn term's meeting held, the spring term's missing
    assert response.status_code == 200
    body = response.content.decode()
    assert "邻县小学 → 东山小学" in body
    for text in ("第一阶段：诊断", "第二阶段：提升", "诊断调研", "李校长", "王主任"):
        assert text in body
    assert body.index("第一阶段：诊断") < body.index("第二阶段：提升")
    autumn, spring = terms
    held = response.context["terms"]
    assert [(t["term"], bool(t["held"])) for t in held] == [(autumn, True), (spring, False)]
    assert "秋季帮扶例会" in body
    assert response.context["missing_count"] == 1
    # the January task is still open after its date: marked late
    late = [t.title for m in response.context["milestones"] for t in m.tasks if t.is_late]
    assert late == ["联合教研"]


def test_a_principal_of_neither_school_does_not_see_the_programme(client, other_school_principal, programme, tasks):
    assert page(client, other_school_principal, programme).status_code == 404
    client.force_login(other_school_principal)
    listing = client.get(reverse("portal:programmes"))
    assert listing.status_code == 200 and programme.name not in listing.content.decode()


def test_a_third_countys_bureau_does_not_see_the_programme(client, programme, tasks):
    third = SchoolFactory(code="Z001").county
    stranger = UserFactory(username="bureau_z", county=third, role=Role.BUREAU)
    assert page(client, stranger, programme).status_code == 404


def test_the_homes_link_the_programmes(client, principal, bureau_staff, other_school_principal, programme, tasks):
    client.force_login(principal)
    assert reverse("portal:programme", args=[programme.pk]) in client.get("/").content.decode()
    client.force_login(bureau_staff)
    assert reverse("portal:programmes") in client.get("/").content.decode()
    # and a user without a programme sees no link
    client.force_login(other_school_principal)
    assert reverse("portal:programmes") not in client.get("/").content.decode()
    assert "/programmes/" not in client.get("/").content.decode()


def pdf(name="evidence.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def test_a_participating_principal_reports_on_its_task_with_evidence(
    client, helper_principal, bureau_staff, programme, tasks, today, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    task = tasks[1]
    client.force_login(helper_principal)
    # given the programme page offers the principal a progress form for its open tasks
    response = client.get(reverse("portal:programme", args=[programme.pk]))
    assert f'action="{reverse("portal:programme-task", args=[programme.pk, task.pk])}"' in response.content.decode()
    # when it marks the task done with a date, a note and the evidence
    url = reverse("portal:programme-task", args=[programme.pk, task.pk])
    prefix = f"t{task.pk}"
    response = client.post(
        url,
        {
            f"{prefix}-status": "done",
            f"{prefix}-completed_on": "2026-01-08",
            f"{prefix}-progress_notes": "两校联合教研三次",
            f"{prefix}-evidence": pdf(),
        },
    )
    # then it is saved through the service, and the page shows it with the evidence's link
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_on, task.progress_notes) == ("done", dt.date(2026, 1, 8), "两校联合教研三次")
    assert task.evidence.name.endswith(".pdf")
    shown = client.get(response["Location"]).content.decode()
    assert task.evidence.url in shown
    # and the helped county's bureau, a reader of the programme's rows, opens the evidence
    client.force_login(bureau_staff)
    assert client.get(task.evidence.url).status_code == 200


def test_the_service_refusal_lands_beside_the_field(client, helper_principal, programme, tasks, today):
    task = tasks[1]
    client.force_login(helper_principal)
    url = reverse("portal:programme-task", args=[programme.pk, task.pk])
    # when the task is marked done without its completion date
    response = client.post(url, {f"t{task.pk}-status": "done"}, HTTP_ACCEPT_LANGUAGE="en")
    # then the page comes back with the model's message beside the date, nothing written
    assert response.status_code == 400
    assert "completed_on" in task_form(response, task).errors
    task.refresh_from_db()
    assert task.status == PairingTask.Status.PLANNED


def task_form(response, task):
    return next(t.progress_form for m in response.context["milestones"] for t in m.tasks if t.pk == task.pk)


def test_a_bad_evidence_file_is_refused(client, helper_principal, programme, tasks, today):
    task = tasks[1]
    client.force_login(helper_principal)
    url = reverse("portal:programme-task", args=[programme.pk, task.pk])
    bad = SimpleUploadedFile("evidence.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(url, {f"t{task.pk}-status": "in_progress", f"t{task.pk}-evidence": bad})
    assert response.status_code == 400
    assert "evidence" in task_form(response, task).errors
    task.refresh_from_db()
    assert (task.status, task.evidence.name) == ("planned", "")


def test_the_principal_may_not_change_the_bureaus_fields_or_others_tasks(
    client, principal, other_school_principal, lead_principal, bureau_staff, programme, tasks
):
    task = tasks[1]
    url = reverse("portal:programme-task", args=[programme.pk, task.pk])
    data = {f"t{task.pk}-status": "in_progress"}
    # a principal of neither school, and the lead school of the helped school's alliance: not found
    for user in (other_school_principal, lead_principal):
        client.force_login(user)
        assert client.post(url, data).status_code == 404
    # the bureau keeps its task lists in the admin: not a page for it
    client.force_login(bureau_staff)
    assert client.post(url, data).status_code == 403
    # the helped school's own principal may report
    client.force_login(principal)
    assert client.post(url, data).status_code == 302
    task.refresh_from_db()
    assert task.status == "in_progress"
    # a bureau's form field posted by the school is ignored (the form has only the progress fields)
    client.post(url, {**data, f"t{task.pk}-due_date": "2030-01-01", f"t{task.pk}-responsible_person": "某人"})
    task.refresh_from_db()
    assert (task.due_date, task.responsible_person) == (dt.date(2026, 1, 10), "王主任")


def test_a_dropped_task_has_no_form(client, helper_principal, other_bureau_staff, programme, tasks):
    task = tasks[2]
    services.pairing_task_update(actor=other_bureau_staff, task=task, status="dropped")
    client.force_login(helper_principal)
    response = client.get(reverse("portal:programme", args=[programme.pk]))
    assert not getattr(task_form_or_none(response, task), "fields", None)
    url = reverse("portal:programme-task", args=[programme.pk, task.pk])
    assert client.post(url, {f"t{task.pk}-status": "in_progress"}).status_code == 404


def task_form_or_none(response, task):
    return next(
        (getattr(t, "progress_form", None) for m in response.context["milestones"] for t in m.tasks if t.pk == task.pk),
        None,
    )


def test_the_programme_page_speaks_chinese(client, principal, programme, terms, tasks, today):
    client.force_login(principal)
    body = client.get(reverse("portal:programme", args=[programme.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = body.content.decode()
    for words in ("任务时间表", "学期例会", "未召开", "责任人", "共 3 项任务，已完成 1 项。", "佐证材料"):
        assert words in text
