"""Track the supervisors' visits and rectification items (staffing 0005) too."""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor, ["staffing.supervisionvisit", "staffing.rectification"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_track_nightly_schedule"),
        ("staffing", "0005_supervision"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
