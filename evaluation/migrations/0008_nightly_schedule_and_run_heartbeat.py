"""Heartbeat, session and skipped periods on the run; a nightly schedule per county instead of
the one global django-celery-beat task (which any county's bureau could switch off for all).

Each county gets a schedule at the old task's time (02:00 unless changed), switched on as the
old task was; a county whose time has already passed today first runs tomorrow. The beat task
that runs the schedules (``evaluation.nightly_tick``) comes from settings.CELERY_BEAT_SCHEDULE.
"""

import datetime
import django.db.models.deletion
from django.db import migrations, models


OLD_TASK_NAME = "nightly evaluation"


def schedules_from_the_global_task(apps, schema_editor):
    from django.utils import timezone

    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    County = apps.get_model("alliance", "County")
    NightlySchedule = apps.get_model("evaluation", "NightlySchedule")
    old = PeriodicTask.objects.filter(name=OLD_TASK_NAME).select_related("crontab").first()
    run_at, enabled = datetime.time(2, 0), True
    if old is not None:
        enabled = old.enabled
        cron = old.crontab
        if cron is not None and cron.hour.isdigit() and cron.minute.isdigit():
            run_at = datetime.time(int(cron.hour) % 24, int(cron.minute) % 60)
    now = timezone.localtime()
    NightlySchedule.objects.bulk_create(
        [
            NightlySchedule(
                county=county,
                enabled=enabled,
                run_at=run_at,
                last_run_on=now.date() if now.time() >= run_at else None,
            )
            for county in County.objects.all()
        ],
        ignore_conflicts=True,
    )
    PeriodicTask.objects.filter(name=OLD_TASK_NAME).delete()


def global_task_from_the_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=OLD_TASK_NAME, defaults={"task": "evaluation.nightly_evaluation", "crontab": crontab, "enabled": True}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("alliance", "0003_headcount_names"),
        ("evaluation", "0007_publication_ledger_links"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationrun",
            name="backend_pid",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last heartbeat"),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="skipped",
            field=models.JSONField(blank=True, default=list, verbose_name="skipped periods"),
        ),
        migrations.AlterField(
            model_name="evaluationrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("refused", "Refused (another run was running)"),
                    ("abandoned", "Abandoned (its process stopped beating)"),
                    ("not_queued", "Not queued (the job queue was unreachable)"),
                ],
                default="running",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.CreateModel(
            name="NightlySchedule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("enabled", models.BooleanField(default=True, verbose_name="runs every night")),
                ("run_at", models.TimeField(default=datetime.time(2, 0), verbose_name="time (local)")),
                ("last_run_on", models.DateField(blank=True, editable=False, null=True, verbose_name="last run on")),
                (
                    "county",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="nightly_schedule",
                        to="alliance.county",
                        verbose_name="county",
                    ),
                ),
                (
                    "last_run",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="evaluation.evaluationrun",
                        verbose_name="last run",
                    ),
                ),
            ],
            options={
                "verbose_name": "nightly schedule",
                "verbose_name_plural": "nightly schedules",
                "ordering": ["county__code"],
            },
        ),
        migrations.RunPython(schedules_from_the_global_task, global_task_from_the_schedules),
    ]
