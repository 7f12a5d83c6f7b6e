"""The auditor's package and the PDFs from the reports page: the package is queued as the
owner's background file (the checkpoint decides who may), downloaded as a ZIP that
``verify_package`` passes, and the PDF links are shown to the roles that may have them."""

from __future__ import annotations

import hashlib
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from alliance import access
from audit.models import AuditRecord
from reports.models import ReportFile

from .fixtures_portal import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(published):
    return published.school_year


def test_an_auditor_queues_the_package_and_downloads_a_zip_that_verifies(
    auditor, bureau_staff, year, settings, tmp_path, django_capture_on_commit_callbacks, capsys
):
    settings.MEDIA_ROOT = tmp_path
    client = signed_in(auditor)
    # given the reports page offers the auditor the package
    page = client.get("/reports/", {"school_year": year.pk}).content.decode()
    assert 'id="document-package"' in page and 'action="/reports/package/"' in page
    # when the auditor queues it (the task runs eagerly once the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/package/", {"school_year": year.pk})
    assert response.status_code == 302
    report_file = ReportFile.objects.get()
    assert response["Location"].endswith(f"#file-{report_file.pk}")
    # then the file is ready, a ZIP of the auditor's, and the page and its status say so
    assert report_file.report == "audit_package" and report_file.format == "zip"
    assert report_file.owner == auditor and report_file.status == ReportFile.Status.DONE, report_file.error
    assert report_file.name.endswith(".zip") and report_file.total == report_file.rows > 0
    status = client.get(f"/reports/files/{report_file.pk}/status/").json()
    assert status["progress"] == 100 and status["url"] == f"/reports/files/{report_file.pk}/"
    assert f'id="file-{report_file.pk}"' in client.get("/reports/").content.decode()
    download = client.get(status["url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    body = b"".join(download.streaming_content)
    assert body[:2] == b"PK"
    # and verify_package passes on what was downloaded, finding the package's record in the trail
    path = tmp_path / "downloaded.zip"
    path.write_bytes(body)
    call_command("verify_package", str(path))  # a CommandError if any file does not verify
    with zipfile.ZipFile(path) as archive:
        digest = hashlib.sha256(archive.read("manifest.json")).hexdigest()
        assert "ledger.csv" in archive.namelist() and "county_summary.pdf" in archive.namelist()
    assert digest in capsys.readouterr().out
    assert AuditRecord.objects.filter(action="export", after__manifest_sha256=digest).exists()
    assert AuditRecord.objects.filter(
        action="export", model="reports.reportfile", object_id=str(report_file.pk)
    ).exists()
    # and another user of the same county, even bureau staff, finds no such file
    other = signed_in(bureau_staff)
    assert other.get(status["url"]).status_code == 404
    assert other.get(f"/reports/files/{report_file.pk}/status/").status_code == 404


def test_a_principal_has_no_package_button_and_cannot_queue_one(principal, year, django_capture_on_commit_callbacks):
    client = signed_in(principal)
    page = client.get("/reports/", {"school_year": year.pk}).content.decode()
    assert 'id="document-package"' not in page and "/reports/package/" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/package/", {"school_year": year.pk})
    assert response.status_code in (403, 404)
    assert not ReportFile.objects.exists()


def test_another_countys_auditor_gets_404_queueing_the_package(other_bureau_staff, year):
    response = signed_in(other_bureau_staff).post("/reports/package/", {"school_year": year.pk})
    assert response.status_code == 404
    assert not ReportFile.objects.exists()


def test_the_package_is_not_served_once_its_owner_lost_the_role(
    auditor, year, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = signed_in(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reports/package/", {"school_year": year.pk})
    report_file = ReportFile.objects.get(status=ReportFile.Status.DONE)
    # when the auditor becomes a principal without a school
    auditor.groups.set([Group.objects.get(name=access.Role.MEMBER_PRINCIPAL.value)])
    assert signed_in(auditor).get(f"/reports/files/{report_file.pk}/").status_code in (403, 404)


def test_the_pdf_links_appear_for_the_roles_that_may_have_them(auditor, bureau_staff, principal, lead_principal, year):
    notices = f"/reports/pdf/{year.pk}/award-notices.pdf"
    summary = f"/reports/pdf/{year.pk}/summary.pdf"
    # county readers: the whole county's notices and the summary
    for reader in (auditor, bureau_staff):
        page = signed_in(reader).get("/reports/", {"school_year": year.pk}).content.decode()
        assert f'href="{notices}"' in page and f'href="{summary}"' in page
    # a principal: its own school's notice only, no summary, no package
    for head in (principal, lead_principal):
        page = signed_in(head).get("/reports/", {"school_year": year.pk}).content.decode()
        assert f'href="{notices}?school={head.school_id}"' in page
        assert summary not in page and 'id="document-package"' not in page
        # and the link it is shown gives it its notice
        assert signed_in(head).get(f"{notices}?school={head.school_id}").status_code == 200


ROLES = ("anonymous", "principal", "other_school_principal", "lead_principal", "assessor", "bureau_staff", "auditor")
# queueing the package (a POST): the county's readers only; the task is not run here
QUEUE = (302, 403, 403, 403, 403, 302, 302)


@pytest.mark.parametrize(("role", "status"), list(zip(ROLES, QUEUE, strict=True)))
def test_who_may_queue_the_package(request, year, role, status):
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    response = client.post("/reports/package/", {"school_year": year.pk})
    assert response.status_code == status
    queued = ReportFile.objects.filter(report="audit_package").exists()
    assert queued == (status == 302 and role != "anonymous")
    if role == "anonymous":
        assert response["Location"].startswith("/login/?next=")


def test_no_award_notice_link_before_the_year_is_published(auditor, principal, proposed):
    # given the year's evaluation under public notice, not yet published
    year = proposed.school_year
    notices = f"/reports/pdf/{year.pk}/award-notices.pdf"
    # then the page links to no notice (the link would lead to a 404), but to the summary
    page = signed_in(auditor).get("/reports/", {"school_year": year.pk}).content.decode()
    assert notices not in page and f"/reports/pdf/{year.pk}/summary.pdf" in page
    assert notices not in signed_in(principal).get("/reports/", {"school_year": year.pk}).content.decode()
    # and the notice itself is indeed not there yet
    assert signed_in(auditor).get(notices).status_code == 404
