"""The inbox's notifications move here from `routing`: their table stays as it is (`db_table`),
only Django's idea of which app owns it changes, and the content type follows.
`routing.0012_notification_moved` lets routing's state go."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_content_types(apps, schema_editor, source="routing", target="notices"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model="notification").update(app_label=target)


def restore_content_types(apps, schema_editor):
    rename_content_types(apps, schema_editor, source="notices", target="routing")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The table was created by routing's migrations.
        ("routing", "0011_escalation_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=30, verbose_name="kind")),
                        ("text", models.CharField(max_length=300, verbose_name="text")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="read at")),
                        (
                            "case",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cases.case",
                                verbose_name="case",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "db_table": "routing_notification",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("read_at__isnull", True)), fields=["user"], name="notification_unread"
                            ),
                            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
