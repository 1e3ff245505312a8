"""The read replica (cases/replica.py): the dashboards and lists read from a real streaming replica,
the requests that act never touch it, a person who just acted reads the primary, and a replica that
is down or far behind leaves the site working on the primary while /healthz says so.

`make test` starts the replica: a hot standby of the embedded PostgreSQL made by `pg_basebackup -R`
(suqu/devservices.py), named by DATABASE_REPLICA_URL. The test database is created on the primary
and reaches the standby by replication (the alias is a test MIRROR of "default"), so the tests
commit their rows (transaction=True) and wait for the standby to replay them. With DATABASE_URL set
and no DATABASE_REPLICA_URL these tests fail, saying so: a standby of a server we did not start is
not ours to make.
"""

import socket
import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.replica import replica_forget, replica_usable
from dashboards.exports import export_job_run
from dashboards.models import ExportJob
from suqu.tasks import heartbeat
from tests.factories import make_cast, open_case
from units.selectors import postings_for

# Committed rows (the replica sees nothing of a test's open transaction); "__all__" rather than
# naming "replica", so that a run without one fails in the `replica` fixture with its reason.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

# How long the standby may take to replay what the primary wrote before a test gives up: a bound
# against hanging, not a speed asserted (two cores shared by the whole suite).
REPLAY_PATIENCE_SECONDS = 60


