"""Who reaches which report: auditors and bureau staff every report of their county, principals
their own school's only (the parameters forced to it), another county or school a 404 that the
trail records; a long export runs as a task and its file is its owner's only."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group

from alliance import access
from audit.models import AuditRecord
from reports import registry
from reports.models import ReportFile

from .factories import SchoolYearFactory, UserFactory
from .fixtures_portal import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(published):
    return published.school_year


def test_auditors_land_on_the_reports_page_listing_every_report(auditor, year):
    response = signed_in(auditor).get("/", follow=True)
    assert response.redirect_chain == [("/reports/", 302)]
    page = response.content.decode()
    for code in registry.REPORTS:
        if code in access.COUNTY_REPORTS:
            assert f'id="report-{code}"' in page
    assert f'<option value="{year.pk}" selected' in page


def test_principals_see_only_the_school_reports(principal, year):
    page = signed_in(principal).get("/reports/").content.decode()
    assert 'id="report-ledger"' in page and 'id="report-results"' in page
    assert 'id="report-audit"' not in page and 'id="report-award_sheet"' not in page
    assert 'name="school"' not in page.split('id="report-filters"')[1].split("</form>")[0]


def test_a_principal_cannot_export_another_schools_data(principal, other_school, member_school, year):
    client = signed_in(principal)
    # asking for school B's rows is a 404, recorded in the trail
    before = AuditRecord.objects.filter(action="refused").count()
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/reports/ledger.{fmt}?school_year={year.pk}&school={other_school.pk}")
        assert response.status_code == 404
    assert AuditRecord.objects.filter(action="refused", object_id="ledger").count() == before + 2
    # every school (none named) is its own school's rows only
    response = client.get(f"/reports/results.csv?school_year={year.pk}")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {r[1] for r in rows[1:]} == {member_school.code}
    # and the county's reports are not its role's
    assert client.get(f"/reports/audit.csv?school_year={year.pk}").status_code == 403
    assert client.get(f"/reports/award_sheet.csv?school_year={year.pk}").status_code == 403


def test_an_auditor_of_another_county_gets_404(other_county, year, member_school):
    stranger = UserFactory(username="auditor_y", county=other_county, role=access.Role.AUDITOR)
    SchoolYearFactory(county=other_county, start_year=2025)
    client = signed_in(stranger)
    assert client.get(f"/reports/ledger.csv?school_year={year.pk}").status_code == 404
    assert client.get(f"/reports/ledger.csv?school_year={year.pk}&county={other_county.pk}").status_code == 404
    assert client.get(f"/reports/?school_year={year.pk}").status_code == 404
    response = client.post("/reports/ledger/queue/", {"school_year": year.pk, "format": "csv"})
    assert response.status_code == 404 and not ReportFile.objects.exists()


def test_an_assessor_has_no_reports_page(assessor, year):
    assert signed_in(assessor).get("/reports/").status_code == 403


def test_the_export_task_writes_a_file_only_its_owner_downloads(
    auditor, bureau_staff, year, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = signed_in(auditor)
    # when the auditor queues the ledger as XLSX (the task runs eagerly once the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/ledger/queue/", {"school_year": year.pk, "format": "xlsx"})
    assert response.status_code == 302
    report_file = ReportFile.objects.get()
    # then the file is ready, with its rows counted, and the status says so
    assert report_file.status == ReportFile.Status.DONE and report_file.rows == report_file.total > 0
    status = client.get(f"/reports/files/{report_file.pk}/status/").json()
    assert status["progress"] == 100 and status["url"] == f"/reports/files/{report_file.pk}/"
    assert f'id="file-{report_file.pk}"' in client.get("/reports/").content.decode()
    download = client.get(status["url"])
    assert download.status_code == 200
    assert AuditRecord.objects.filter(
        action="export", model="reports.reportfile", object_id=str(report_file.pk)
    ).exists()
    assert b"".join(download.streaming_content)[:2] == b"PK"
    assert str(tmp_path) not in download.get("Location", "")
    # and another user of the same county, even bureau staff, finds no such file
    other = signed_in(bureau_staff)
    assert other.get(status["url"]).status_code == 404
    assert other.get(f"/reports/files/{report_file.pk}/status/").status_code == 404
    assert f'id="file-{report_file.pk}"' not in other.get("/reports/").content.decode()


def test_a_file_is_not_served_once_its_owner_lost_the_role(auditor, year, settings, tmp_path,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(auditor).post("/reports/balances/queue/", {"school_year": year.pk, "format": "csv"})
    report_file = ReportFile.objects.get()
    # when the auditor becomes a principal without a school
    auditor.groups.set([Group.objects.get(name=access.Role.MEMBER_PRINCIPAL.value)])
    assert signed_in(auditor).get(f"/reports/files/{report_file.pk}/").status_code in (403, 404)
