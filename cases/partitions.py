"""Monthly partitions of the tables that grow without bound, and their archive (docs/operations.md,
"Partitions and archive").

A partitioned table here is PostgreSQL's declarative `PARTITION BY RANGE` on one timestamp column
(its key): one partition per month of the district's time zone, named `<table>_pYYYY_MM`, and a
`<table>_default` partition that takes a row whose month has none, so no row is ever refused.
`partitions_ensure` (Celery beat, daily) creates the months ahead and moves rows the default
partition caught into a partition of their own month. The tables are found in the catalog
(`pg_partitioned_table`), so this module names none of them: a migration makes a table
partitioned with `table_partition`, and from then on it is kept like the others.

The primary key of a partitioned table is (id, key), since PostgreSQL's unique indexes must hold
the partition key; Django still addresses a row by `id` alone, which stays unique because every id
comes from the table's one sequence (the admin refuses models with a composite key, and the
outbox and the tasks hand rows on by id). No foreign key points at these tables.

Archiving (`partitions_archive`) detaches the months before a cut, writes each to a gzipped COPY
file with a manifest (rows, sha256), and drops it; `partitions_restore` copies them back and
attaches them. An app that must not lose rows it still reads registers a refusal for its table
(`archive_check`): the alerts of an assignment still running, the events of a case still open.
"""

import datetime
import gzip
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

# Months created ahead of the current one (beat runs daily, so a month is there weeks before its
# first row; the default partition catches a row should beat be down that long).
AHEAD = 3
MANIFEST = "manifest.json"

# table → [function(cursor, partition, month) -> a reason to refuse, or None], registered by the app that
# owns the table from its AppConfig.ready (cases cannot import the apps above it).
ARCHIVE_CHECKS = defaultdict(list)


class ArchiveRefused(Exception):
    """An archive or restore that would lose or duplicate rows; nothing was changed."""


def archive_check(table):
    """Register `function(cursor, partition, month)` as a refusal to archive a month of `table`."""

    def register(function):
        if function not in ARCHIVE_CHECKS[table]:
            ARCHIVE_CHECKS[table].append(function)
        return function

    return register


# --- months ------------------------------------------------------------------------------------


def _tz():
    return ZoneInfo(settings.TIME_ZONE)


def month_of(moment) -> datetime.date:
    """The first day of the month `moment` falls in, in the district's time zone."""
    if isinstance(moment, datetime.datetime):
        moment = moment.astimezone(_tz()).date()
    return moment.replace(day=1)


