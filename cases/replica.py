"""Reads from a streaming replica (DATABASE_REPLICA_URL); writes, and the pages that act, on the primary.

How a query finds its server (docs/operations.md, "Read replica"):

- `ReplicaRouter` sends every write to the primary ("default"), and every read too, except inside
  a replica scope (`replica_reads()`), where reads go to the replica.
- Only read-only work opens a scope: the views marked `@reads_replica` (the dashboards, the case
  list, the metrics) on GET and HEAD, and the export jobs' Celery task. A POST, PUT, PATCH or
  DELETE, every service that writes or locks, the rollups and the API never do.
- Read your own writes: `ReadYourWritesMiddleware` sets a signed cookie on the answer to every
  POST, PUT, PATCH and DELETE; for REPLICA_STICKY_SECONDS after it, that browser's reads stay on
  the primary, so a person who just acted sees what they did. Its timestamp is signed, so the
  window cannot be stretched by keeping the cookie. A read inside a transaction on the primary
  stays on the primary as well (it must see that transaction's writes).
- A replica that cannot be reached, or that is more than REPLICA_MAX_LAG_SECONDS behind, is not
  used: each process looks at it at most every CHECK_SECONDS, and a marked view that fails on it
  is answered again from the primary. The site keeps working on the primary alone; /healthz says
  the replica is degraded.

Without DATABASE_REPLICA_URL there is no replica alias and everything reads the primary.
"""

import contextvars
import logging
import time
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

# How often each process looks at the replica's state (reachable, how far behind) for routing.
CHECK_SECONDS = 5
# The cookie of read-your-own-writes; also its signing salt.
WROTE_COOKIE = "suqu_wrote"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A server that cannot be reached, as suqu.middleware.DatabaseUnavailableMiddleware counts it.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

# The alias reads go to in the current scope (a request's view, a task); None: the primary.
_reading = contextvars.ContextVar("suqu_replica_reading", default=None)
# This process's last look at the replica: {"at": time.time(), "usable": bool}.
_seen = {}


class ReplicaRouter:
    """Reads inside a replica scope from the replica, everything else from the primary."""

    def db_for_read(self, model, **hints):
        alias = _reading.get()
        # A read inside a transaction on the primary must see that transaction's writes.
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        # Explicit, not None: a row read from the replica is saved to the primary all the same.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: a row from either may point at a row from the other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A standby is read-only; it receives the schema through replication.
        return db == DEFAULT_DB_ALIAS


def replica_state(alias) -> dict:
    """The replica's state as /healthz shows it: reachable or not, whether it is a standby, and
    how far its replay is behind the primary in seconds and in bytes of WAL.

    The seconds: 0 when it receives the primary's stream and has replayed all it received, else
    the age of the last transaction it replayed (an idle primary sends nothing, so the age alone
    would grow while nothing is behind; a replica whose stream broke has replayed all it received
    but falls behind from then on). The bytes: the primary's current WAL position less the
    replica's replayed one (its insert position: with synchronous_commit off a commit may still
    sit in the WAL buffers, not yet written). pg_stat_wal_receiver has a row while the stream's process runs (its
    pid is shown to any user). The clock is read as the statement runs (`clock_timestamp()`):
    `now()` is when the connection's transaction began, which may come before the last replay."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
                " AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) THEN 0"
                " ELSE greatest(0, coalesce(extract(epoch FROM"
                " clock_timestamp() - pg_last_xact_replay_timestamp()), 0)) END"
            )
            in_recovery, replayed, seconds = cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
        return {"ok": False, "error": _first_line(exc)}
    state = {"ok": True, "in_recovery": in_recovery, "lag_seconds": round(float(seconds), 3), "lag_bytes": 0}
    if replayed is not None:
        try:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", [replayed])
                state["lag_bytes"] = max(0, int(cursor.fetchone()[0]))
        except Exception:  # noqa: BLE001 - the database check of /healthz reports the primary
            state["lag_bytes"] = None
    if state["lag_seconds"] > settings.REPLICA_MAX_LAG_SECONDS:
        state.update(
            ok=False,
            error=f"{state['lag_seconds']:.0f} s behind the primary (more than REPLICA_MAX_LAG_SECONDS="
            f"{settings.REPLICA_MAX_LAG_SECONDS}): reads are served by the primary",
        )
    return state


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def replica_usable() -> bool:
    """Whether reads may go to the replica now: one is configured, it answered at this process's
    last look (at most CHECK_SECONDS ago), and it was not too far behind."""
    alias = settings.REPLICA_DATABASE
    if not alias:
        return False
    now = time.time()
    if not _seen or not 0 <= now - _seen["at"] < CHECK_SECONDS:
        state = replica_state(alias)
        if not state["ok"]:
            logger.warning("read replica not used: %s", state["error"])
        _seen.update(at=now, usable=state["ok"])
    return _seen["usable"]


def replica_failed():
    """A read on the replica failed: the primary serves reads until the next look."""
    _seen.update(at=time.time(), usable=False)


def replica_forget():
    """Look at the replica afresh on the next read (after its settings changed: the tests)."""
    _seen.clear()


@contextmanager
def replica_reads():
    """Reads inside go to the replica when it is usable, else to the primary; writes always go to
    the primary. Only for work that reads and does not need what it wrote itself a moment ago."""
    alias = settings.REPLICA_DATABASE if replica_usable() else None
    token = _reading.set(alias)
    try:
        yield alias
    finally:
        _reading.reset(token)


def wrote_recently(request) -> bool:
    """Whether this browser sent a POST, PUT, PATCH or DELETE in the last REPLICA_STICKY_SECONDS."""
    value = request.get_signed_cookie(
        WROTE_COOKIE, default=None, salt=WROTE_COOKIE, max_age=settings.REPLICA_STICKY_SECONDS
    )
    return value is not None


def reads_replica(view):
    """Mark a view that only reads (a dashboard, a list): on GET and HEAD its reads may come from
    the replica, unless this browser acted a moment ago (read your own writes)."""

    @wraps(view)
    def marked(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or wrote_recently(request) or not replica_usable():
            return view(request, *args, **kwargs)
        # The session and the signed-in user come from the primary, before the scope opens: a
        # session written by the previous answer may not have reached the replica yet.
        request.user.is_authenticated  # noqa: B018 - loads the lazy user
        try:
            with replica_reads():
                response = view(request, *args, **kwargs)
                # A TemplateResponse renders after the view returns: inside the scope, here.
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
            return response
        except DATABASE_UNAVAILABLE:
            # The replica went away mid-read (or the primary did: then this fails again, 503).
            logger.warning("read replica failed during %s; answering from the primary", request.path, exc_info=True)
            replica_failed()
            return view(request, *args, **kwargs)

    return marked


class ReadYourWritesMiddleware:
    """After a POST, PUT, PATCH or DELETE, this browser reads from the primary for
    REPLICA_STICKY_SECONDS (a signed, timestamped cookie), so it sees what it just did."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.REPLICA_DATABASE and request.method not in SAFE_METHODS:
            response.set_signed_cookie(
                WROTE_COOKIE,
                "1",
                salt=WROTE_COOKIE,
                max_age=settings.REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
