"""What no trigger sees is recorded too: sign-ins (successful or not), exports, and a refused
look at another school's row (a 404)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditRecord
from evaluation import services

from .factories_evaluation import enter
from .factories_staffing import TeacherFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"  # tests/factories.UserFactory's


def test_a_successful_sign_in_is_recorded(bureau_staff):
    client = Client(REMOTE_ADDR="10.1.2.3")
    response = client.post(reverse("admin:login"), {"username": "bureau", "password": PASSWORD})
    assert response.status_code == 302
    record = AuditRecord.objects.get(action="login")
    assert (record.user_id, record.username, record.role) == (bureau_staff.pk, "bureau", "bureau_staff")
    assert record.client_addr == "10.1.2.3"
    assert record.county_id == bureau_staff.county_id
    # the sign-in's own update of last_login is not a change of the user
    assert not AuditRecord.objects.filter(model="alliance.user", action="update").exists()


def test_a_failed_sign_in_is_recorded_without_the_password(bureau_staff):
    client = Client(REMOTE_ADDR="10.1.2.4")
    response = client.post(reverse("admin:login"), {"username": "bureau", "password": "wrong-password"})
    assert response.status_code == 200
    record = AuditRecord.objects.get(action="login_failed")
    assert record.after == {"username": "bureau"}
    assert record.client_addr == "10.1.2.4"
    assert record.user_id is None
    assert "wrong-password" not in str(AuditRecord.objects.values())


def test_an_api_token_request_with_a_wrong_password_is_recorded(bureau_staff, api):
    response = api.post("/api/auth/token/", {"username": "bureau", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert AuditRecord.objects.filter(action="login_failed", after__username="bureau").exists()


@pytest.fixture
def evaluated(bureau_staff, year_period, simple_rubric, eval_schools, open_year):
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    services.evaluation_run()
    return year_period


def test_the_admins_award_sheet_download_is_recorded(evaluated, auditor):
    client = Client()
    client.force_login(auditor)
    response = client.post(
        reverse("admin:evaluation_evaluationperiod_changelist"),
        {"action": "export_awards", "_selected_action": [evaluated.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    record = AuditRecord.objects.get(action="export")
    assert (record.username, record.role) == ("auditor", "auditor")
    assert (record.model, record.object_id) == ("evaluation.evaluationperiod", str(evaluated.pk))


def test_the_export_command_is_recorded(evaluated, bureau_staff, tmp_path):
    out = tmp_path / "awards.csv"
    call_command("export_awards", "--year", "2025", "--output", str(out), "--user", bureau_staff.username)
    record = AuditRecord.objects.get(action="export")
    assert record.object_id == str(evaluated.pk)
    assert record.source.startswith("manage.py export_awards")
    assert record.after == {"file": str(out)}


def test_another_schools_row_refused_in_the_admin_is_recorded(principal, other_school):
    # given a teacher of another school
    teacher = TeacherFactory(school=other_school)
    client = Client()
    client.force_login(principal)

    # when the principal opens its change page
    response = client.get(reverse("admin:staffing_teacher_change", args=[teacher.pk]))

    # then it is "not found", and the trail says who asked for what
    assert response.status_code == 404
    record = AuditRecord.objects.get(action="refused")
    assert (record.username, record.model, record.object_id) == ("principal", "staffing.teacher", str(teacher.pk))
    assert record.source == f"GET /admin/staffing/teacher/{teacher.pk}/change/"


def test_another_schools_row_refused_by_the_api_is_recorded(principal, other_school, api):
    teacher = TeacherFactory(school=other_school)
    api.force_authenticate(principal)
    response = api.get(f"/api/v1/teachers/{teacher.pk}/")
    assert response.status_code == 404
    record = AuditRecord.objects.get(action="refused")
    assert (record.username, record.model, record.object_id) == ("principal", "staffing.teacher", str(teacher.pk))


def test_an_anonymous_404_is_not_an_audit_event(other_school):
    Client().get("/admin/staffing/teacher/999999/change/")
    assert not AuditRecord.objects.filter(action="refused").exists()