def month_next(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every month from the one of `first` to the one of `last`, both included."""
    found, month = [], month_of(first)
    while month <= month_of(last):
        found.append(month)
        month = month_next(month)
    return found


def _bound(month) -> str:
    """Midnight of the month's first day in the district, as a literal (DDL takes no parameters)."""
    return datetime.datetime(month.year, month.month, 1, tzinfo=_tz()).isoformat()


def partition_name(table, month) -> str:
    return f"{table}_p{month:%Y_%m}"


def _month_of_name(table, name) -> datetime.date | None:
    suffix = name.removeprefix(f"{table}_p")
    try:
        return datetime.datetime.strptime(suffix, "%Y_%m").date()
    except ValueError:
        return None


# --- the catalog ---------------------------------------------------------------------------------


def partitioned_tables(cursor) -> dict[str, str]:
    """{table: its partition key column} for every partitioned table of the schema."""
    cursor.execute(
        """
        SELECT c.relname, a.attname
        FROM pg_partitioned_table p
        JOIN pg_class c ON c.oid = p.partrelid
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
        WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition
        ORDER BY c.relname
        """
    )
    return dict(cursor.fetchall())


def partitions_of(cursor, table) -> dict[datetime.date, str]:
    """{month: partition} of `table`'s monthly partitions (the default one is not a month)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [table],
    )
    found = {}
    for (name,) in cursor.fetchall():
        month = _month_of_name(table, name)
        if month is not None:
            found[month] = name
    return found


def _columns(cursor, table) -> list[str]:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _exists(cursor, name) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{name}"])
    return cursor.fetchone()[0]


def _checks_now(cursor):
    """Run the foreign keys' deferred checks of the rows written so far in this transaction now:
    PostgreSQL refuses to alter or drop a table with checks still pending (a no-op in a
    transaction of its own, as the migrations, the task and the command are)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _q(name):
    return connection.ops.quote_name(name)


# --- making a table partitioned (migrations) -----------------------------------------------------


def table_partition(cursor, *, table, key, now=None):
    """Turn `table` into one partitioned by month on `key`, with every row, id and sequence value.

    The table is renamed, a partitioned table of the same columns takes its name, the months from
    its oldest row to AHEAD months from now (and a default partition) are created, the rows are
    copied, and the old table is dropped; then its primary key (as (id, key)), unique constraints,
    foreign keys and indexes are made again on the new table under their old names (the names
    Django's migrations know). A unique constraint without `key` cannot hold across partitions:
    refused. Runs inside the migration's transaction: all or nothing.
    """
    _table_rebuild(cursor, table=table, key=key, now=now or timezone.now())


def table_unpartition(cursor, *, table):
    """The way back (a migration reversed): one plain table again, the primary key on id alone."""
    _table_rebuild(cursor, table=table, key=None, now=None)


def _table_rebuild(cursor, *, table, key, now):
    _checks_now(cursor)
    cursor.execute(
        "SELECT attidentity FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'id'",
        [table],
    )
    if cursor.fetchone()[0] == "":
        raise ValueError(f"{table}.id is not an identity column")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    last_value, is_called = cursor.fetchone()
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') AND coninhcount = 0 ORDER BY contype, conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass "
        "AND i.relname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    # A partitioned table's index is shown `ON ONLY` the parent; made again on a table as a whole.
    indexes = [definition.replace(" ON ONLY ", " ON ") for _name, definition in cursor.fetchall()]
    for name, kind, definition in constraints:
        held = {column.strip().strip('"') for column in definition.partition("(")[2].partition(")")[0].split(",")}
        if key and kind == "u" and key not in held:
            raise ValueError(f"{table}: the unique constraint {name} ({definition}) does not hold {key}")

    old = f"{table}_old"
    cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {_q(old + '_id_seq')}")
    like = f"LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE"
    if key is None:
        cursor.execute(f"CREATE TABLE {_q(table)} ({like})")
    else:
        cursor.execute(f"CREATE TABLE {_q(table)} ({like}) PARTITION BY RANGE ({_q(key)})")
        cursor.execute(f"SELECT min({_q(key)}), max({_q(key)}) FROM {_q(old)}")
        oldest, newest = cursor.fetchone()
        ahead = month_of(now)
        for _ in range(AHEAD):
            ahead = month_next(ahead)
        first = min(month_of(moment) for moment in (oldest, now) if moment)
        last = max(month_of(moment) for moment in (newest, ahead) if moment)
        for month in months(first, last):
            cursor.execute(
                f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(table)} "
                f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(month_next(month))}')"
            )
        cursor.execute(f"CREATE TABLE {_q(table + '_default')} PARTITION OF {_q(table)} DEFAULT")
    columns = ", ".join(_q(column) for column in _columns(cursor, old))
    cursor.execute(f"INSERT INTO {_q(table)} ({columns}) SELECT {columns} FROM {_q(old)}")
    cursor.execute(f"DROP TABLE {_q(old)}")
    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [table, last_value, is_called])
    for name, kind, definition in constraints:
        if kind == "p":
            definition = f"PRIMARY KEY (id, {_q(key)})" if key else "PRIMARY KEY (id)"
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for definition in indexes:
        cursor.execute(definition)


# --- partitions ahead, and rows the default partition caught --------------------------------------


def partition_create(cursor, table, key, month) -> int | None:
    """Make `month`'s partition of `table`, moving into it the rows of that month the default
    partition holds. None when it exists already, else how many rows moved.

    The default partition is locked first: a row of the month written meanwhile waits, then goes to
    the new partition (otherwise ATTACH would find it in the default one and fail)."""
    name = partition_name(table, month)
    if _exists(cursor, name):
        return None
    default = f"{table}_default"
    lower, upper = _bound(month), _bound(month_next(month))
    _checks_now(cursor)
    cursor.execute(f"LOCK TABLE {_q(default)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    columns = ", ".join(_q(column) for column in _columns(cursor, table))
    cursor.execute(
        f"WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(key)} >= %s AND {_q(key)} < %s RETURNING {columns}) "
        f"INSERT INTO {_q(name)} ({columns}) SELECT {columns} FROM moved",
        [lower, upper],
    )
    moved = cursor.rowcount
    cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM ('{lower}') TO ('{upper}')")
    return moved


def _default_months(cursor, table, key) -> list[datetime.date]:
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', {_q(key)} AT TIME ZONE %s)::date FROM {_q(table + '_default')}",
        [settings.TIME_ZONE],
    )
    return sorted(row[0] for row in cursor.fetchall())


