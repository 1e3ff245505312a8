import socket
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from suqu.tasks import heartbeat

pytestmark = pytest.mark.django_db


def unused_redis_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_everything_up_answers_200(client):
    # The clock stands still between the heartbeat and the request, so that the age read is the
    # heartbeat's own (0 s) however long a loaded machine takes between the two.
    with time_machine.travel(timezone.now(), tick=False):
        heartbeat()
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["celery"]["age_seconds"] == 0


def test_redis_unreachable_answers_503_naming_redis(client):
    heartbeat()
    with override_settings(REDIS_URL=unused_redis_url()):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis"]
    assert body["checks"]["redis"]["error"]


def test_no_heartbeat_yet_answers_503_naming_celery(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["celery"]
    assert "worker and beat" in response.json()["checks"]["celery"]["error"]


def test_a_stale_heartbeat_answers_503(client, settings):
    heartbeat()
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 5)):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["celery"]


def test_healthz_needs_no_login_and_is_never_cached(client):
    heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
