"""The capture trigger on every tracked table and the trail's append-only guards
(``audit.triggers``). PostgreSQL only, as the ledger's guards (funding 0002)."""

from django.db import migrations

from audit import triggers

UNINSTALL = """
DROP FUNCTION IF EXISTS audit_capture() CASCADE;
DROP FUNCTION IF EXISTS audit_refuse_change() CASCADE;
"""


# The tables tracked when this migration was written (frozen: later migrations add theirs).
LATER = {
    "evaluation.nightlyschedule",
    "staffing.supervisionvisit",
    "staffing.rectification",
    # audit 0006
    "alliance.programme",
    "funding.programmefund",
    "funding.programmefundline",
    "funding.programmespending",
}
LABELS = [label for label in triggers.TRACKED if label not in LATER]


def install(apps, schema_editor):
    triggers.install(schema_editor, LABELS)


def uninstall(apps, schema_editor):
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