def partitions_cover(first, last) -> list[str]:
    """Make the partitions of every month from `first` to `last` in every partitioned table (the
    generator, before it COPYs a span of history). Returns the partitions made."""
    made = []
    with connection.cursor() as cursor:
        for table, key in partitioned_tables(cursor).items():
            for month in months(first, last):
                with transaction.atomic():
                    if partition_create(cursor, table, key, month) is not None:
                        made.append(partition_name(table, month))
    return made


def partitions_ensure(*, now=None) -> list[str]:
    """The daily upkeep (beat): this month's partition and AHEAD more of every partitioned table,
    and one for each month the default partition caught rows of (moved out of it). Safe to run
    twice and at any moment; returns the partitions made."""
    now = now or timezone.now()
    made = []
    with connection.cursor() as cursor:
        tables = partitioned_tables(cursor)
    for table, key in tables.items():
        with connection.cursor() as cursor:
            wanted = set(months(now, now + datetime.timedelta(days=31 * AHEAD)))
            wanted.update(_default_months(cursor, table, key))
            for month in sorted(wanted):
                with transaction.atomic():
                    if partition_create(cursor, table, key, month) is not None:
                        made.append(partition_name(table, month))
    return made


# --- archive and restore -------------------------------------------------------------------------


def _manifest_read(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.exists():
        return {"partitions": []}
    return json.loads(path.read_text())


def _manifest_write(directory: Path, manifest: dict):
    path = directory / MANIFEST
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def archive_plan(*, before: datetime.date) -> list[tuple[str, datetime.date, str]]:
    """(table, month, partition) of every monthly partition wholly before the month `before`."""
    with connection.cursor() as cursor:
        return [
            (table, month, name)
            for table in partitioned_tables(cursor)
            for month, name in sorted(partitions_of(cursor, table).items())
            if month < before
        ]


def partitions_archive(*, before: datetime.date, directory: Path, say=print) -> list[dict]:
    """Archive every month before `before` of every partitioned table into `directory`.

    First the rows of those months the default partition caught get partitions of their own (they
    are archived too). Then, if no app refuses (ARCHIVE_CHECKS), each month in its own transaction:
    DETACH, COPY to `<partition>.copy.gz`, the rows written checked against the partition's count,
    the manifest written (file, rows, sha256, columns), DROP, and the month recorded as archived.
    A failure rolls the month back into the table; a file without a manifest entry is never
    restored. Keeps: every row is either in the table or in a file the manifest names.
    """
    from cases.models import ArchivedPartition

    before = month_of(before)
    with connection.cursor() as cursor:
        for table, key in partitioned_tables(cursor).items():
            for month in _default_months(cursor, table, key):
                if month < before:
                    with transaction.atomic():
                        partition_create(cursor, table, key, month)
    plan = archive_plan(before=before)
    refusals = []
    with connection.cursor() as cursor:
        for table, month, name in plan:
            for check in ARCHIVE_CHECKS[table]:
                if reason := check(cursor, name, month):
                    refusals.append(f"{name}: {reason}")
    if refusals:
        raise ArchiveRefused("\n".join(refusals))
    directory.mkdir(parents=True, exist_ok=True)
    manifest = _manifest_read(directory)
    archived = []
    for table, month, name in plan:
        with transaction.atomic(), connection.cursor() as cursor:
            columns = _columns(cursor, table)
            _checks_now(cursor)
            cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
            cursor.execute(f"SELECT count(*) FROM {_q(name)}")
            count = cursor.fetchone()[0]
            path = directory / f"{name}.copy.gz"
            written = 0
            listed = ", ".join(_q(column) for column in columns)
            with gzip.open(path, "wb") as file, cursor.copy(f"COPY {_q(name)} ({listed}) TO STDOUT") as copy:
                for data in copy:
                    data = bytes(data)
                    written += data.count(b"\n")
                    file.write(data)
            if written != count:
                raise ArchiveRefused(f"{name}: {written} rows written to {path}, the partition holds {count}")
            entry = {
                "table": table,
                "month": f"{month:%Y-%m}",
                "partition": name,
                "file": path.name,
                "rows": count,
                "sha256": _sha256(path),
                "columns": columns,
            }
            manifest["partitions"] = [e for e in manifest["partitions"] if e["partition"] != name] + [entry]
            _manifest_write(directory, manifest)
            cursor.execute(f"DROP TABLE {_q(name)}")
            ArchivedPartition.objects.update_or_create(
                table=table, month=month, defaults={"rows": count, "sha256": entry["sha256"], "place": str(directory)}
            )
        archived.append(entry)
        say(f"{name}: {count:,} rows → {path}")
    return archived


def partitions_restore(*, directory: Path, say=print) -> list[dict]:
    """Attach the months the manifest in `directory` names back to their tables.

    Every file is checked against the manifest (sha256) before anything is changed. A month whose
    partition holds rows again is left alone (said, not restored twice); an empty one (made ahead
    of time) is replaced. Each month in its own transaction: COPY into a new table, the rows
    counted against the manifest, the default partition's rows of that month moved in, ATTACH."""
    from cases.models import ArchivedPartition

    manifest = _manifest_read(directory)
    if not manifest["partitions"]:
        raise ArchiveRefused(f"no {MANIFEST} naming a partition in {directory}")
    for entry in manifest["partitions"]:
        path = directory / entry["file"]
        if not path.exists() or _sha256(path) != entry["sha256"]:
            raise ArchiveRefused(f"{path}: missing or not the file archived (sha256 differs)")
    restored = []
    for entry in manifest["partitions"]:
        table, name = entry["table"], entry["partition"]
        month = datetime.date.fromisoformat(entry["month"] + "-01")
        with transaction.atomic(), connection.cursor() as cursor:
            key = partitioned_tables(cursor).get(table)
            if key is None:
                raise ArchiveRefused(f"{table} is not a partitioned table here")
            if _exists(cursor, name):
                cursor.execute(f"SELECT EXISTS (SELECT FROM {_q(name)})")
                if cursor.fetchone()[0]:
                    say(f"{name}: holds rows already, left as it is")
                    continue
                cursor.execute(f"DROP TABLE {_q(name)}")
            default = f"{table}_default"
            lower, upper = _bound(month), _bound(month_next(month))
            _checks_now(cursor)
            cursor.execute(f"LOCK TABLE {_q(default)} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            listed = ", ".join(_q(column) for column in entry["columns"])
            with (
                gzip.open(directory / entry["file"], "rb") as file,
                cursor.copy(f"COPY {_q(name)} ({listed}) FROM STDIN") as copy,
            ):
                while block := file.read(1 << 20):
                    copy.write(block)
            cursor.execute(f"SELECT count(*) FROM {_q(name)}")
            count = cursor.fetchone()[0]
            if count != entry["rows"]:
                raise ArchiveRefused(
                    f"{name}: {count} rows read from {entry['file']}, the manifest says {entry['rows']}"
                )
            columns = ", ".join(_q(column) for column in _columns(cursor, table))
            cursor.execute(
                f"WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(key)} >= %s AND {_q(key)} < %s "
                f"RETURNING {columns}) INSERT INTO {_q(name)} ({columns}) SELECT {columns} FROM moved",
                [lower, upper],
            )
            cursor.execute(
                f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM ('{lower}') TO ('{upper}')"
            )
            ArchivedPartition.objects.filter(table=table, month=month).delete()
        restored.append(entry)
        say(f"{name}: {entry['rows']:,} rows restored")
    return restored


def archived_until(table) -> datetime.date | None:
    """The first day after the last archived month of `table`, or None when none is archived:
    the raw rows before it are not all online (the dashboards keep their rollups of those days)."""
    from cases.models import ArchivedPartition

    last = ArchivedPartition.objects.filter(table=table).order_by("-month").values_list("month", flat=True).first()
    return month_next(last) if last else None
