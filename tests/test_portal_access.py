"""Who may open which portal page: a table of (page, role) → status for every page and role.

Anonymous visitors are sent to the login; a signed-in user on a page that is not for its role
gets 403; a row out of the user's reach (another school's exchange or result) is a 404.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from alliance.models import Pairing, PairingTask, Programme
from evaluation.models import PersonResult, SchoolResult
from reports.models import ReportFile

from .factories import PairingFactory, PairingTaskFactory
from .factories_staffing import (
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "principal", "other_school_principal", "lead_principal", "assessor", "bureau_staff", "auditor")

# page → status per role, in the order of ROLES
TABLE = {
    # the auditors' home is the reports page
    "/": (302, 200, 200, 200, 200, 200, 302),
    "/exchanges/": (302, 200, 200, 200, 403, 403, 403),
    "/exchanges/{exchange}/": (302, 200, 404, 404, 403, 403, 403),
    "/spending/": (302, 200, 200, 200, 403, 403, 403),
    "/tasks/": (302, 200, 200, 200, 403, 403, 403),
    # the pairing lead school → school A: both principals report on it, school B does not see it
    "/tasks/{task}/": (302, 302, 404, 302, 403, 403, 403),
    "/meetings/": (302, 200, 200, 200, 403, 403, 403),
    # a meeting of school A's teacher mentored from the lead school
    "/meetings/{meeting}/": (302, 200, 404, 200, 403, 403, 403),
    "/activities/": (302, 200, 200, 200, 403, 403, 403),
    # an activity school A organised: its own principal's to edit
    "/activities/{activity}/": (302, 200, 404, 404, 403, 403, 403),
    "/result/": (302, 302, 302, 302, 403, 403, 403),
    # school A's result: the lead school reads its member's rows, school B does not
    "/result/{result}/": (302, 200, 404, 200, 403, 403, 403),
    # principals' and teachers' results (seed 003): the list of what each reads; an assessor reads none
    "/people/": (302, 200, 200, 200, 403, 200, 200),
    # school A's principal's result: its own principal's; not the lead's (it reads its alliance's
    # teachers', not their principals'), nor school B's
    "/people/{principal_result}/": (302, 200, 404, 404, 403, 200, 200),
    # a teacher of school A: its school's principal and its alliance's lead read it
    "/people/{teacher_result}/": (302, 200, 404, 200, 403, 200, 200),
    "/assess/{period}/": (302, 403, 403, 403, 200, 403, 403),
    "/alliance/": (302, 403, 403, 200, 403, 403, 403),
    # the first alliance's plan: its lead principal's only
    "/plan/{alliance}/": (302, 403, 403, 200, 403, 403, 403),
    "/overview/": (302, 403, 403, 403, 403, 200, 200),
    "/reports/": (302, 200, 200, 200, 403, 200, 200),
    # school A's ledger: its own principal's (the lead school's principal reads A, but exports its own school only)
    "/reports/ledger.csv?school_year={year}&school={school_a}": (302, 200, 404, 404, 403, 200, 200),
    "/reports/ledger.xlsx?school_year={year}": (302, 200, 200, 200, 403, 200, 200),
    "/reports/audit.csv?school_year={year}": (302, 403, 403, 403, 403, 200, 200),
    "/reports/award_sheet.csv?school_year={year}": (302, 403, 403, 403, 403, 200, 200),
    # the auditor's package is queued by a POST only (who may: tests/test_reports_package_page.py)
    "/reports/package/": (302, 405, 405, 405, 403, 405, 405),
    # the auditor's finished file: its owner's only
    "/reports/files/{file}/": (302, 404, 404, 404, 403, 404, 200),
    "/reports/files/{file}/status/": (302, 404, 404, 404, 403, 404, 200),
    # Excel in: the bureau's (the checkpoint's ``require_import``); auditors change nothing
    "/imports/": (302, 403, 403, 403, 403, 200, 403),
    "/imports/template/schools.xlsx": (302, 403, 403, 403, 403, 200, 403),
    # cross-county programmes: county Y's school helps school A; school B takes no part, the lead
    # school reads its member's rows; both counties' readers see the programme
    "/programmes/": (302, 200, 200, 200, 403, 200, 200),
    "/programmes/{programme}/": (302, 200, 404, 200, 403, 200, 200),
    # a task's progress: school A's principal reports (the GET leads to the programme's page)
    "/programmes/{programme}/tasks/{programme_task}/": (302, 302, 404, 404, 403, 403, 403),
}

CASES = [(page, role, status) for page, statuses in TABLE.items() for role, status in zip(ROLES, statuses, strict=True)]


@pytest.fixture
def rows(
    principal,
    teacher,
    lead_school,
    proposed,
    member_school,
    alliance,
    auditor,
    settings,
    tmp_path,
    foreign_school,
    people_proposed,
):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal)
    programme = Programme.objects.create(
        name="邻县帮扶示范县", helper_county=foreign_school.county, helped_county=member_school.county,
        start_date=proposed.school_year.start_date,
    )  # fmt: skip
    pairing = Pairing.objects.create(
        programme=programme, helper_school=foreign_school, helped_school=member_school, start_date=programme.start_date
    )
    task = PairingTask.objects.create(
        pairing=pairing, title="联合教研", due_date=programme.start_date, responsible_person="王主任"
    )
    result = SchoolResult.objects.get(period=proposed, school=member_school)
    settings.MEDIA_ROOT = tmp_path
    report_file = ReportFile.objects.create(
        owner=auditor, report="ledger", format="csv", status=ReportFile.Status.DONE, name="ledger.csv",
        params={"county_id": proposed.county_id, "school_year_id": proposed.school_year_id},
    )  # fmt: skip
    report_file.file.save("ledger.csv", ContentFile(b"\xef\xbb\xbf"))
    pairing = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    pair = MentorPairFactory(mentor=TeacherFactory(school=lead_school), mentee=teacher)
    return {
        "exchange": exchange.pk,
        "result": result.pk,
        "period": proposed.pk,
        "alliance": alliance.pk,
        "year": proposed.school_year_id,
        "school_a": member_school.pk,
        "file": report_file.pk,
        "task": PairingTaskFactory(pairing=pairing).pk,
        "meeting": MentorMeetingFactory(pair=pair).pk,
        "activity": ActivityFactory(host_school=member_school).pk,
        "programme": programme.pk,
        "programme_task": task.pk,
        "principal_result": PersonResult.objects.get(period=people_proposed["principals"][1], school=member_school).pk,
        "teacher_result": PersonResult.objects.get(teacher=people_proposed["teachers"]["a"]).pk,
    }


@pytest.mark.parametrize(("page", "role", "status"), CASES, ids=[f"{p} {r}" for p, r, _s in CASES])
def test_the_portal_access_table(request, rows, page, role, status):
    # given the role's client (anonymous: none signed in)
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    # (the grid is for open periods: put the period back to open for that page)
    if page.startswith("/assess/"):
        from evaluation.models import EvaluationPeriod

        EvaluationPeriod.objects.filter(pk=rows["period"]).update(status=EvaluationPeriod.Status.OPEN)

    # when the page is opened
    response = client.get(page.format(**rows))

    # then the status is the table's; anonymous visitors are sent to the login
    assert response.status_code == status, response.content[:500]
    if role == "anonymous":
        assert response["Location"].startswith("/login/?next=")
