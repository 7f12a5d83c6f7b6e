"""The trail records every insert, update and delete of the tracked tables, with the values
before and after, whichever way the write came: the ORM, a bulk ``queryset.update``, the
admin's bulk delete, raw SQL, COPY. Recording is part of the write: no record, no change."""

from __future__ import annotations

import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from alliance.models import PairingTask, School
from audit.models import AuditRecord
from staffing.models import Teacher

from .factories import PairingTaskFactory, SchoolFactory
from .fixtures_audit import records_of

pytestmark = pytest.mark.django_db


def test_a_queryset_update_records_each_row(county):
    # given three schools
    schools = SchoolFactory.create_batch(3, county=county, active=True)

    # when one bulk UPDATE deactivates them
    School.objects.filter(pk__in=[s.pk for s in schools]).update(active=False)

    # then each row has its record, before and after
    for school in schools:
        update = records_of("alliance.school", school.pk, "update").get()
        assert (update.before["active"], update.after["active"]) == (True, False)


def test_the_admins_bulk_delete_is_recorded_as_the_user_who_did_it(bureau_staff, alliance, lead_school, member_school):
    # given two pairing tasks
    from .factories import PairingFactory

    pairing = PairingFactory(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    tasks = PairingTaskFactory.create_batch(2, pairing=pairing)
    client = Client()
    client.force_login(bureau_staff)

    # when bureau staff delete both with the admin's bulk action
    response = client.post(
        reverse("admin:alliance_pairingtask_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in tasks], "post": "yes"},
    )

    # then both deletions are recorded with who, role, county and where from
    assert response.status_code == 302
    assert not PairingTask.objects.filter(pk__in=[t.pk for t in tasks]).exists()
    for task in tasks:
        record = records_of("alliance.pairingtask", task.pk, "delete").get()
        assert record.before["title"] == task.title
        assert (record.user_id, record.username, record.role) == (
            bureau_staff.pk,
            bureau_staff.username,
            "bureau_staff",
        )
        assert record.county_id == bureau_staff.county_id
        assert record.client_addr == "127.0.0.1"
        assert record.source.startswith("POST /admin/alliance/pairingtask/")


def test_an_api_write_is_recorded_as_the_token_user(api, bureau_staff, county):
    # given a school, and bureau staff signed in by token (DRF authenticates in the view)
    school = SchoolFactory(county=county)
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=bureau_staff)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    # when they rename it through the API
    response = api.patch(f"/api/v1/schools/{school.pk}/", {"name": "新校名"}, format="json")

    # then the update is theirs
    assert response.status_code == 200, response.content
    record = records_of("alliance.school", school.pk, "update").get()
    assert record.username == bureau_staff.username
    assert record.after["name"] == "新校名"
    assert record.source == f"PATCH /api/v1/schools/{school.pk}/"


def test_raw_sql_and_copy_are_recorded(county, member_school):
    # when a teacher is inserted by raw SQL and another by COPY
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO staffing_teacher (school_id, name, gender, subject, title, years_of_service, is_key_teacher,"
            " active) VALUES (%s, '孙老师', '', 'math', '', 3, false, true) RETURNING id",
            [member_school.pk],
        )
        raw_id = cursor.fetchone()[0]
        data = io.StringIO(f"{member_school.pk}\t周老师\t\tchinese\t\t5\tf\tt\n")
        cursor.cursor.copy_expert(
            "COPY staffing_teacher (school_id, name, gender, subject, title, years_of_service, is_key_teacher, active)"
            " FROM STDIN",
            data,
        )
    copied = Teacher.objects.get(name="周老师")

    # then both inserts are in the trail, with no portal user but the database session's name
    for pk, name in ((raw_id, "孙老师"), (copied.pk, "周老师")):
        record = records_of("staffing.teacher", pk, "insert").get()
        assert record.after["name"] == name
        assert record.user_id is None
        assert record.db_user.startswith("postgres")
        assert record.county_id == county.pk  # the row's school's county


def test_a_save_that_changes_nothing_is_not_recorded(county):
    school = SchoolFactory(county=county)
    school.save()
    assert not records_of("alliance.school", school.pk, "update").exists()


def test_a_password_is_never_copied_only_that_it_changed(bureau_staff):
    bureau_staff.set_password("another-long-password-1")
    bureau_staff.save()
    record = records_of("alliance.user", bureau_staff.pk, "update").latest("id")
    assert record.before["password"] == "[redacted]"
    assert record.after["password"] == "[redacted, changed]"
    assert all("md5$" not in str(r.after) for r in AuditRecord.objects.filter(model="alliance.user"))


def test_a_role_given_to_a_user_is_recorded(county):
    from alliance.access import Role

    from .factories import UserFactory

    user = UserFactory(county=county, role=Role.AUDITOR)
    link = AuditRecord.objects.filter(model="alliance.user_groups", action="insert", after__user_id=user.pk).get()
    assert link.after["group_id"]


def test_a_change_whose_record_cannot_be_written_rolls_back(county):
    # given a trail that refuses every new record
    school = SchoolFactory(county=county, name="旧名")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditrecord ADD CONSTRAINT audit_broken CHECK (id < 0) NOT VALID")

    # when the school is renamed
    with pytest.raises(DatabaseError, match="audit_broken"), transaction.atomic():
        School.objects.filter(pk=school.pk).update(name="新名")

    # then the rename did not happen
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditrecord DROP CONSTRAINT audit_broken")
    school.refresh_from_db()
    assert school.name == "旧名"


@pytest.mark.parametrize("statement", ["UPDATE audit_auditrecord SET username = 'x'", "DELETE FROM audit_auditrecord"])
def test_the_database_refuses_to_change_or_delete_a_record(county, statement):
    SchoolFactory(county=county)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_the_database_refuses_to_change_or_delete_a_seal(county):
    from audit import chain

    SchoolFactory(county=county)
    chain.seal()
    for statement in ("UPDATE audit_auditseal SET hash = 'x'", "DELETE FROM audit_auditseal"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


def test_a_command_and_a_task_name_themselves(db):
    from django.core.management import call_command

    from evaluation.tasks import nightly_evaluation

    # when the evaluation runs from the shell and from Celery
    call_command("evaluate")
    nightly_evaluation.delay()

    # then each run's records say which
    sources = [
        r.source for r in AuditRecord.objects.filter(model="evaluation.evaluationrun", action="insert").order_by("id")
    ]
    assert sources[0] == "manage.py evaluate"
    assert sources[1].startswith("task evaluation.nightly_evaluation")
    # and the context does not outlive them
    school = SchoolFactory()
    assert records_of("alliance.school", school.pk, "insert").get().source == ""
