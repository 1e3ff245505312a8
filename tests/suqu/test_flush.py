"""The tests' flush after a transactional test (tests/conftest.py: only the tables with a row are
emptied) leaves the database as Django's TRUNCATE of every table would."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from cases.models import Case


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_every_table_written_and_keeps_the_content_types(cast, categories):
    from tests.factories import open_case

    open_case(cast)
    assert Case.objects.exists()
    content_types, permissions = ContentType.objects.count(), Permission.objects.count()

    # As Django after a transactional test (TransactionTestCase._fixture_teardown).
    call_command("flush", interactive=False, reset_sequences=False, verbosity=0)

    with connection.cursor() as cursor:
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        left = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            left[table] = cursor.fetchone()[0]
    assert {table: rows for table, rows in left.items() if rows} == {
        "django_content_type": content_types,
        "auth_permission": permissions,
    }
