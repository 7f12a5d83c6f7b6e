"""The trail against the permission matrix's world (one of every row, built once for this
module): every tracked model's insert, update and delete, and a run's start and end. A module
of its own, so the other tests build their rows without the world's."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction

from audit.models import AuditRecord
from audit.triggers import TRACKED, UNTRACKED
from evaluation import services as evaluation_services
from evaluation.models import Correction, EvaluationRun

from .fixtures_audit import records_of, row_of, table_of

PORTAL_APPS = ("alliance", "staffing", "funding", "evaluation")

# How each table's row is changed by raw SQL (a column and its new value); None: the table has
# no column of its own to change (a link table: rows are added and removed, never changed).
UPDATES: dict[str, str | None] = {
    "alliance.county": "name = name || '·'",
    "alliance.school": "name = name || '·'",
    "alliance.schoolyear": "end_date = end_date + 1",
    "alliance.term": "end_date = end_date + 1",
    "alliance.alliance": "name = name || '·'",
    "alliance.membership": "role = CASE WHEN role = 'lead' THEN 'member' ELSE 'lead' END",
    "alliance.pairing": "focus_areas = focus_areas || '[\"funds\"]'::jsonb",
    "alliance.pairingtask": "title = title || '·'",
    "alliance.programme": "name = name || '·'",
    "alliance.user": "first_name = first_name || '·'",
    "alliance.user_groups": None,
    "alliance.user_assessed_schools": None,
    "alliance.user_user_permissions": None,
    "staffing.teacher": "name = name || '·'",
    "staffing.exchange": "classes = classes || '·'",
    "staffing.exchangehost": None,
    "staffing.mentorpair": "goals = goals || '·'",
    "staffing.mentormeeting": "notes = notes || '·'",
    "staffing.activity": "title = title || '·'",
    "staffing.activity_schools": None,
    "staffing.activityattachment": "caption = caption || '·'",
    "staffing.supervisionvisit": "findings = findings || '·'",
    "staffing.rectification": "item = item || '·'",
    "funding.fundingyear": "base_quota = base_quota + 1",
    "funding.fundingquota": "quota = quota + 1",
    "funding.account": None,
    "funding.ledgerentry": "memo = memo || '·'",  # refused: the ledger is append-only
    "funding.ledgerline": "amount = amount",  # refused likewise
    "funding.spendingplan": "notes = notes || '·'",
    "funding.planline": "notes = notes || '·'",
    "funding.spendingrecord": "payee = payee || '·'",
    "funding.programmefund": "spend_share = 1 - spend_share",
    "funding.programmefundline": "notes = notes || '·'",
    "funding.programmespending": "payee = payee || '·'",
    "evaluation.rubric": "name = name || '·'",
    "evaluation.dimension": "name = name || '·'",
    "evaluation.indicator": "name = name || '·'",
    "evaluation.evaluationperiod": "notice_days = notice_days + 1",
    "evaluation.indicatorvalue": "comment = comment || '·'",
    "evaluation.awardpolicy": "fill_pool = NOT fill_pool",
    "evaluation.evaluationrun": "error = error || '·'",
    "evaluation.appeal": "reason = reason || '·'",
    "evaluation.publication": "reason = reason || '·'",
    "evaluation.correction": "reason = reason || '·'",
    "evaluation.nightlyschedule": "enabled = NOT enabled",
}
APPEND_ONLY = {"funding.ledgerentry", "funding.ledgerline"}
pytestmark = pytest.mark.django_db


@pytest.fixture
def everything(world):
    """The permission matrix's world plus the rows it lacks: a correction, a direct permission."""
    Correction.objects.create(period=world.period, reason="录入有误", proposed_by=world.users["bureau"])
    world.users["auditor"].user_permissions.add(Permission.objects.order_by("pk").first())
    evaluation_services.nightly_schedules_ensure()
    return world


def test_every_model_of_the_portal_is_tracked_or_deliberately_not():
    labels = {
        m._meta.label_lower
        for app in PORTAL_APPS
        for m in apps.get_app_config(app).get_models(include_auto_created=True)
    }
    assert labels - set(TRACKED) - UNTRACKED == set(), "decide whether these are audited (audit/triggers.py)"
    assert set(TRACKED) <= labels
    assert set(UPDATES) == set(TRACKED)


@pytest.mark.parametrize("label", sorted(TRACKED))
def test_each_tracked_model_records_insert_update_and_delete_with_before_and_after(everything, label):
    model = apps.get_model(label)
    pk = model.objects.order_by("pk").values_list("pk", flat=True).first()
    assert pk is not None, f"the world has no {label}"

    # insert: recorded as the row was written
    insert = records_of(label, pk, "insert").get()
    assert insert.before is None
    assert insert.after["id"] == pk

    # update, by raw SQL
    table, change = table_of(label), UPDATES[label]
    if label in APPEND_ONLY:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"UPDATE {table} SET {change} WHERE id = %s", [pk])  # noqa: S608
        assert not records_of(label, pk, "update").exists()
    elif change is not None:
        before = row_of(label, pk)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {change} WHERE id = %s", [pk])  # noqa: S608
        after = row_of(label, pk)
        update = records_of(label, pk, "update").latest("id")
        redacted = TRACKED[label][0]
        assert {k: v for k, v in update.before.items() if k not in redacted} == {
            k: v for k, v in before.items() if k not in redacted
        }
        assert {k: v for k, v in update.after.items() if k not in redacted} == {
            k: v for k, v in after.items() if k not in redacted
        }
        assert update.before != update.after

    # delete, by raw SQL (the foreign keys are checked at commit; the savepoint never gets there)
    sid = transaction.savepoint()
    try:
        if label in APPEND_ONLY:
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608
            assert not records_of(label, pk, "delete").exists()
        else:
            row = row_of(label, pk)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608
            delete = records_of(label, pk, "delete").get()
            assert delete.after is None
            redacted = TRACKED[label][0]
            assert {k: v for k, v in delete.before.items() if k not in redacted} == {
                k: v for k, v in row.items() if k not in redacted
            }
    finally:
        transaction.savepoint_rollback(sid)


def test_a_runs_start_and_end_are_recorded_not_its_progress(world):
    runs = EvaluationRun.objects.order_by("pk")
    for run in runs:
        actions = list(records_of("evaluation.evaluationrun", run.pk).order_by("id").values_list("action", flat=True))
        assert actions == ["insert", "update"]  # claimed (running), then finished
        end = records_of("evaluation.evaluationrun", run.pk, "update").get()
        assert (end.before["status"], end.after["status"]) == ("running", "succeeded")
    assert not AuditRecord.objects.filter(model__in=UNTRACKED).exists()