def replayed():
    """Wait until the standby has replayed everything the primary wrote so far (its insert
    position: with synchronous_commit off a commit may still sit in the WAL buffers)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + REPLAY_PATIENCE_SECONDS
    while True:
        try:
            with connections["replica"].cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
                if cursor.fetchone()[0]:
                    return
        except OperationalError:
            # The test database itself may not have reached the standby yet.
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the replica did not replay the primary's WAL up to {target} in {REPLAY_PATIENCE_SECONDS} s")
        time.sleep(0.05)


@pytest.fixture
def replica(settings):
    """Reads of the marked views routed to the replica, the replica caught up with the primary."""
    if "replica" not in settings.DATABASES:
        pytest.fail(
            "DATABASE_REPLICA_URL is not set: these tests need a streaming replica of DATABASE_URL. "
            "`make test` starts one beside its embedded PostgreSQL; with DATABASE_URL set, set "
            "DATABASE_REPLICA_URL to a hot standby of it (docs/operations.md, Read replica)"
        )
    settings.REPLICA_DATABASE = "replica"
    replica_forget()
    yield
    replica_forget()


@pytest.fixture
def world(replica, categories):
    """The cast, one case in grid A, everything replayed on the replica; the replica looked at once
    (so that the look's own queries are not counted as a page's)."""
    cast = make_cast()
    case = open_case(cast)
    replayed()
    assert replica_usable()
    return cast, case


@contextmanager
def queries_by_alias():
    """The SQL each server ran while inside, keyed by alias."""
    seen = {"default": [], "replica": []}

    def recorder(alias):
        def record(execute, sql, params, many, context):
            seen[alias].append(sql)
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in seen:
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        yield seen


def in_recovery(alias) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def replica_unreachable():
    """Point the replica alias at a port where nothing listens (the standby itself keeps running
    for the rest of the suite), and back."""
    connection = connections["replica"]
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.close_pool()
    connection.settings_dict["PORT"] = closed_port()
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict["PORT"] = port


def tables_read(statements) -> set[str]:
    """The tables the SELECT statements among `statements` read from (as Django quotes them)."""
    return {
        word.strip('"')
        for sql in statements
        if sql.lstrip().startswith("SELECT")
        for word in sql.split()
        if word.startswith('"') and word.endswith('"') and '"."' not in word
    }


def who_they_are(user) -> list[str]:
    """The statement that reads who `user` is at work (`units.selectors.postings_for`, once a
    request): on the primary, as every permission is checked, so that a posting given a moment
    ago counts at once."""
    with queries_by_alias() as seen:
        postings_for(type(user).objects.get(pk=user.pk))
    return seen["default"]


def test_the_replica_is_a_hot_standby_of_the_primary(replica):
    replayed()
    assert in_recovery("default") is False
    assert in_recovery("replica") is True


def test_the_dashboard_reads_its_figures_from_the_replica(world, client):
    cast, _case = world
    client.force_login(cast.official)
    replayed()
    with queries_by_alias() as seen:
        response = client.get(reverse("dashboards:overview", args=[cast.district.code]))
    assert response.status_code == 200
    assert "苏家屯区" in response.content.decode()
    assert seen["replica"], "the dashboard read nothing from the replica"
    # The primary gave the session and the signed-in user only (read before the replica's scope:
    # the session a moment old may not have reached the replica), and the metric weights, which
    # FeedbackSettings.load() reads with get_or_create: a write's read, which Django routes as a write.
    # Who the official is at work is read on the primary too (who_they_are).
    allowed = {"django_session", "accounts_user", "feedback_feedbacksettings"}
    rest = [sql for sql in seen["default"] if sql not in who_they_are(cast.official)]
    assert tables_read(rest) <= allowed, rest


def test_the_case_list_reads_from_the_replica(world, client):
    cast, case = world
    client.force_login(cast.dispatcher)
    replayed()
    with queries_by_alias() as seen:
        response = client.get(reverse("cases:list"))
    assert response.status_code == 200
    assert case.number in response.content.decode()
    assert seen["replica"]
    rest = [sql for sql in seen["default"] if sql not in who_they_are(cast.dispatcher)]
    assert tables_read(rest) <= {"django_session", "accounts_user"}, rest


def test_a_request_that_acts_never_touches_the_replica(world, client):
    cast, case = world
    client.force_login(cast.dispatcher)
    replayed()
    with queries_by_alias() as seen:
        response = client.post(reverse("cases:reveal-phone", args=[case.number]))
    assert response.status_code in {200, 302}
    assert seen["default"]
    assert seen["replica"] == []


def test_after_acting_a_person_reads_the_primary_for_a_while(world, client, settings):
    cast, case = world
    client.force_login(cast.dispatcher)
    replayed()
    client.post(reverse("cases:reveal-phone", args=[case.number]))
    with queries_by_alias() as seen:
        response = client.get(reverse("cases:list"))
    assert response.status_code == 200
    assert seen["replica"] == []
    # Another person, who did not act, reads the replica meanwhile.
    other = Client()
    other.force_login(cast.official)
    with queries_by_alias() as seen:
        assert other.get(reverse("cases:list")).status_code == 200
    assert seen["replica"]
    # Once the window has passed, the person who acted reads the replica again.
    replayed()
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.REPLICA_STICKY_SECONDS + 1)):
        assert replica_usable()
        with queries_by_alias() as seen:
            assert client.get(reverse("cases:list")).status_code == 200
    assert seen["replica"]


def test_a_replica_that_is_down_leaves_the_pages_working_and_healthz_degraded(world, client):
    cast, case = world
    heartbeat()
    client.force_login(cast.dispatcher)
    with replica_unreachable():
        replica_forget()
        with queries_by_alias() as seen:
            response = client.get(reverse("cases:list"))
        assert response.status_code == 200
        assert case.number in response.content.decode()
        assert seen["replica"] == []
        health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["down"], body["degraded"]) == ("degraded", [], ["replica"])
    assert body["checks"]["replica"]["ok"] is False
    assert body["checks"]["replica"]["error"]


def test_a_replica_lost_in_the_middle_of_a_page_is_answered_from_the_primary(world, client):
    cast, case = world
    client.force_login(cast.dispatcher)
    # The replica was fine at this process's last look, and goes away before the next one.
    with replica_unreachable():
        response = client.get(reverse("cases:list"))
        assert response.status_code == 200
        assert case.number in response.content.decode()
        # And the pages after it read the primary at once, without trying the replica again.
        with queries_by_alias() as seen:
            assert client.get(reverse("cases:list")).status_code == 200
        assert seen["replica"] == []


def test_healthz_shows_the_replication_lag(world, client):
    heartbeat()
    replayed()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["degraded"]) == ("ok", [])
    replica = body["checks"]["replica"]
    assert replica["ok"] is True
    assert replica["in_recovery"] is True
    assert replica["lag_seconds"] >= 0
    assert isinstance(replica["lag_bytes"], int) and replica["lag_bytes"] >= 0


@contextmanager
def replay_paused():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


def received():
    """Wait until the standby has received (not replayed) everything the primary wrote so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + REPLAY_PATIENCE_SECONDS
    while True:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the replica did not receive the primary's WAL up to {target}")
        time.sleep(0.05)


