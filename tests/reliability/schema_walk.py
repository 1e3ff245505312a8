"""What the leak matrix and the fuzzer share: the OpenAPI schema walked to build request bodies,
and a digest of tables to tell whether a request left anything behind."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

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
