"""The two audit migrations numbered 0006 (imports' action, the programmes' tracking) came in by
separate merges; this joins them (no operation)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_action_import"),
        ("audit", "0006_track_programmes"),
    ]

    operations = []
