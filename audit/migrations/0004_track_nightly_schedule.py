"""Track the counties' nightly schedules (evaluation 0008) too."""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor, ["evaluation.nightlyschedule"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_seal_schedule"),
        ("evaluation", "0008_nightly_schedule_and_run_heartbeat"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
