"""The office hours, the calendar exceptions and the SLA policies now belong to `deadlines`
(`deadlines.0001_initial`); their tables stay, only routing's state lets them go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0008_queue_indexes"),
        ("deadlines", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WorkCalendarDay"),
                migrations.DeleteModel(name="WorkPeriod"),
                migrations.DeleteModel(name="SlaPolicy"),
            ],
            database_operations=[],
        ),
    ]
