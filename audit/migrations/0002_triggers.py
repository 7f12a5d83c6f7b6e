"""The capture trigger on every tracked table and the trail's append-only guards
(``audit.triggers``). PostgreSQL only, as the ledger's guards (funding 0002)."""

from django.db import migrations

from audit import triggers

UNINSTALL = """
DROP FUNCTION IF EXISTS audit_capture() CASCADE;
DROP FUNCTION IF EXISTS audit_refuse_change() CASCADE;
"""


def install(apps, schema_editor):
    triggers.install(schema_editor)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("alliance", "0003_headcount_names"),
        ("staffing", "0003_activity_host_kind_date"),
        ("funding", "0002_ledger_triggers"),
        ("evaluation", "0006_correction_four_eyes"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
