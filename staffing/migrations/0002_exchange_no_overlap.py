"""No overlapping postings of one teacher, held by the database.

An exclusion constraint needs the btree_gist extension (for ``teacher =`` inside a GiST
index); ``Exchange.clean()`` and the services explain the rule to the user. The constraint is
kept out of the model's Meta, so the migration state (and ``makemigrations --check``) stays as
it was when SQLite was still supported.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import Func, Q

NAME = "exchange_no_overlapping_postings"


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


def no_overlap_constraint() -> ExclusionConstraint:
    # Keep in step with Exchange.BLOCKING_STATUSES and Exchange.EVENT_KINDS.
    return ExclusionConstraint(
        name=NAME,
        expressions=[
            ("teacher", RangeOperators.EQUAL),
            (DateRange("start_date", "end_date", RangeBoundary(inclusive_lower=True, inclusive_upper=True)),
             RangeOperators.OVERLAPS),
        ],
        condition=Q(status__in=["planned", "approved", "active"]) & ~Q(kind__in=["lesson_delivery", "online"]),
    )


def add_constraint(apps, schema_editor):
    schema_editor.add_constraint(apps.get_model("staffing", "Exchange"), no_overlap_constraint())


def remove_constraint(apps, schema_editor):
    schema_editor.remove_constraint(apps.get_model("staffing", "Exchange"), no_overlap_constraint())


class Migration(migrations.Migration):
    dependencies = [("staffing", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, remove_constraint),
    ]
