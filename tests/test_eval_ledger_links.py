"""A publication links the funding ledger's entries as foreign keys (PROTECT): the awards it
booked and, after a correction, their reversal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from evaluation import services
from evaluation.models import EvaluationPeriod, Publication
from funding.models import LedgerEntry

from .factories_evaluation import enter


def test_the_links_are_protected_foreign_keys_to_the_ledger():
    for name in ("ledger_entry", "reversal_entry"):
        field = Publication._meta.get_field(name)
        assert field.related_model is LedgerEntry
        assert field.remote_field.on_delete is models.PROTECT
        assert field.null and field.column == f"{name}_id"


def test_a_publication_books_and_a_correction_reverses_through_the_links(
    bureau_staff, second_bureau_staff, year_period, simple_rubric, eval_schools, open_year
):
    for school in eval_schools.values():
        enter(bureau_staff, year_period, simple_rubric, school, quality=80, care=60)
    period = services.publication_propose(actor=bureau_staff, period=year_period)
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    first = services.publication_approve(actor=second_bureau_staff, period=period)
    assert first.ledger_entry.kind == LedgerEntry.Kind.AWARD
    services.correction_propose(
        actor=bureau_staff,
        period=period,
        reason="录入错误",
        corrections=[(simple_rubric.dimensions.get().indicators.get(code="quality"), eval_schools["a"], "90")],
    )
    second = services.correction_approve(actor=second_bureau_staff, period=period)
    first.refresh_from_db()
    assert first.reversal_entry.reverses_id == first.ledger_entry_id
    assert second.ledger_entry_id not in (None, first.ledger_entry_id)
    # and the database refuses a link to no entry (checked now rather than at commit)
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Publication.objects.filter(pk=second.pk).update(ledger_entry_id=10**12)
