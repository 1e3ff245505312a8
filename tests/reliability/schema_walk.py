"""What the leak matrix and the fuzzer share: the OpenAPI schema walked to build request bodies,
a digest of tables to tell whether a request left anything behind, a watch on the statements a
request sends, so that the digests are taken only after a request that may have written, and one
savepoint that every request meets the world in."""

import contextlib
import re
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from psycopg.pq import TransactionStatus

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def resolve(node):
    """A schema node with `$ref`, a single `allOf` and the first of a `oneOf` followed."""
    while True:
        if "$ref" in node:
            target = SCHEMA
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif len(node.get("allOf", ())) == 1:
            node = node["allOf"][0]
        elif node.get("oneOf"):
            node = node["oneOf"][0]
        else:
            return node


def example(node, text="x"):
    """A value of a schema node's type that passes its validation; `text` for a plain string."""
    node = resolve(node)
    if node.get("enum"):
        return next(value for value in node["enum"] if value not in ("", None))
    kind, fmt = node.get("type"), node.get("format")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return 1
    if fmt == "decimal":
        return "41.7"
    if fmt == "date-time":
        return (timezone.now() + timedelta(days=3)).isoformat()
    if fmt == "date":
        return (timezone.localdate() + timedelta(days=3)).isoformat()
    return text


def snapshot(tables) -> tuple:
    """Each table summed up, all in one query: its row count and the sum of a hash of each row's
    text (any insert, update or delete changes one or the other)."""
    summary = "count(*) || ':' || coalesce(sum(hashtext(t::text)::bigint), 0)"
    parts = ", ".join(f"(SELECT {summary} FROM {connection.ops.quote_name(table)} t)" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")
        return tuple(zip(tables, cursor.fetchone(), strict=True))


def changed_tables(baseline, after) -> list:
    """The tables whose digest differs from `baseline`; None for `after` means the request left
    the transaction broken."""
    if after is None:
        return ["(the transaction was left broken)"]
    return [table for (table, digest), (_same, before) in zip(after, baseline, strict=True) if digest != before]


# Statements that cannot change a row: reads (a FOR UPDATE only locks), savepoints, SHOW. The
# project defines no database function or trigger, so a SELECT writes nothing. A SET changes no
# row but outlives the request in the session unless rolled back (`Rewind`): it counts.
READ_ONLY = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|SHOW)\b", re.I)


@contextlib.contextmanager
def statements_that_may_write():
    """The statements sent meanwhile that may have changed a row (anything but those READ_ONLY
    matches, a statement that is not plain text included). A request that sent none changed
    nothing, so the digests of every table need not be taken after it: most refused requests are
    refused before they write (the input guard answers before any query). The one COPY of the
    project (the dashboards' rollups, dashboards/services.py) goes past the watch, but only after
    a DELETE that it sees (tests/reliability/test_fuzz.py checks the watch)."""
    writes = []

    def watch(execute, sql, params, many, context):
        if not (isinstance(sql, str) and READ_ONLY.match(sql)):
            writes.append(str(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        yield writes


class Rewind:
    """One savepoint for many requests, rolled back to only after a request that may have changed
    something, so that every request meets the same world.

    A savepoint per request cost three statements (SAVEPOINT, ROLLBACK TO, RELEASE) around each of
    thousands of requests, as many as the requests themselves send, while most change nothing (the
    reads, and the refusals made before anything is written). Here the savepoint is taken once
    and rolled back to (which keeps it) after a request that sent a statement that may write
    (`statements_that_may_write`, whose test shows it sees every write) or left the transaction
    failed, as Django (`needs_rollback`) or PostgreSQL (the status it reports after every
    statement, read without a round trip) sees it; the caller may ask for it too (a 5xx).

    It is taken anew when the atomic blocks around it changed: a test's own block, rolled back at
    the end of the test, takes a savepoint made inside it along."""

    def __init__(self):
        self._sid = None
        self._blocks = None

    def begin(self):
        """Before a request."""
        blocks = tuple(connection.savepoint_ids)
        if self._sid is None or blocks != self._blocks:
            self._sid, self._blocks = transaction.savepoint_create(), blocks

    @staticmethod
    def broken() -> bool:
        """Whether the transaction was left failed: nothing more can be read in it."""
        status = connection.connection.info.transaction_status
        return connection.needs_rollback or status == TransactionStatus.INERROR

    def end(self, *, wrote):
        """After a request and whatever was read of what it left: back to the savepoint if it
        may have changed anything."""
        if wrote or self.broken():
            transaction.savepoint_rollback(self._sid)
            connection.needs_rollback = False
