"""The audit tests' shared look-ups: a model's table, its records, a row as the trigger sees it."""

from __future__ import annotations

import json

from django.apps import apps
from django.db import connection

from audit.models import AuditRecord


def table_of(label: str) -> str:
    return apps.get_model(label)._meta.db_table


def records_of(label: str, pk, action: str | None = None):
    qs = AuditRecord.objects.filter(model=label, object_id=str(pk))
    return qs.filter(action=action) if action else qs


def row_of(label: str, pk) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT to_jsonb(t)::text FROM {table_of(label)} t WHERE id = %s", [pk])  # noqa: S608
        return json.loads(cursor.fetchone()[0])
