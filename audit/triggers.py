"""The trail's PostgreSQL side: the capture trigger on every tracked table and the guards
that make the trail append-only. Installed by migration ``0002_triggers``; idempotent, so a
later migration adding a table calls ``install`` with the new list.

A tracked table is one whose rows people enter or approve. Not tracked: the rows the nightly
evaluation rewrites (results, decline warnings, rubric snapshots — their runs and the
publication that froze them are), and Django's own sessions, permissions and content types.
"""

from __future__ import annotations

from typing import Any

# model label → (redacted columns, columns whose change alone is not recorded)
TRACKED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "alliance.county": ((), ()),
    "alliance.school": ((), ()),
    "alliance.schoolyear": ((), ()),
    "alliance.term": ((), ()),
    "alliance.alliance": ((), ()),
    "alliance.membership": ((), ()),
    "alliance.pairing": ((), ()),
    "alliance.pairingtask": ((), ()),
    # A password is never copied, only whether it changed; a sign-in is its own event.
    "alliance.user": (("password",), ("last_login",)),
    "alliance.user_groups": ((), ()),  # the roles
    "alliance.user_assessed_schools": ((), ()),
    "alliance.user_user_permissions": ((), ()),
    "staffing.teacher": ((), ()),
    "staffing.exchange": ((), ()),
    "staffing.exchangehost": ((), ()),
    "staffing.mentorpair": ((), ()),
    "staffing.mentormeeting": ((), ()),
    "staffing.activity": ((), ()),
    "staffing.activity_schools": ((), ()),
    "staffing.activityattachment": ((), ()),
    "funding.fundingyear": ((), ()),
    "funding.fundingquota": ((), ()),
    "funding.account": ((), ()),
    "funding.ledgerentry": ((), ()),
    "funding.ledgerline": ((), ()),
    "funding.spendingplan": ((), ()),
    "funding.planline": ((), ()),
    "funding.spendingrecord": ((), ()),
    "evaluation.rubric": ((), ()),
    "evaluation.dimension": ((), ()),
    "evaluation.indicator": ((), ()),
    "evaluation.evaluationperiod": ((), ()),
    "evaluation.indicatorvalue": ((), ()),
    "evaluation.awardpolicy": ((), ()),
    # A run's start and end; not its progress, which it updates as it goes.
    "evaluation.evaluationrun": ((), ("progress",)),
    "evaluation.appeal": ((), ()),
    "evaluation.publication": ((), ()),
    "evaluation.correction": ((), ()),
}

# Derived rows, rewritten by the nightly job: deliberately not tracked.
UNTRACKED = frozenset(
    {
        "evaluation.schoolresult",
        "evaluation.allianceresult",
        "evaluation.declinewarning",
        "evaluation.rubricsnapshot",
    }
)

TRIGGER = "audit_capture"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_capture() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    raw text := current_setting('audit.context', true);
    ctx jsonb := '{}';
    old_row jsonb;
    new_row jsonb;
    row_ jsonb;
    redacted text[] := TG_ARGV[1]::text[];
    ignored text[] := TG_ARGV[2]::text[];
    col text;
    county bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' AND (old_row - ignored) = (new_row - ignored) THEN
        RETURN NULL;  -- nothing that counts changed (a save without changes, a run's progress)
    END IF;
    FOREACH col IN ARRAY redacted LOOP
        IF new_row ? col THEN
            new_row := jsonb_set(new_row, ARRAY[col], to_jsonb(CASE
                WHEN old_row IS NOT NULL AND old_row -> col = new_row -> col THEN '[redacted]'
                ELSE '[redacted, changed]' END));
        END IF;
        IF old_row ? col THEN
            old_row := jsonb_set(old_row, ARRAY[col], '"[redacted]"');
        END IF;
    END LOOP;
    IF raw IS NOT NULL AND raw <> '' THEN
        ctx := raw::jsonb;
    END IF;
    row_ := COALESCE(new_row, old_row);
    -- The county: the actor's; for a command's or a superuser's change, the row's own.
    county := COALESCE((ctx ->> 'county_id')::bigint, (row_ ->> 'county_id')::bigint);
    IF county IS NULL AND row_ ? 'school_id' THEN
        SELECT s.county_id INTO county FROM alliance_school s WHERE s.id = (row_ ->> 'school_id')::bigint;
    END IF;
    INSERT INTO audit_auditrecord (
        at, action, model, object_id, before, after, user_id, username, role, county_id,
        school_id, client_addr, source, db_user, txid
    ) VALUES (
        clock_timestamp(), lower(TG_OP), TG_ARGV[0], COALESCE(row_ ->> 'id', ''), old_row, new_row,
        (ctx ->> 'user_id')::bigint, COALESCE(ctx ->> 'username', ''), COALESCE(ctx ->> 'role', ''), county,
        (ctx ->> 'school_id')::bigint, (ctx ->> 'addr')::inet, COALESCE(ctx ->> 'source', ''),
        left(session_user || ' ' || current_setting('application_name'), 100), txid_current()
    );
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('is_superuser') = 'on' THEN
        RETURN NULL;  -- the test database's flush; the portal's role is no superuser
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""

GUARDED = ("audit_auditrecord", "audit_auditseal")


def _table(label: str) -> str:
    from django.apps import apps

    return apps.get_model(label)._meta.db_table  # auto-created M2M tables are models too


def _array(cols: tuple[str, ...]) -> str:
    return "{" + ",".join(cols) + "}"


def capture_sql(labels: Any = None) -> list[str]:
    statements = []
    for label in labels or TRACKED:
        redacted, ignored = TRACKED[label]
        table = _table(label)
        statements += [
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}",
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW"
            f" EXECUTE FUNCTION audit_capture('{label}', '{_array(redacted)}', '{_array(ignored)}')",
        ]
    return statements


def guard_sql() -> list[str]:
    statements = []
    for table in GUARDED:
        statements += [
            f"DROP TRIGGER IF EXISTS audit_append_only ON {table}",
            f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
            f"DROP TRIGGER IF EXISTS audit_no_truncate ON {table}",
            f"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        ]
    return statements


def drop_capture_sql(labels: Any = None) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {_table(label)}" for label in labels or TRACKED]


def install(schema_editor: Any, labels: Any = None) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (the embedded demo) records events only; see the ADR
    schema_editor.execute(FUNCTIONS, params=None)
    for sql in guard_sql() + capture_sql(labels):
        schema_editor.execute(sql, params=None)
