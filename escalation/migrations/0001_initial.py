"""The escalation policy, the alerts and the supervisions move here from `routing`.

Their tables stay as they are (`db_table`): only Django's idea of which app owns them changes
(state operations), and the content types follow, so the admin's permissions and history on
them are kept. `routing.0011_escalation_moved` lets them go from routing's state.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


def rename_content_types(apps, schema_editor, source="routing", target="escalation"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=MODELS).update(app_label=target)


def restore_content_types(apps, schema_editor):
    rename_content_types(apps, schema_editor, source="escalation", target="routing")


MODELS = ["escalationpolicy", "alert", "supervision"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("cases", "0002_verification_and_resident_links"),
        ("units", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables were created by routing's migrations.
        ("routing", "0010_units_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='EscalationPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('warning_percent', models.PositiveSmallIntegerField(default=75, help_text='The yellow light, when this share of the time to a deadline has gone by.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(99)], verbose_name='warning at (percentage of the time)')),
                        ('notice_after_days', models.PositiveSmallIntegerField(default=5, help_text='A formal notice (通报) to the level above when a deadline is this long overdue.', validators=[django.core.validators.MinValueValidator(1)], verbose_name='notice after (overdue working days)')),
                        ('supervise_after_days', models.PositiveSmallIntegerField(default=7, help_text='The level above supervises (督办) the case when a deadline is this long overdue.', validators=[django.core.validators.MinValueValidator(1)], verbose_name='supervision after (overdue working days)')),
                        ('step_up_after_days', models.PositiveSmallIntegerField(default=5, help_text='Supervision moves one level further up when the case stays overdue this much longer.', validators=[django.core.validators.MinValueValidator(1)], verbose_name='next level after (working days)')),
                    ],
                    options={
                        'verbose_name': 'escalation policy',
                        'verbose_name_plural': 'escalation policy',
                        'db_table': 'routing_escalationpolicy',
                        'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='escalationpolicy_single_row')],
                    },
                ),
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('limit', models.CharField(choices=[('sign', 'sign-for'), ('contact', 'first contact'), ('resolve', 'resolution')], max_length=8, verbose_name='deadline')),
                        ('due', models.DateTimeField(verbose_name='due')),
                        ('stage', models.CharField(choices=[('warning', 'warning'), ('overdue', 'overdue'), ('chase', 'chase notice'), ('notice', 'formal notice'), ('supervise_1', 'supervision'), ('supervise_2', 'supervision, next level'), ('supervise_3', 'supervision, third level')], max_length=12, verbose_name='stage')),
                        ('at', models.DateTimeField(verbose_name='at')),
                        ('assignment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='routing.assignment', verbose_name='assignment')),
                    ],
                    options={
                        'verbose_name': 'deadline alert',
                        'verbose_name_plural': 'deadline alerts',
                        'db_table': 'routing_alert',
                        'ordering': ['at', 'id'],
                        'constraints': [models.UniqueConstraint(fields=('assignment', 'limit', 'due', 'stage'), name='alert_once_per_stage')],
                    },
                ),
                migrations.CreateModel(
                    name='Supervision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.PositiveSmallIntegerField(verbose_name='level')),
                        ('started_at', models.DateTimeField(verbose_name='started at')),
                        ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='ended at')),
                        ('assignment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='supervisions', to='routing.assignment', verbose_name='assignment supervised')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.case', verbose_name='case')),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='units.unit', verbose_name='supervised by')),
                    ],
                    options={
                        'verbose_name': 'supervision',
                        'verbose_name_plural': 'supervisions',
                        'db_table': 'routing_supervision',
                        'ordering': ['-started_at', '-id'],
                        'indexes': [models.Index(condition=models.Q(('ended_at__isnull', True)), fields=['unit', '-started_at'], name='supervision_open'), models.Index(condition=models.Q(('ended_at__isnull', True)), fields=['case'], name='supervision_open_case')],
                        'constraints': [models.UniqueConstraint(fields=('assignment', 'unit'), name='supervision_once_per_unit'), models.UniqueConstraint(fields=('assignment', 'level'), name='supervision_once_per_level')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
