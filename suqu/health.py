"""What /healthz reports: the database, Redis, the age of the Celery heartbeat, and the read
replica's replication lag when there is one."""

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cases.replica import replica_state
from suqu.models import Heartbeat


def database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
        return {"ok": False, "error": str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)}


def redis_state():
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)}


def celery_state():
    try:
        beat = Heartbeat.objects.filter(name="celery").first()
    except Exception as exc:  # noqa: BLE001 - the database check reports the cause
        return {"ok": False, "error": f"cannot read the heartbeat: {exc}"}
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet: are the Celery worker and beat running?"}
    age = (timezone.now() - beat.at).total_seconds()
    state = {"last_heartbeat": beat.at.isoformat(), "age_seconds": round(age)}
    if age > settings.HEARTBEAT_MAX_AGE_SECONDS:
        return {
            "ok": False,
            "error": f"last heartbeat {round(age)} s ago: is the Celery worker or beat down?",
            **state,
        }
    return {"ok": True, **state}


def health_report():
    """ "ok" (200) when everything is fine; "down" (503) naming what is, when the database, Redis
    or the Celery heartbeat is; "degraded" (200) when only the read replica cannot be read or is
    more than REPLICA_MAX_LAG_SECONDS behind: the site works on, reading the primary, so a load
    balancer must keep sending it requests, while a monitor sees the replica named."""
    checks = {"database": database_state(), "redis": redis_state(), "celery": celery_state()}
    down = [name for name, state in checks.items() if not state["ok"]]
    degraded = []
    if settings.REPLICA_DATABASE:
        checks["replica"] = replica_state(settings.REPLICA_DATABASE)
        if not checks["replica"]["ok"]:
            degraded.append("replica")
    status = "down" if down else "degraded" if degraded else "ok"
    return {"status": status, "down": down, "degraded": degraded, "checks": checks}
