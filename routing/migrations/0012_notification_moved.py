"""The inbox's notifications now belong to `notices` (`notices.0001_initial`); their table stays,
only routing's state lets them go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0011_escalation_moved"),
        ("notices", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
