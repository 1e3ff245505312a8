"""What /healthz reports: the database, Redis, and the age of the Celery heartbeat."""

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

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
    checks = {"database": database_state(), "redis": redis_state(), "celery": celery_state()}
    down = [name for name, state in checks.items() if not state["ok"]]
    return {"status": "ok" if not down else "down", "down": down, "checks": checks}
