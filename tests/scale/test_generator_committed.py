"""The generator outside a transaction (`make bench`, `make run`): the load commits, then the keys
are checked, the tables vacuumed and the rollups summed on several connections at once. It must
write, row for row, what the same generation writes inside one transaction (the tests' way, where
all of it runs one statement after another on one connection), and leave every index and key of
the tables as they were, every key checked."""

import hashlib
from io import StringIO

import pytest
from django.core.management import BaseCommand
from django.db import connection, transaction

from dashboards.models import COUNTS
from routing.services import demo_people_load
from scale.generator import TABLES
from suqu.management.commands.load_reference import REFERENCE_STEPS, run_steps
from tests.scale.test_generator import generate

pytestmark = pytest.mark.django_db(transaction=True)
# Every table the generator writes, its rows in a fixed order (the rollups' ids are left out: two
# connections number them as they write).
ORDERS = {
    **{table: "id" for table in TABLES if TABLES[table].split()[0] == "id"},
    "routing_autorouteattempt": "case_id",
    "cases_casenumbercounter": "day",
}
ROLLUP_KEYS = "day, grid, category_id, unit, channel"


def dumped():
    """{table: sha256 of its rows}, and the rollups' runs."""
    digests = {}
    with connection.cursor() as cursor:
        queries = {table: f"SELECT * FROM {table} ORDER BY {order}" for table, order in ORDERS.items()}
        queries["dashboards_dailyrollup"] = (
            f"SELECT {ROLLUP_KEYS}, {', '.join(COUNTS)}, handling_seconds "
            f"FROM dashboards_dailyrollup ORDER BY {ROLLUP_KEYS}"
        )
        queries["dashboards_rolluprun"] = 'SELECT "first", "last", "rows" FROM dashboards_rolluprun ORDER BY id'
        for table, query in queries.items():
            cursor.execute(query)
            rows = cursor.fetchall()
            digests[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return digests


def schema():
    """The indexes and the foreign keys of the tables the generator writes (an index by its name:
    built again from its definition, PostgreSQL may spell a condition differently), whether each
    index is usable and each key has been checked."""
    tables = [*TABLES, "dashboards_dailyrollup"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, x.indisvalid AND x.indisready
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            WHERE t.relname = ANY(%s)
            UNION ALL
            SELECT t.relname, c.conname || ' ' || pg_get_constraintdef(c.oid), c.convalidated
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%s) AND c.contype = 'f'
            """,
            [tables, tables],
        )
        return sorted(cursor.fetchall())


def test_a_committed_generation_writes_what_one_in_a_transaction_writes(settings):
    settings.DEBUG = True  # demo people are made only then
    # The district and its people (the generated cases' staff), without the rest of the demo.
    run_steps(BaseCommand(stdout=StringIO()), [*REFERENCE_STEPS, ("demo people", demo_people_load)])
    before = schema()
    assert all(valid for _table, _definition, valid in before)
    # A month: its rollups summed by two connections, a run of days each.
    output = generate("--workers=2", "--chunk=100", size=300)
    assert "(4 connections)" in output and "100% 300/300" in output
    assert schema() == before
    committed = dumped()
    assert committed["dashboards_dailyrollup"][0] > 300 and committed["dashboards_rolluprun"][0] == 1
    with transaction.atomic():
        generate("--reset", "--workers=2", "--chunk=100", size=300)
        assert dumped() == committed
        transaction.set_rollback(True)
