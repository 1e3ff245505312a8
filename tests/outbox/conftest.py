import socket

import pytest

from suqu.celery import app
from tests.outbox.backends import Provider


@pytest.fixture
def provider(settings):
    """SMS go to the idempotent test gateway, which starts empty and up."""
    settings.SMS_BACKEND = "tests.outbox.backends.IdempotentGateway"
    Provider.accepted, Provider.handed_over, Provider.down, Provider.crash_after_accepting = {}, 0, False, False
    return Provider


@pytest.fixture
def redis_down():
    """Point the real Celery client at a port where nothing listens; `redis_down.restore()` (or
    the end of the test) brings the real Redis back."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    original = app.conf.broker_url

    def point(url):
        app.conf.broker_url = url
        # The pool of the new URL (kombu keeps one per URL): the old one would hand out
        # connections to the old server. The real server's pool is left open for the way back.
        app._pool = None
        app.amqp._producer_pool = None

    class Switch:
        def restore(self):
            point(original)

    point(dead)
    switch = Switch()
    yield switch
    switch.restore()
