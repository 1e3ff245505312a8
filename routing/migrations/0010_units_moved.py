"""Units, memberships and pairings now belong to `units` (`units.0001_initial`): routing's foreign
keys point there, and routing's state lets the three models go. No table or row is touched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0009_deadlines_moved"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='supervision',
                    name='unit',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='units.unit', verbose_name='supervised by'),
                ),
                migrations.AlterField(
                    model_name='assignment',
                    name='unit',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='units.unit', verbose_name='unit'),
                ),
                migrations.AlterField(
                    model_name='assignment',
                    name='requested_by',
                    field=models.ForeignKey(blank=True, help_text='For an assisting unit: the lead unit that called it in.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='units.unit', verbose_name='called in by'),
                ),
                migrations.AlterField(
                    model_name='routingrule',
                    name='unit',
                    field=models.ForeignKey(blank=True, help_text='Required when handled by a named unit.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='routing_rules', to='units.unit', verbose_name='unit'),
                ),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="Pairing"),
                migrations.DeleteModel(name="Unit"),
            ],
            database_operations=[],
        ),
    ]
