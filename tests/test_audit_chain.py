"""The trail's hash chain: ``verify_audit`` passes on an intact chain, reports the unsealed
tail, and fails naming the first bad record when one was altered, deleted or inserted directly
in the database (behind the append-only triggers' back, as only the tables' owner can)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import chain
from audit.models import AuditRecord, AuditSeal

from .factories import SchoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(county):
    """Five schools, each insert recorded and sealed."""
    for _ in range(5):
        SchoolFactory(county=county)
    assert chain.seal() == AuditRecord.objects.count()
    return list(AuditRecord.objects.order_by("id"))


def _behind_the_triggers(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditseal DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditrecord ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditseal ENABLE TRIGGER USER")


def _verify(*args) -> str:
    from io import StringIO

    from django.utils import translation

    out = StringIO()
    with translation.override("en"):
        call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_an_intact_chain_verifies_and_names_its_head(sealed):
    out = _verify()
    head = AuditSeal.objects.order_by("-seq").first()
    assert f"{len(sealed)} records sealed" in out
    assert f"head {head.seq}:{head.hash}" in out


def test_the_unsealed_tail_is_reported_as_such_and_sealed_later(sealed, county):
    SchoolFactory(county=county)
    tail = AuditRecord.objects.order_by("-id").first()
    assert "Not yet sealed: 1 records" in _verify()
    call_command("seal_audit")
    assert "Not yet sealed" not in _verify()
    assert AuditSeal.objects.get(record_id=tail.pk).seq == len(sealed) + 1


def test_an_altered_record_is_named(sealed):
    victim = sealed[2]
    _behind_the_triggers("UPDATE audit_auditrecord SET username = 'someone' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=rf"record {victim.pk} \(seal 3\) was altered"):
        _verify()


def test_an_altered_value_inside_before_or_after_is_named(sealed):
    victim = sealed[1]
    _behind_the_triggers(
        "UPDATE audit_auditrecord SET after = jsonb_set(after, '{name}', '\"改过的\"') WHERE id = %s", [victim.pk]
    )
    with pytest.raises(CommandError, match=rf"record {victim.pk} .* was altered"):
        _verify()


def test_a_deleted_record_is_named(sealed):
    victim = sealed[3]
    _behind_the_triggers("DELETE FROM audit_auditrecord WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=rf"record {victim.pk} \(seal 4\) was deleted"):
        _verify()


def test_a_record_deleted_with_its_seal_leaves_a_gap_that_is_named(sealed):
    victim = sealed[1]
    _behind_the_triggers("DELETE FROM audit_auditseal WHERE record_id = %s", [victim.pk])
    _behind_the_triggers("DELETE FROM audit_auditrecord WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=rf"seal 2 is missing .* before record {sealed[2].pk}"):
        _verify()


def test_a_record_inserted_directly_inside_the_chain_is_named(sealed):
    forged_id = sealed[1].pk + 1 if sealed[1].pk + 1 < sealed[2].pk else None
    if forged_id is None:  # consecutive ids: make room by inserting before the first
        forged_id = sealed[0].pk - 1
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditrecord (id, at, action, model, object_id, username, role, source, db_user)"
            " VALUES (%s, now(), 'delete', 'alliance.school', '1', 'nobody', '', '', '')",
            [forged_id],
        )
    with pytest.raises(CommandError, match=rf"record {forged_id} has no seal but lies inside the sealed chain"):
        _verify()


def test_a_record_inserted_with_a_forged_seal_is_named(sealed):
    head = AuditSeal.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditrecord (at, action, model, object_id, username, role, source, db_user)"
            " VALUES (now(), 'update', 'alliance.school', '1', 'nobody', '', '', '') RETURNING id"
        )
        forged = cursor.fetchone()[0]
        # the hash of someone who knows the algorithm but not the key
        cursor.execute(
            "INSERT INTO audit_auditseal (seq, record_id, hash, sealed_at) VALUES (%s, %s, %s, now())",
            [head.seq + 1, forged, "0" * 64],
        )
    with pytest.raises(CommandError, match=rf"record {forged} \(seal {head.seq + 1}\) was altered"):
        _verify()


def test_a_cut_tail_is_found_against_a_noted_head(sealed):
    head = AuditSeal.objects.order_by("-seq").first()
    noted = f"{head.seq}:{head.hash}"
    assert "intact" in _verify("--expect-head", noted)
    _behind_the_triggers("DELETE FROM audit_auditseal WHERE seq = %s", [head.seq])
    _behind_the_triggers("DELETE FROM audit_auditrecord WHERE id = %s", [head.record_id])
    with pytest.raises(CommandError, match=rf"seal {head.seq} is not the one noted"):
        _verify("--expect-head", noted)


def test_the_first_bad_record_is_named_when_several_are(sealed):
    _behind_the_triggers("UPDATE audit_auditrecord SET role = 'x' WHERE id IN (%s, %s)", [sealed[1].pk, sealed[3].pk])
    with pytest.raises(CommandError, match=rf"record {sealed[1].pk} "):
        _verify()