def test_a_replica_far_behind_is_not_read_and_healthz_says_how_far(world, client, settings):
    cast, _case = world
    heartbeat()
    client.force_login(cast.dispatcher)
    # Behind for real: replay paused while the primary writes on. Any lag at all is "far" here.
    settings.REPLICA_MAX_LAG_SECONDS = 0
    with replay_paused():
        late = open_case(cast, description="暂停回放时登记的案件")
        received()
        replica_forget()
        with queries_by_alias() as seen:
            response = client.get(reverse("cases:list"))
        health = client.get("/healthz").json()
    assert response.status_code == 200
    # Read from the primary: the case the replica has not replayed is listed.
    assert late.number in response.content.decode()
    assert not any("cases_case" in sql for sql in seen["replica"])
    assert (health["status"], health["degraded"]) == ("degraded", ["replica"])
    assert health["checks"]["replica"]["lag_seconds"] > 0
    assert health["checks"]["replica"]["lag_bytes"] > 0
    assert "behind the primary" in health["checks"]["replica"]["error"]


def test_an_export_job_reads_its_table_from_the_replica_and_records_itself_on_the_primary(world, settings, tmp_path):
    cast, case = world
    settings.MEDIA_ROOT = tmp_path
    job = ExportJob.objects.create(user=cast.dispatcher, table="cases", format="csv", rows_total=1)
    replayed()
    with queries_by_alias() as seen:
        assert export_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert case.number in job.file.read().decode("utf-8-sig")
    assert "cases_case" in tables_read(seen["replica"])
    assert "cases_case" not in tables_read(seen["default"])
    # The job's claim, progress and result went to the primary; the replica was only read.
    assert all(sql.lstrip().startswith("SELECT") for sql in seen["replica"])
    assert any(sql.lstrip().startswith("UPDATE") and "dashboards_exportjob" in sql for sql in seen["default"])


@contextmanager
def stream_cut():
    """The replica's WAL receiver stopped, as when the network to the primary breaks: without a
    primary_conninfo the standby replays what it has and waits. Put back afterwards."""
    with connections["replica"].cursor() as cursor:
        cursor.execute("SHOW primary_conninfo")
        conninfo = cursor.fetchone()[0]
        cursor.execute("ALTER SYSTEM SET primary_conninfo = ''")
        cursor.execute("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + REPLAY_PATIENCE_SECONDS
        while True:
            with connections["replica"].cursor() as cursor:
                cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL)")
                if cursor.fetchone()[0]:
                    break
            if time.monotonic() > deadline:
                pytest.fail("the replica's WAL receiver did not stop")
            time.sleep(0.05)
        yield
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("ALTER SYSTEM SET primary_conninfo = %s", [conninfo])
            cursor.execute("SELECT pg_reload_conf()")


def test_a_replica_cut_off_from_the_primary_counts_as_behind_though_it_replayed_all_it_got(world, client, settings):
    cast, _case = world
    heartbeat()
    client.force_login(cast.dispatcher)
    settings.REPLICA_MAX_LAG_SECONDS = 0
    with stream_cut():
        late = open_case(cast, description="断流时登记的案件")
        replica_forget()
        with queries_by_alias() as seen:
            response = client.get(reverse("cases:list"))
        health = client.get("/healthz").json()
    replayed()
    assert late.number in response.content.decode()
    assert not any("cases_case" in sql for sql in seen["replica"])
    assert (health["status"], health["degraded"]) == ("degraded", ["replica"])
    assert health["checks"]["replica"]["lag_seconds"] > 0
    assert health["checks"]["replica"]["lag_bytes"] > 0
