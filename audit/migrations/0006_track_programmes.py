"""Track the cross-county programmes (alliance 0005) and their funds (funding 0004) too."""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(
        schema_editor,
        ["alliance.programme", "funding.programmefund", "funding.programmefundline", "funding.programmespending"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_track_supervision"),
        ("alliance", "0005_programmes"),
        ("funding", "0004_programme_funds"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
