"""The escalation policy, the alerts and the supervisions now belong to `escalation`
(`escalation.0001_initial`); their tables stay, only routing's state lets them go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0010_units_moved"),
        ("escalation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Alert"),
                migrations.DeleteModel(name="Supervision"),
                migrations.DeleteModel(name="EscalationPolicy"),
            ],
            database_operations=[],
        ),
    ]
