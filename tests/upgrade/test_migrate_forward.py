"""A database `make run` created before the rooms were split migrates forward with nothing lost.

The commit before the work on the rooms (`BEFORE`) is unpacked from git into a scratch folder, and
its own code creates a database the way `make run` does: `migrate`, `load_demo` (the whole
district's places, units and demo people) and a month of generated history (`generate_cases`:
cases, calls, events, assignments, alerts, supervisions, notifications, the outbox, rollups).
Every table is summed up (row count and a hash of every row), then today's code migrates the same
database. Every table must be there afterwards with the same rows, the moved models must read
their rows through their new app, and their content types (and so the admin's permissions on
them) must have moved with them.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
from io import BytesIO
from pathlib import Path
from urllib.parse import urlunsplit

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "9df966f"  # main before issues 15 and 16
CASES = 300
# The models that moved, by their old and new app: (model, before, after).
MOVED = [
    ("workperiod", "routing", "deadlines"),
    ("workcalendarday", "routing", "deadlines"),
    ("slapolicy", "routing", "deadlines"),
    ("unit", "routing", "units"),
    ("membership", "routing", "units"),
    ("pairing", "routing", "units"),
    ("escalationpolicy", "routing", "escalation"),
    ("alert", "routing", "escalation"),
    ("supervision", "routing", "escalation"),
    ("notification", "routing", "notices"),
]
# Tables whose rows a migration is meant to change: the migration log, and the content types of
# the moved models (checked apart below).
CHANGED_BY_DESIGN = {"django_migrations", "django_content_type"}
# New models bring new permissions: this table may only grow (every old row is checked to stay).
GROWS_BY_DESIGN = {"auth_permission"}


def _server_url(database):
    """The test server's URL (as pytest-django reaches it), naming `database`."""
    db = settings.DATABASES["default"]
    netloc = f"{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@{db['HOST']}:{db['PORT']}"
    return urlunsplit(("postgres", netloc, f"/{database}", "", ""))


def _admin(sql):
    with psycopg.connect(_server_url("postgres"), autocommit=True) as connection:
        connection.execute(sql)


def _manage(code_dir, database, *args):
    env = {
        **os.environ,
        "DATABASE_URL": _server_url(database),
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "suqu.settings",
        "PYTHONPATH": str(code_dir),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=code_dir, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} at {code_dir}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def _columns(database) -> dict:
    """Every table of the public schema and its columns, in order."""
    with psycopg.connect(_server_url(database)) as connection:
        rows = connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ).fetchall()
    columns = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def _tables(database, columns) -> dict:
    """Each table of `columns` summed up over those columns only: 'rows:hash-sum' (a column a
    later migration adds does not count as a changed row)."""
    with psycopg.connect(_server_url(database)) as connection:
        present = {row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        summary = {}
        for table, names in columns.items():
            if table not in present:
                continue
            row = ", ".join(f'"{name}"' for name in names)
            summary[table] = connection.execute(
                f"SELECT count(*) || ':' || coalesce(sum(hashtext(ROW({row})::text)::bigint), 0) FROM \"{table}\""
            ).fetchone()[0]
        return summary


def _permissions(database) -> set:
    with psycopg.connect(_server_url(database)) as connection:
        return set(connection.execute("SELECT id, content_type_id, codename FROM auth_permission").fetchall())


def _content_types(database) -> set:
    with psycopg.connect(_server_url(database)) as connection:
        return set(connection.execute("SELECT app_label, model FROM django_content_type").fetchall())


@pytest.fixture
def old_code():
    """The project as it was at BEFORE, unpacked from git (not checked out: the working tree and
    its index are left alone)."""
    folder = Path(tempfile.mkdtemp(prefix="suqu-before-"))
    archive = subprocess.run(["git", "archive", "--format=tar", BEFORE], cwd=ROOT, capture_output=True)
    # A shallow clone lacks the commit: this test needs the history (`git fetch --unshallow`).
    assert archive.returncode == 0, f"git archive {BEFORE}: {archive.stderr.decode()[-500:]}"
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def scratch_database():
    name = f"suqu_migrate_forward_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_make_run_database_from_before_the_split_migrates_forward_with_every_row(old_code, scratch_database):
    _manage(old_code, scratch_database, "migrate", "--noinput")
    _manage(old_code, scratch_database, "load_demo")
    _manage(old_code, scratch_database, "generate_cases", "--size", str(CASES), "--if-empty")
    columns = _columns(scratch_database)
    before = _tables(scratch_database, columns)
    types_before = _content_types(scratch_database)
    permissions_before = _permissions(scratch_database)
    # The history the issue names is there to lose.
    for table in ("cases_case", "cases_caseevent", "routing_assignment", "routing_alert", "dashboards_rollup"):
        if table in before:
            assert int(before[table].split(":")[0]) > 0, table

    _manage(ROOT, scratch_database, "migrate", "--noinput")
    after = _tables(scratch_database, columns)

    lost = {table for table in before if table not in after}
    changed = {table for table in before if table in after and after[table] != before[table]}
    assert lost == set()
    assert changed - CHANGED_BY_DESIGN - GROWS_BY_DESIGN == set()
    assert permissions_before <= _permissions(scratch_database)
    # The moved models' content types changed app, and nothing else about the content types did.
    types_after = _content_types(scratch_database)
    for model, old_app, new_app in MOVED:
        assert (
            (old_app, model) in types_before and (new_app, model) in types_after and (old_app, model) not in types_after
        )
    moved_before = {(old, model) for model, old, _new in MOVED}
    moved_after = {(new, model) for model, _old, new in MOVED}
    assert types_after - moved_after == (types_before - moved_before) | (types_after - types_before - moved_after)
    # Today's models read the rows the old code wrote.
    counts = _manage(
        ROOT,
        scratch_database,
        "shell",
        "--no-imports",
        "-c",
        "from deadlines.models import SlaPolicy, WorkCalendarDay, WorkPeriod; "
        "from units.models import Membership, Pairing, Unit; "
        "from escalation.models import Alert, EscalationPolicy, Supervision; "
        "print(*(m.objects.count() for m in (SlaPolicy, WorkCalendarDay, WorkPeriod, Unit, Membership, Pairing, "
        "EscalationPolicy, Alert, Supervision)))",
    )
    read = (
        "slapolicy",
        "workcalendarday",
        "workperiod",
        "unit",
        "membership",
        "pairing",
        "escalationpolicy",
        "alert",
        "supervision",
    )
    expected = [before[f"routing_{model}"].split(":")[0] for model in read]
    assert counts.split() == expected
    # Every moved table had rows to lose (the generated month escalates about 2% of its cases).
    assert all(int(count) > 0 for count in expected), dict(zip(read, expected, strict=True))
