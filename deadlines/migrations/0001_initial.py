"""The office hours, the calendar exceptions and the SLA policies move here from `routing`.

Their tables stay as they are (`db_table`): only Django's idea of which app owns them changes
(state operations), and the content types follow, so the admin's permissions and history on
them are kept. `routing.0009_deadlines_moved` removes them from routing's state.
"""

import django.db.models.deletion
from django.db import migrations, models


def rename_content_types(apps, schema_editor, source="routing", target="deadlines"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=MODELS).update(app_label=target)


def restore_content_types(apps, schema_editor):
    rename_content_types(apps, schema_editor, source="deadlines", target="routing")


MODELS = ["workperiod", "workcalendarday", "slapolicy"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("cases", "0002_verification_and_resident_links"),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables were created by routing's migrations.
        ("routing", "0008_queue_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WorkCalendarDay',
                    fields=[
                        ('date', models.DateField(primary_key=True, serialize=False, verbose_name='date')),
                        ('is_workday', models.BooleanField(verbose_name='working day')),
                        ('note', models.CharField(blank=True, max_length=50, verbose_name='note')),
                    ],
                    options={
                        'verbose_name': 'calendar exception',
                        'verbose_name_plural': 'calendar exceptions',
                        'db_table': 'routing_workcalendarday',
                        'ordering': ['date'],
                    },
                ),
                migrations.CreateModel(
                    name='WorkPeriod',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('start', models.TimeField(verbose_name='from')),
                        ('end', models.TimeField(verbose_name='until')),
                    ],
                    options={
                        'verbose_name': 'office hours',
                        'verbose_name_plural': 'office hours',
                        'db_table': 'routing_workperiod',
                        'ordering': ['start'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('end__gt', models.F('start'))), name='workperiod_end_after_start')],
                    },
                ),
                migrations.CreateModel(
                    name='SlaPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('priority', models.CharField(blank=True, choices=[('normal', 'normal'), ('urgent', 'urgent'), ('emergency', 'emergency')], help_text='Empty: any priority.', max_length=10, verbose_name='priority')),
                        ('sign_value', models.DecimalField(decimal_places=2, max_digits=6, verbose_name='sign-for within')),
                        ('sign_unit', models.CharField(choices=[('working_hours', 'working hours'), ('working_days', 'working days'), ('calendar_hours', 'calendar hours')], max_length=16, verbose_name='unit')),
                        ('contact_value', models.DecimalField(decimal_places=2, max_digits=6, verbose_name='first contact within')),
                        ('contact_unit', models.CharField(choices=[('working_hours', 'working hours'), ('working_days', 'working days'), ('calendar_hours', 'calendar hours')], max_length=16, verbose_name='unit')),
                        ('resolve_value', models.DecimalField(decimal_places=2, max_digits=6, verbose_name='resolution within')),
                        ('resolve_unit', models.CharField(choices=[('working_hours', 'working hours'), ('working_days', 'working days'), ('calendar_hours', 'calendar hours')], max_length=16, verbose_name='unit')),
                        ('callback_value', models.DecimalField(decimal_places=2, max_digits=6, verbose_name='callback within')),
                        ('callback_unit', models.CharField(choices=[('working_hours', 'working hours'), ('working_days', 'working days'), ('calendar_hours', 'calendar hours')], max_length=16, verbose_name='unit')),
                        ('return_window_value', models.DecimalField(decimal_places=2, default=2, max_digits=6, verbose_name='return allowed within')),
                        ('return_window_unit', models.CharField(choices=[('working_hours', 'working hours'), ('working_days', 'working days'), ('calendar_hours', 'calendar hours')], default='working_days', max_length=16, verbose_name='unit')),
                        ('extension_max_days', models.PositiveSmallIntegerField(default=10, verbose_name='longest extension (working days)')),
                        ('category', models.ForeignKey(blank=True, help_text='Empty: the default for every category.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sla_policies', to='cases.category', verbose_name='category')),
                    ],
                    options={
                        'verbose_name': 'SLA policy',
                        'verbose_name_plural': 'SLA policies',
                        'db_table': 'routing_slapolicy',
                        'constraints': [models.UniqueConstraint(fields=('category', 'priority'), name='slapolicy_one_per_category_priority', nulls_distinct=False)],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
