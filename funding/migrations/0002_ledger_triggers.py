"""PostgreSQL guards of the ledger, so that even raw SQL cannot break the books:

- a DEFERRABLE INITIALLY DEFERRED constraint trigger checks, at commit, that the lines of
  every entry touched by the transaction add up to zero (as django-hordak does);
- triggers refuse UPDATE and DELETE of ledger lines and entries (TRUNCATE, used by test
  teardown, is not row-level and stays possible for the database owner).
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION funding_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM funding_ledgerline WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger entry % does not balance: its lines add up to %', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER funding_ledgerline_balanced
    AFTER INSERT ON funding_ledgerline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION funding_check_entry_balanced();

CREATE OR REPLACE FUNCTION funding_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused; book a reversing entry instead',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER funding_ledgerline_append_only
    BEFORE UPDATE OR DELETE ON funding_ledgerline
    FOR EACH ROW EXECUTE FUNCTION funding_refuse_change();

CREATE TRIGGER funding_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON funding_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funding_refuse_change();
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS funding_ledgerentry_append_only ON funding_ledgerentry;
DROP TRIGGER IF EXISTS funding_ledgerline_append_only ON funding_ledgerline;
DROP TRIGGER IF EXISTS funding_ledgerline_balanced ON funding_ledgerline;
DROP FUNCTION IF EXISTS funding_refuse_change();
DROP FUNCTION IF EXISTS funding_check_entry_balanced();
"""


def install(apps, schema_editor):
    schema_editor.execute(INSTALL, params=None)


def uninstall(apps, schema_editor):
    schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
