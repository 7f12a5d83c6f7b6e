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
    "alliance.programme": ((), ()),
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
    "staffing.supervisionvisit": ((), ()),
    "staffing.rectification": ((), ()),
    "funding.fundingyear": ((), ()),
    "funding.fundingquota": ((), ()),
    "funding.account": ((), ()),
    "funding.ledgerentry": ((), ()),
    "funding.ledgerline": ((), ()),
    "funding.spendingplan": ((), ()),
    "funding.planline": ((), ()),
    "funding.spendingrecord": ((), ()),
    "funding.programmefund": ((), ()),
    "funding.programmefundline": ((), ()),
    "funding.programmespending": ((), ()),
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
    # A county's night: its time and on/off are the bureau's; the last run is the job's.
    "evaluation.nightlyschedule": ((), ("last_run_on", "last_run")),
}

# Derived rows, rewritten by the nightly job: deliberately not tracked.
UNTRACKED = frozenset(
    {
        "evaluation.schoolresult",
        "evaluation.personresult",  # derived like a school result: rewritten by every run
        "evaluation.allianceresult",
        "evaluation.declinewarning",
        "evaluation.rubricsnapshot",
    }
)

TRIGGER = "audit_capture"

# One INSERT … SELECT of the statement's rows (``{rows}``: pairs b = before, a = after),
# materialized so that each row's to_jsonb is computed once, not once per use.
_RECORD = """
    WITH c AS MATERIALIZED ({rows})
    INSERT INTO audit_auditrecord (
        at, action, model, object_id, before, after, user_id, username, role, county_id,
        school_id, client_addr, source, db_user, txid
    )
    SELECT
        clock_timestamp(), lower(TG_OP), TG_ARGV[0], COALESCE(c.a, c.b) ->> 'id',
        CASE WHEN cardinality(redacted) = 0 THEN c.b ELSE audit_redact(c.b, NULL, redacted) END,
        CASE WHEN cardinality(redacted) = 0 THEN c.a ELSE audit_redact(c.a, c.b, redacted) END,
        v_user_id, v_username, v_role,
        COALESCE(actor_county, (COALESCE(c.a, c.b) ->> 'county_id')::bigint, s.county_id),
        v_school_id, v_addr, v_source, v_db_user, v_txid
    FROM c
    LEFT JOIN alliance_school s
        ON actor_county IS NULL AND s.id = (COALESCE(c.a, c.b) ->> 'school_id')::bigint;"""

FUNCTIONS = "".join(
    (
        r"""
CREATE OR REPLACE FUNCTION audit_redact(row_ jsonb, other jsonb, cols text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    col text;
BEGIN
    FOREACH col IN ARRAY cols LOOP
        IF row_ ? col THEN
            row_ := jsonb_set(row_, ARRAY[col], to_jsonb(CASE
                WHEN other IS NULL OR other -> col IS NOT DISTINCT FROM row_ -> col THEN '[redacted]'
                ELSE '[redacted, changed]' END));
        END IF;
    END LOOP;
    RETURN row_;
END;
$$;

-- A statement-level trigger over the statement's transition tables: a bulk write of n rows
-- costs one INSERT … SELECT of n records, not n calls. The county is the actor's; for a
-- command's or a superuser's change, the row's own or its school's.
CREATE OR REPLACE FUNCTION audit_capture() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    raw text := current_setting('audit.context', true);
    ctx jsonb := '{}';
    redacted text[] := TG_ARGV[1]::text[];
    ignored text[] := TG_ARGV[2]::text[];
    actor_county bigint;
    v_user_id bigint;
    v_username text;
    v_role text;
    v_school_id bigint;
    v_addr inet;
    v_source text;
    v_db_user text := left(session_user || ' ' || current_setting('application_name'), 100);
    v_txid bigint := txid_current();
BEGIN
    IF raw IS NOT NULL AND raw <> '' THEN
        ctx := raw::jsonb;
    END IF;
    actor_county := (ctx ->> 'county_id')::bigint;
    v_user_id := (ctx ->> 'user_id')::bigint;
    v_username := COALESCE(ctx ->> 'username', '');
    v_role := COALESCE(ctx ->> 'role', '');
    v_school_id := (ctx ->> 'school_id')::bigint;
    v_addr := (ctx ->> 'addr')::inet;
    v_source := COALESCE(ctx ->> 'source', '');
    IF TG_OP = 'INSERT' THEN""",
        _RECORD.replace("{rows}", "SELECT NULL::jsonb AS b, to_jsonb(n) AS a FROM audit_new n"),
        """
    ELSIF TG_OP = 'DELETE' THEN""",
        _RECORD.replace("{rows}", "SELECT to_jsonb(o) AS b, NULL::jsonb AS a FROM audit_old o"),
        """
    ELSE""",
        # Nothing that counts changed (a save without changes, a run's progress): no record.
        _RECORD.replace(
            "{rows}",
            "SELECT b, a FROM (SELECT to_jsonb(o) AS b, to_jsonb(n) AS a FROM audit_old o"
            " JOIN audit_new n ON n.id = o.id) p WHERE (p.b - ignored) IS DISTINCT FROM (p.a - ignored)",
        ),
        """
    END IF;
    RETURN NULL;
END;
$$;

""",
        r"""CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('is_superuser') = 'on' THEN
        RETURN NULL;  -- the test database's flush; the portal's role is no superuser
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
""",
    )
)

GUARDED = ("audit_auditrecord", "audit_auditseal")


def _table(label: str) -> str:
    from django.apps import apps

    return apps.get_model(label)._meta.db_table  # auto-created M2M tables are models too


def _array(cols: tuple[str, ...]) -> str:
    return "{" + ",".join(cols) + "}"


_EVENTS = {
    "insert": "AFTER INSERT ON {table} REFERENCING NEW TABLE AS audit_new",
    "update": "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS audit_old NEW TABLE AS audit_new",
    "delete": "AFTER DELETE ON {table} REFERENCING OLD TABLE AS audit_old",
}


def trigger_names() -> list[str]:
    return [f"{TRIGGER}_{event}" for event in _EVENTS]


def capture_sql(labels: Any = None) -> list[str]:
    statements = []
    for label in labels or TRACKED:
        redacted, ignored = TRACKED[label]
        table = _table(label)
        args = f"'{label}', '{_array(redacted)}', '{_array(ignored)}'"
        for event, when in _EVENTS.items():
            name = f"{TRIGGER}_{event}"
            statements += [
                f"DROP TRIGGER IF EXISTS {name} ON {table}",
                f"CREATE TRIGGER {name} {when.format(table=table)} FOR EACH STATEMENT"
                f" EXECUTE FUNCTION audit_capture({args})",
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
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {_table(label)}" for label in labels or TRACKED for name in trigger_names()
    ]


def install(schema_editor: Any, labels: Any = None) -> None:
    schema_editor.execute(FUNCTIONS, params=None)
    for sql in guard_sql() + capture_sql(labels):
        schema_editor.execute(sql, params=None)
