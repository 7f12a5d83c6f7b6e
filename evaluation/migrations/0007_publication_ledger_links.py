"""Publications link their ledger entries as foreign keys (the same columns, now constrained);
β's range is one validator; a period records when its results were computed."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

import evaluation.models


def _link(verbose_name):
    return models.ForeignKey(
        null=True,
        blank=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="funding.ledgerentry",
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0006_correction_four_eyes"),
        ("funding", "0002_ledger_triggers"),
    ]

    operations = [
        # The columns keep their names (ledger_entry_id, reversal_entry_id): in the database each
        # gains its constraint and index; in the model state the integer becomes the relation.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="publication",
                    name=old,
                    field=models.ForeignKey(
                        null=True,
                        blank=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="funding.ledgerentry",
                        db_column=old,
                    ),
                )
                for old in ("ledger_entry_id", "reversal_entry_id")
            ],
            state_operations=[
                migrations.RemoveField(model_name="publication", name="ledger_entry_id"),
                migrations.RemoveField(model_name="publication", name="reversal_entry_id"),
                migrations.AddField(
                    model_name="publication", name="ledger_entry", field=_link("ledger entry")
                ),
                migrations.AddField(
                    model_name="publication", name="reversal_entry", field=_link("reversing entry")
                ),
            ],
        ),
        migrations.AddField(
            model_name="evaluationperiod",
            name="computed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="results computed at"),
        ),
        migrations.AlterField(
            model_name="rubric",
            name="beta",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.40"),
                help_text="Share of a core school's final score that comes from its member schools (0–1).",
                max_digits=3,
                validators=[evaluation.models.validate_beta],
                verbose_name="bundling weight β",
            ),
        ),
    ]
