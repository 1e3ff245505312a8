"""One migrated database per server, set of migrations and day, copied (CREATE DATABASE ...
TEMPLATE) wherever the tests need a migrated database: each worker's test database, and the
databases of the processes some tests start. Migrating a fresh database costs some 16 CPU-seconds;
a copy, well under one. The migrations themselves still run from nothing for the template (in
`make test`, whose server is new, once per run), and tests/upgrade/test_migrate_forward.py runs
them on a database as an upgrade does.

The template is named after the test run's database and a digest of the migration files and the
day, so a changed migration or a new day makes a new one (the old ones are dropped); the first
worker builds it under an advisory lock while the others wait for it.
"""

import datetime
import hashlib
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import django
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def _server(database="postgres") -> str:
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT']}/{quote(database)}"


def _digest() -> str:
    # Today's date too: the migrations make the months' partitions around the day they run
    # (cases/partitions.py), so a template is a day's, as a database migrated today would be.
    digest = hashlib.sha256(f"{django.__version__} {datetime.date.today()}".encode())
    # The migrations, and the module two of them run their conversion from: a change to either
    # makes another template.
    for path in [*sorted(BASE_DIR.glob("*/migrations/*.py")), BASE_DIR / "cases" / "partitions.py"]:
        digest.update(str(path.relative_to(BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def template() -> str:
    """The migrated template's name, built first if this server has none for these migrations."""
    import psycopg

    # Once pytest-django has made the worker's test database, NAME is that database's
    # (test_<name>_gw0): the template it was copied from is the one (a name of its own would
    # migrate a second template from nothing, in each worker, for the databases the tests make).
    made = settings.DATABASES["default"].get("TEST", {}).get("TEMPLATE")
    if made:
        return made
    prefix = f"{settings.DATABASES['default']['NAME']}_tpl_"
    name = prefix + _digest()
    with psycopg.connect(_server(), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [prefix])
        try:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return name
            stale = admin.execute(
                "SELECT datname FROM pg_database WHERE left(datname, length(%s)) = %s", [prefix, prefix]
            ).fetchall()
            for (old,) in stale:
                admin.execute(f'DROP DATABASE "{old}" WITH (FORCE)')
            building = f"{name}_new"
            admin.execute(f'CREATE DATABASE "{building}"')
            # As pytest-django migrates a test database: apps without migrations get their tables.
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "--run-syncdb", "-v", "0"],
                cwd=BASE_DIR,
                env={**os.environ, "DATABASE_URL": _server(building)},
                check=True,
            )
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            return name
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [prefix])


def migrated_database(name) -> str:
    """A new database `name`, migrated (a copy of the template); returns its URL."""
    import psycopg

    source = template()
    with psycopg.connect(_server(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return _server(name)


# A line of pg_dump's setting a column's options: `ALTER TABLE ONLY t ALTER COLUMN c SET (...);`.
COLUMN_OPTIONS = re.compile(rb"^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \([^)]*\);\n", re.MULTILINE)


def restore_migrated(url, bin_dir) -> bool:
    """Load a copy of the template into the empty database at `url`, on another server (a
    cluster of a test's own), through pg_dump and psql from `bin_dir`; whether it was loaded. The
    dump is taken of a copy: a session on the template would stop it being copied meanwhile.
    Column options (`ALTER COLUMN ... SET (...)`) are left out: the migrations set none, and those
    a server adds of its own (the shared development server's `pg_attver`) another server refuses,
    which cost the caller a `migrate` from nothing (some 16 CPU-seconds). A dump the other server
    still cannot read leaves the database empty again, for the caller's `migrate` to fill."""
    import psycopg

    name = f"{settings.DATABASES['default']['NAME']}_dump_{secrets.token_hex(4)}"
    source = migrated_database(name)
    try:
        dump = subprocess.run(
            [str(Path(bin_dir) / "pg_dump"), "--no-owner", "--no-privileges", "-d", source],
            capture_output=True,
            check=True,
        ).stdout
    finally:
        drop_database(name)
    dump = COLUMN_OPTIONS.sub(b"", dump)
    restored = subprocess.run(
        [str(Path(bin_dir) / "psql"), "-q", "-X", "-1", "-v", "ON_ERROR_STOP=1", "-d", url],
        input=dump,
        capture_output=True,
    )
    if restored.returncode == 0:
        return True
    # One transaction (-1): nothing of the dump is left, but the extension it created first.
    with psycopg.connect(url, autocommit=True) as target:
        target.execute("DROP EXTENSION IF EXISTS pg_trgm")
    return False


def drop_database(name):
    import psycopg

    with psycopg.connect(_server(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
