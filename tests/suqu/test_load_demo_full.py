"""load_demo on the whole district: regions, units, pairings, demo people, the admin; twice
changes nothing, and keeps what was changed in between.

The demo is loaded once for the module, and a second time over it (each load some 10 s); the
tests read what the loads left and said, in a transaction rolled back at the end."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from accounts.models import User
from grids.models import GridPosting, Region
from integrations.models import CategoryMapping, System
from units.models import Membership, Pairing, Unit

NAMED = ["admin", "dispatcher", "official", "gridworker", "community", "street", "dept"]


def load_demo():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count() for model in (Region, Unit, Pairing, User, Membership, GridPosting)}


@pytest.mark.django_db
def test_without_debug_it_loads_nothing(settings):
    # First in the module: on the empty database, before the demo below is loaded.
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        load_demo()
    assert counts() == dict.fromkeys(counts(), 0)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The demo loaded on the empty database, then again after the admin's name was changed:
    what the first load said, and the counts after each load."""
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=True):
        # A table whose rows were all deleted (or rolled back) keeps its pages: its statistics
        # must not be taken then (see test_a_table_of_deleted_rows_is_not_recorded_empty).
        with connection.cursor() as cursor:
            cursor.execute(
                'INSERT INTO dashboards_rolluprun ("first", "last", finished_at, "rows")'
                " SELECT d::date, d::date, now(), 1 FROM generate_series('2000-01-01'::date, '2009-12-31', '1 day') d"
            )
            cursor.execute("DELETE FROM dashboards_rolluprun")
        output = load_demo()
        first = counts()
        User.objects.filter(username="admin").update(real_name="改过的名字")
        load_demo()
        yield {"output": output, "first": first, "second": counts()}
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_holds_the_whole_district(loaded):
    levels = {level: Region.objects.filter(level=level).count() for level in Region.Level.values}
    assert levels == {"district": 1, "street": 12, "community": 186, "grid": 2939}
    assert Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE).count() == 12
    assert Unit.objects.filter(kind=Unit.Kind.COMMITTEE).count() == 186
    assert Pairing.objects.values("agency").distinct().count() == 86
    assert Pairing.objects.values("community").distinct().count() == 186


@pytest.mark.django_db
def test_every_named_demo_account_can_sign_in(loaded, client):
    for username in NAMED:
        assert User.objects.get(username=username).check_password("suqu-demo")
    assert User.objects.get(username="admin").is_superuser
    response = client.post("/accounts/login/", {"username": "dept", "password": "suqu-demo"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_running_it_twice_leaves_every_count_unchanged(loaded):
    assert loaded["second"] == loaded["first"]
    assert loaded["first"]["Region"] > 0


@pytest.mark.django_db
def test_a_second_run_keeps_what_the_first_made(loaded):
    assert User.objects.get(username="admin").real_name == "改过的名字"
    # The demo's integrating systems are there once, the 12345 platform with its category table.
    assert sorted(System.objects.values_list("name", flat=True)) == ["app311", "city12345"]
    assert CategoryMapping.objects.filter(system__name="city12345").count() == 5


@pytest.mark.django_db
def test_it_prints_a_line_per_step_with_counts(loaded):
    output = loaded["output"]
    assert "regions:" in output
    assert "units and pairings:" in output
    assert "committees 186" in output
    assert "demo people:" in output
    assert "suqu-demo" in output


@pytest.mark.django_db
def test_the_planner_knows_the_size_of_what_it_loaded(loaded):
    # Statistics taken in the load's transaction (no autovacuum sees its rows): without them the
    # planner takes the places for empty and joins them by nested loops.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('grids_region', 'accounts_user', 'routing_unit')"
        )
        estimates = dict(cursor.fetchall())
    assert estimates["grids_region"] >= Region.objects.count() * 0.9
    assert estimates["accounts_user"] >= User.objects.count() * 0.9
    assert estimates["routing_unit"] >= Unit.objects.count() * 0.9


@pytest.mark.django_db
def test_a_table_of_deleted_rows_is_not_recorded_empty(loaded):
    # An ANALYZE then would record no rows over its pages, and the next load into it (in a
    # transaction, unseen by autovacuum) would be planned as one row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, reltuples FROM pg_class WHERE relname = 'dashboards_rolluprun'")
        pages, rows = cursor.fetchone()
    assert not (rows == 0 and pages > 0)
