"""The tables that grow without bound are partitioned by month (case events on `at`, alerts on
`due`): the migration keeps every row and id, a row of a month without a partition is never lost,
and `manage.py archive` takes old months out to files and puts them back, while the dashboards
keep showing the archived months from their rollups. docs/operations.md, Partitions and archive."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from cases import lifecycle, partitions
from cases.models import ArchivedPartition, Case, CaseEvent
from cases.tasks import ensure_partitions
from dashboards import selectors
from dashboards.services import rollups_refresh
from escalation.models import Alert
from feedback import metrics
from tests.factories import open_case

pytestmark = pytest.mark.django_db
TZ = datetime.timezone(datetime.timedelta(hours=8))
JANUARY = metrics.Period(datetime.date(2024, 1, 1), datetime.date(2024, 1, 31))


def _where(table, ids):
    """{id: the partition holding the row}."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, tableoid::regclass::text FROM {table} WHERE id = ANY(%s)", [list(ids)])
        return dict(cursor.fetchall())


def _summed(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), coalesce(sum(hashtext(t::text)::bigint), 0) FROM {table} t")
        return cursor.fetchone()


# --- the migration's conversion ------------------------------------------------------------------


def test_a_plain_table_with_rows_of_several_months_becomes_monthly_partitions_with_every_row_and_id(cast, categories):
    case = open_case(cast)
    with connection.cursor() as cursor:
        # Back to the table before migration 0003 (its reverse), rows of three months written
        # into it, then the migration's own conversion; the test's transaction undoes it all.
        partitions.table_unpartition(cursor, table="cases_caseevent")
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'cases_caseevent'")
        assert cursor.fetchone()[0] == "r"
        for at in ("2025-11-30 23:30+08", "2026-01-01 00:00+08", "2026-02-15 12:00+08", "2026-02-28 23:59+08"):
            cursor.execute(
                "INSERT INTO cases_caseevent (case_id, action, from_status, to_status, at, note, data) "
                "VALUES (%s, 'note', '', '', %s, '', '{}')",
                [case.pk, at],
            )
        before = _summed("cases_caseevent")
        ids = list(CaseEvent.objects.order_by("id").values_list("id", flat=True))

        partitions.table_partition(cursor, table="cases_caseevent", key="at")

        assert _summed("cases_caseevent") == before
        where = _where("cases_caseevent", ids)
        # Months of the district's time zone: 23:30 on 30 November in Shenyang is November's.
        assert [where[i] for i in ids[-4:]] == [
            "cases_caseevent_p2025_11",
            "cases_caseevent_p2026_01",
            "cases_caseevent_p2026_02",
            "cases_caseevent_p2026_02",
        ]
        # December had no row and still has its partition (every month from the oldest on).
        assert "cases_caseevent_p2025_12" in partitions.partitions_of(cursor, "cases_caseevent").values()
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'cases_caseevent_pkey'")
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, at)"
    # The sequence goes on from where it was: a new event gets a new id, through the ORM.
    event = CaseEvent.objects.create(case=case, action="note")
    assert event.pk > max(ids)
    assert CaseEvent.objects.get(pk=ids[-1]).at == datetime.datetime(2026, 2, 28, 23, 59, tzinfo=TZ)


def test_a_unique_constraint_without_the_partition_key_is_refused():
    # The outbox's idempotency key is unique on its own: partitioned by a time, it could not stay.
    with connection.cursor() as cursor, pytest.raises(ValueError, match="does not hold created_at"):
        partitions.table_partition(cursor, table="outbox_message", key="created_at")


# --- no row is lost, months are made ahead -----------------------------------------------------


def test_a_row_of_a_month_without_a_partition_is_kept_and_the_nightly_task_gives_it_its_month(cast, categories):
    case = open_case(cast)
    event = CaseEvent.objects.create(case=case, action="note")
    CaseEvent.objects.filter(pk=event.pk).update(at=datetime.datetime(2031, 5, 2, 9, 0, tzinfo=TZ))
    assert _where("cases_caseevent", [event.pk]) == {event.pk: "cases_caseevent_default"}

    made = ensure_partitions()

    assert "cases_caseevent_p2031_05" in made
    assert _where("cases_caseevent", [event.pk]) == {event.pk: "cases_caseevent_p2031_05"}
    with connection.cursor() as cursor:
        for table in ("cases_caseevent", "routing_alert"):
            ahead = partitions.partitions_of(cursor, table)
            this_month = partitions.month_of(datetime.datetime.now(TZ))
            assert set(partitions.months(this_month, this_month + datetime.timedelta(days=95))) <= set(ahead)
    assert ensure_partitions() == []  # twice is harmless


# --- archive and restore -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """The first quarter of 2024, generated (events, alerts, rollups), once for the module inside a
    transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
        call_command(
            "generate_cases",
            "--size=600",
            "--end=2024-03-31T18:00+08:00",
            "--days=90",
            "--workers=1",
            stdout=StringIO(),
        )
        # January whole in the rollups, from its first day on.
        rollups_refresh(first=datetime.date(2024, 1, 1), last=datetime.date(2024, 1, 1))
        yield
        transaction.set_rollback(True)


def archive(*args):
    out = StringIO()
    call_command("archive", *args, stdout=out)
    return out.getvalue()


