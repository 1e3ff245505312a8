"""Units, memberships and pairings move here from `routing`.

Their tables stay as they are (`db_table`): only Django's idea of which app owns them changes
(state operations), and the content types follow, so the admin's permissions and history on
them are kept. `routing.0010_units_moved` points routing's foreign keys here and lets them go.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_content_types(apps, schema_editor, source="routing", target="units"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=MODELS).update(app_label=target)


def restore_content_types(apps, schema_editor):
    rename_content_types(apps, schema_editor, source="units", target="routing")


MODELS = ["unit", "membership", "pairing"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("grids", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables were created by routing's migrations.
        ("routing", "0009_deadlines_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Unit',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=32, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=100, verbose_name='name')),
                        ('kind', models.CharField(choices=[('centre', 'district centre'), ('leadership', 'district leadership'), ('department', 'district department'), ('utility', 'public utility'), ('street_office', 'street office'), ('committee', 'community or village committee'), ('social', 'social force'), ('agency', 'paired agency')], max_length=20, verbose_name='kind')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='units.unit', verbose_name='escalates to')),
                        ('region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='units', to='grids.region', verbose_name='region served')),
                    ],
                    options={
                        'verbose_name': 'unit',
                        'verbose_name_plural': 'units',
                        'db_table': 'routing_unit',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='Pairing',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('community', models.ForeignKey(limit_choices_to={'level': 'community'}, on_delete=django.db.models.deletion.CASCADE, related_name='pairings', to='grids.region', verbose_name='community')),
                        ('agency', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pairings', to='units.unit', verbose_name='agency')),
                    ],
                    options={
                        'verbose_name': 'pairing',
                        'verbose_name_plural': 'pairings',
                        'db_table': 'routing_pairing',
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('clerk', 'clerk'), ('head', 'head')], default='clerk', max_length=10, verbose_name='role')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='units.unit', verbose_name='unit')),
                    ],
                    options={
                        'verbose_name': 'membership',
                        'verbose_name_plural': 'memberships',
                        'db_table': 'routing_membership',
                    },
                ),
                migrations.AddIndex(
                    model_name='unit',
                    index=models.Index(fields=['kind', 'code'], name='unit_kind_code'),
                ),
                migrations.AddConstraint(
                    model_name='unit',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ['street_office', 'committee']), _negated=True), ('region__isnull', False), _connector='OR'), name='unit_territorial_has_region'),
                ),
                migrations.AddConstraint(
                    model_name='unit',
                    constraint=models.UniqueConstraint(condition=models.Q(('kind__in', ['street_office', 'committee'])), fields=('region',), name='unit_one_office_per_region'),
                ),
                migrations.AddConstraint(
                    model_name='pairing',
                    constraint=models.UniqueConstraint(fields=('agency', 'community'), name='pairing_once'),
                ),
                migrations.AddConstraint(
                    model_name='membership',
                    constraint=models.UniqueConstraint(fields=('user', 'unit'), name='membership_once_per_unit'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
