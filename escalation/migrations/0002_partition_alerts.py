from django.db import migrations

from cases.partitions import table_partition, table_unpartition


def partition(apps, schema_editor):
    # The alerts by month of `due`, the column their unique constraint holds (alert_once_per_stage:
    # assignment, limit, due, stage), so that each stage stays exactly once across the partitions
    # (cases/partitions.py, docs/operations.md). Rows, ids and the sequence kept.
    with schema_editor.connection.cursor() as cursor:
        table_partition(cursor, table="routing_alert", key="due")


def unpartition(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        table_unpartition(cursor, table="routing_alert")


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0001_initial"),
        ("cases", "0003_partitions"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