def test_archived_months_leave_the_tables_come_back_whole_and_the_dashboards_keep_them(history, tmp_path):
    january = Case.objects.filter(created_at__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ))
    assert january.exists()
    events_before, alerts_before = _summed("cases_caseevent"), _summed("routing_alert")
    old_events = CaseEvent.objects.filter(at__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).count()
    old_alerts = Alert.objects.filter(due__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).count()
    assert old_events and old_alerts
    shown = selectors.summary(prefix="", period=JANUARY)
    assert shown.figures.received

    said = archive("--before", "2024-02", "--to", str(tmp_path))

    assert "cases_caseevent_p2024_01" in said and "routing_alert_p2024_01" in said
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    rows = {entry["partition"]: entry["rows"] for entry in manifest["partitions"]}
    assert rows["cases_caseevent_p2024_01"] == old_events and rows["routing_alert_p2024_01"] == old_alerts
    assert all((tmp_path / entry["file"]).exists() for entry in manifest["partitions"])
    assert not CaseEvent.objects.filter(at__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).exists()
    assert not Alert.objects.filter(due__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).exists()
    assert ArchivedPartition.objects.filter(month=datetime.date(2024, 1, 1)).count() == 2
    # The dashboard reads January from its rollups: the same figures, even after a refresh of the
    # whole quarter (which would count January again from rows no longer there: it starts after).
    assert selectors.summary(prefix="", period=JANUARY).figures == shown.figures
    rollups_refresh(first=datetime.date(2024, 1, 1), last=datetime.date(2024, 3, 31))
    assert selectors.summary(prefix="", period=JANUARY).figures == shown.figures

    said = archive("restore", str(tmp_path))

    assert "2 month(s) restored" in said
    assert _summed("cases_caseevent") == events_before and _summed("routing_alert") == alerts_before
    assert not ArchivedPartition.objects.exists()
    # Restoring again adds nothing: the months hold their rows.
    assert "holds rows already" in archive("restore", str(tmp_path))
    assert _summed("cases_caseevent") == events_before


def test_the_generated_history_sits_in_the_partitions_of_its_months(history):
    with connection.cursor() as cursor:
        for table in ("cases_caseevent", "routing_alert"):
            cursor.execute(f"SELECT count(*) FROM {table}_default")
            assert cursor.fetchone()[0] == 0
            cursor.execute(f"SELECT count(*) FROM {table}_p2024_02")
            assert cursor.fetchone()[0] > 0


def test_a_month_with_alerts_of_a_running_assignment_is_not_archived(history, tmp_path):
    alert = Alert.objects.filter(due__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).first()
    with connection.cursor() as cursor:
        # As if its unit had never finished: the sweep still reads which of its stages happened.
        cursor.execute(
            "UPDATE routing_assignment SET state = 'signed', finished_at = NULL WHERE id = %s", [alert.assignment_id]
        )
    before = _summed("routing_alert")

    with pytest.raises(CommandError, match=r"routing_alert_p2024_01: alerts of 1 assignment\(s\) still running"):
        archive("--before", "2024-02", "--to", str(tmp_path))

    assert _summed("routing_alert") == before


def test_a_month_with_events_of_an_open_case_is_not_archived(history, tmp_path):
    case = Case.objects.filter(created_at__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET status = 'in_progress', closure_reason = '' WHERE id = %s", [case.pk])
    before = _summed("cases_caseevent")

    with pytest.raises(CommandError, match=r"cases_caseevent_p2024_01: events of 1 case\(s\) not closed yet"):
        archive("--before", "2024-02", "--to", str(tmp_path))

    assert _summed("cases_caseevent") == before
    assert not (tmp_path / "manifest.json").exists()


def test_a_month_whose_rollups_were_never_computed_is_not_archived(history, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboards_rolluprun")

    with pytest.raises(CommandError, match=r"\d+ day\(s\) of events whose rollups were never computed"):
        archive("--before", "2024-02", "--to", str(tmp_path))

    assert CaseEvent.objects.filter(at__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).exists()


def test_a_file_changed_since_the_archive_is_not_restored(history, tmp_path):
    archive("--before", "2024-02", "--to", str(tmp_path))
    events = tmp_path / "cases_caseevent_p2024_01.copy.gz"
    events.write_bytes(events.read_bytes()[:-10])

    with pytest.raises(CommandError, match="sha256 differs"):
        archive("restore", str(tmp_path))

    assert not CaseEvent.objects.filter(at__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).exists()
    assert not Alert.objects.filter(due__lt=datetime.datetime(2024, 2, 1, tzinfo=TZ)).exists()


# --- reading a case's timeline -------------------------------------------------------------------


def test_a_cases_timeline_reads_only_the_months_since_the_case_was_registered(cast, categories):
    """A case's events are found by `case_id`, which is not the partition key: without a bound
    PostgreSQL probes every month's index (120 of them after ten years). The timeline is bounded
    by the case's registration, so the plan leaves out the months before it."""
    partitions.partitions_cover(datetime.date(2024, 1, 1), datetime.date(2024, 12, 1))
    case = open_case(cast)
    Case.objects.filter(pk=case.pk).update(created_at=datetime.datetime(2024, 10, 15, 9, 0, tzinfo=TZ))
    case.refresh_from_db()
    sql, params = lifecycle.case_events(case).order_by("at", "id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "cases_caseevent_p2024_10" in plan and "cases_caseevent_p2024_12" in plan
    assert "cases_caseevent_p2024_09" not in plan and "cases_caseevent_p2024_01" not in plan
    # Every event of the case is still on its timeline.
    every = CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("pk", flat=True)
    assert [event.pk for event in lifecycle.timeline(case)] == list(every) != []
