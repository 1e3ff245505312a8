"""Faults injected into the real servers: Redis stopped, a Celery worker killed mid-task,
PostgreSQL restarted under load. Each test starts the servers it breaks (tests/reliability/
conftest.py) and asserts what the platform promises (docs/operations.md, docs/escalation.md):
nothing a resident or a unit was told is lost or said twice, and nothing is half-written."""

import http.client
import json
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from kombu import Connection
from rest_framework.test import APIClient

from cases.models import Case
from escalation.models import Alert
from escalation.tasks import sweep_deadlines
from outbox.models import Message, SentSms
from outbox.services import RECOVER_AFTER, message_queue, messages_deliver_due, messages_recover
from outbox.tasks import deliver_due, recover
from routing.models import Assignment
from routing.tasks import sweep_registered
from suqu.celery import app
from tests.factories import UserFactory, member, routing_setup
from tests.reliability.gateway import Provider
from units.models import Membership

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A working Tuesday. routing_setup gives two working hours to sign for a case: one dispatched at
# 10:00 is due at 12:00, so by 15:00 its warning and its overdue alert have fallen due.
MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
AFTERNOON = datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
# Grid A of tests/factories.py::make_cast, where the dispatcher takes calls.
GRID_A = "210111001015001"


def wait_for(condition, what, seconds=30):
    """Poll until `condition()` holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def call_payload(grid, n):
    return {
        "channel": "hotline",
        "caller_name": "张三",
        "caller_phone": "13800138000",
        "description": f"小区门口垃圾堆放多日无人清理（第{n}次来电）",
        "category": "0201",
        "grid": grid,
    }


def committee_head(cast):
    """routing_setup, and a head of 金山社区居委会 with a phone and an email: an overdue alert
    texts and mails them through the outbox."""
    routing_setup(cast)
    head = UserFactory(username="t_committee_head", phone="13900000001", email="head@example.gov.cn")
    return member(head, cast.committee, role=Membership.Role.HEAD)


# --- Redis stopped ------------------------------------------------------------------------------


# A worker (a thread here, a process below) reads what the test commits: no test transaction.
@pytest.mark.django_db(transaction=True)
def test_calls_and_alerts_made_while_redis_is_down_are_dispatched_and_sent_once_when_it_is_back(
    cast, categories, dedicated_redis, mailoutbox, settings
):
    head = committee_head(cast)
    # Each call's case texts the caller an acknowledgement (notices/table.py); it needs the public
    # address for its link.
    settings.PUBLIC_URL = "https://suqu.example.gov.cn"
    api = APIClient()
    api.force_authenticate(cast.dispatcher)

    def log_call(n):
        response = api.post("/api/v1/calls/", call_payload(cast.grid_a.code, n), format="json")
        assert response.status_code == 201, response.content
        return Case.objects.get(number=response.json()["case"]["number"])

    def dispatched(cases):
        return lambda: Case.objects.filter(pk__in=[c.pk for c in cases], status="dispatched").count() == len(cases)

    def acknowledgements(cases):
        return {f"resident:{case.events.get(action='open').pk}:case_ack" for case in cases}

    def alerts_to_the_head(cases):
        return {
            f"notice:{case.events.get(action='overdue').pk}:overdue:{head.pk}:{channel}"
            for case in cases
            for channel in ("sms", "email")
        }

    def states():
        return dict(Message.objects.values_list("key", "state"))

    with (
        time_machine.travel(MORNING) as clock,
        # One worker throughout, as in production: it must find Redis again by itself.
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        before = [log_call(1), log_call(2)]
        wait_for(dispatched(before), "the worker dispatched the calls logged while Redis was up")
        wait_for(
            lambda: states() == dict.fromkeys(acknowledgements(before), "sent"),
            "the worker texted the callers of the calls logged while Redis was up",
        )

        dedicated_redis.stop()
        # Intake answers as usual: the cases are saved, only the requests to dispatch them and to
        # text their callers are lost.
        during = [log_call(3), log_call(4)]
        assert {case.status for case in during} == {"registered"}
        # The afternoon: the morning's cases missed their sign-for deadline. A sweep that was
        # already running writes the alerts and queues the head's SMS and email; the request to
        # send them cannot reach Redis.
        clock.move_to(AFTERNOON)
        sweep_deadlines()
        assert states() == {
            **dict.fromkeys(acknowledgements(before), "sent"),
            **dict.fromkeys(acknowledgements(during) | alerts_to_the_head(before), "pending"),
        }

        dedicated_redis.start()
        # The web process publishes to the restarted Redis without being restarted itself.
        after = [log_call(5)]
        wait_for(dispatched(after), "the worker dispatched a call logged after Redis came back")
        # What beat sends every minute (and every five) picks up what the outage left behind.
        sweep_registered.delay()
        deliver_due.delay()
        wait_for(dispatched(during), "the sweep dispatched the calls logged while Redis was down")
        wait_for(
            lambda: not Message.objects.exclude(state="sent").exists(),
            "the outbox sent the messages queued while Redis was down",
        )
        # The next minutes' beats (or a second beat) find nothing left to do: nothing waits, and
        # no deliverer left a message half-sent.
        assert sweep_deadlines.delay().get(timeout=20)["fired"] == 0
        assert sweep_registered.delay().get(timeout=20)["dispatched"] == 0
        assert deliver_due.delay().get(timeout=20) == {}
        assert recover.delay().get(timeout=20) == {}

    cases = before + during + after
    assert Case.objects.count() == len(cases)
    for case in cases:
        case.refresh_from_db()
        assert case.status == "dispatched"
        assert case.events.filter(action="dispatch").count() == 1
        assert Assignment.objects.filter(case=case).count() == 1
        assert case.calls.count() == 1
    assert sorted(Alert.objects.values_list("assignment__case__number", "limit", "stage")) == sorted(
        (case.number, "sign", stage) for case in before for stage in ("warning", "overdue")
    )
    # Every caller was texted once and the head told once of each overdue case, each message sent
    # with one attempt (no retry, no second send), and each arrived once.
    messages = list(Message.objects.all())
    assert sorted(m.key for m in messages) == sorted(acknowledgements(cases) | alerts_to_the_head(before))
    assert [(m.state, m.attempts) for m in messages] == [("sent", 1)] * len(messages)
    sms = sorted(m.pk for m in messages if m.channel == "sms")
    assert sorted(SentSms.objects.values_list("message_id", flat=True)) == sms
    emails = Counter(mail.extra_headers["Message-ID"] for mail in mailoutbox)
    assert emails == Counter(f"<outbox-{m.pk}@suqu>" for m in messages if m.channel == "email")


# --- A worker killed mid-task -------------------------------------------------------------------


def row_is_free(message):
    """Whether no transaction holds the outbox row's lock."""
    with transaction.atomic():
        free = Message.objects.select_for_update(skip_locked=True).filter(pk=message.pk).values("pk")
        return free.first() is not None


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_the_gateway_has_an_sms_is_replaced_and_the_sms_arrives_once(
    dedicated_redis, processes, settings, monkeypatch
):
    provider = Provider(processes.folder / "provider")
    provider.folder.mkdir()
    provider.hang(True)
    gateway = {"SMS_BACKEND": "tests.reliability.gateway.FileGateway", "SUQU_TEST_GATEWAY_DIR": str(provider.folder)}
    # This process asks the same vendor when it settles the message below, and its worker (the
    # replacement) sends through it.
    settings.SMS_BACKEND = gateway["SMS_BACKEND"]
    monkeypatch.setenv("SUQU_TEST_GATEWAY_DIR", gateway["SUQU_TEST_GATEWAY_DIR"])

    # A worker process of its own: it is killed.
    first = processes.celery_worker("first", redis_url=dedicated_redis.url, **gateway)
    # An emergency SMS goes at once, whatever the hour this test runs at (the workers keep the
    # real clock).
    to, text = "13800138000", "紧急：您反映的燃气泄漏已派单处置。"
    with transaction.atomic():
        message = message_queue(channel="sms", to=to, text=text, key="faults:killed-worker", emergency=True)
    wait_for(lambda: provider.texted() == [(message.pk, to, text)], "the first worker handed the SMS to the vendor")
    # The vendor has texted it and the worker waits for its answer. Its claim committed before it
    # called the vendor, and it holds no lock (nor a transaction) while it waits.
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("sending", 1)
    assert message.claimed_at is not None
    assert row_is_free(message)

    processes.kill(first)
    provider.hang(False)
    # Nothing to roll back: the row still says a deliverer has it, and nobody knows whether the
    # vendor took it.
    message.refresh_from_db()
    assert (message.state, message.attempts, message.provider_id) == ("sending", 1, "")

    # The replacement: a worker of this process on the same broker (what died is the first one's
    # process; the replacement only has to be another worker).
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # The killed task is not redelivered for an hour (the transport's visibility timeout). The
        # sweeps beat sends leave the SMS alone while its deliverer might still be waiting for the
        # answer: it is not pending, and its claim is younger than RECOVER_AFTER.
        assert deliver_due.delay().get(timeout=30) == {}
        assert recover.delay().get(timeout=30) == {}
        assert provider.texted() == [(message.pk, to, text)]

        # Ten minutes on, `outbox.recover` asks the vendor, which has the SMS: it is marked sent
        # and not handed over again.
        later = message.claimed_at + RECOVER_AFTER + timedelta(seconds=1)
        with time_machine.travel(later, tick=False):
            assert messages_recover() == {"found": 1}
            assert messages_recover() == {}
            assert messages_deliver_due() == {}
        message.refresh_from_db()
        assert (message.state, message.attempts, message.provider_id, message.sent_at) == (
            "sent",
            1,
            f"file-{message.pk}",
            later,
        )
        assert deliver_due.delay().get(timeout=30) == {}

        # An hour later the transport hands the killed worker's task out again (acks_late kept
        # it); it finds the SMS sent and does nothing.
        with Connection(dedicated_redis.url, transport_options={"visibility_timeout": 0}) as broker:
            channel = broker.default_channel
            unacked = [json.loads(payload) for payload in channel.client.hvals(channel.unacked_key)]
            assert [body["headers"]["task"] for body, _exchange, _key in unacked] == ["outbox.deliver_message"]
            task_id = unacked[0][0]["headers"]["id"]
            channel.qos.restore_visible(num=10)
        assert app.AsyncResult(task_id).get(timeout=30) == "skipped"
    # The resident got the SMS once.
    assert provider.texted() == [(message.pk, to, text)]


# --- PostgreSQL restarted under load ------------------------------------------------------------


@dataclass
class Answer:
    key: str
    status: int | None  # None: no HTTP answer at all (a dropped or refused connection)
    retry_after: str | None
    number: str | None
    error: str = ""


class Caller(threading.Thread):
    """An integration logging calls one after another, each with its own Idempotency-Key; a 503
    (or no answer) is retried with the same key until it is answered 201."""

    def __init__(self, port, token, payload, stop):
        super().__init__(daemon=True)
        self.port, self.token, self.payload, self.stop = port, token, payload, stop
        self.answers: list[Answer] = []

    def post(self, key) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                "POST",
                "/api/v1/calls/",
                body=json.dumps(self.payload),
                headers={
                    "Authorization": f"Token {self.token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            response = conn.getresponse()
            body = response.read()
        except OSError as error:
            return Answer(key, None, None, None, repr(error))
        finally:
            conn.close()
        number = json.loads(body)["case"]["number"] if response.status == 201 else None
        return Answer(key, response.status, response.getheader("Retry-After"), number)

    def run(self):
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                answer = self.post(key)
                self.answers.append(answer)
                if answer.status not in (503, None):
                    break
                time.sleep(0.1)

    def created(self, since=0):
        return sum(answer.status == 201 for answer in self.answers[since:])


def test_calls_logged_while_postgresql_restarts_are_answered_201_or_503_and_none_is_half_written(
    dedicated_redis, throwaway_postgres, processes
):
    # No test database: everything here runs on the test's own cluster (and no flush of the test
    # database follows).
    password = secrets.token_urlsafe(16)
    throwaway_postgres.load_world(password)
    _web, port = processes.gunicorn(
        database_url=throwaway_postgres.url,
        redis_url=dedicated_redis.url,
        # A request waits at most 2 s for a database connection before it answers 503.
        env={"DB_POOL_TIMEOUT": "2"},
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/api/v1/auth/token/",
        body=json.dumps({"username": "t_dispatcher", "password": password}),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 200, response.read()
    token = json.loads(response.read())["token"]
    conn.close()

    stop = threading.Event()
    callers = [Caller(port, token, call_payload(GRID_A, n), stop) for n in range(3)]
    for caller in callers:
        caller.start()
    try:
        wait_for(lambda: sum(c.created() for c in callers) >= 6, "calls were logged before the restart")
        throwaway_postgres.stop()
        wait_for(
            lambda: sum(a.status != 201 for c in callers for a in c.answers) >= 3,
            "requests failed while PostgreSQL was down",
        )
        throwaway_postgres.start()
        marks = [len(c.answers) for c in callers]
        wait_for(
            lambda: all(c.created(since=mark) >= 2 for c, mark in zip(callers, marks, strict=True)),
            "every client logged calls again after the restart",
        )
    finally:
        stop.set()
        for caller in callers:
            caller.join(90)

    answers = [answer for caller in callers for answer in caller.answers]
    assert [a.error for a in answers if a.status is None] == [], "a connection was dropped or refused"
    statuses = Counter(a.status for a in answers)
    assert set(statuses) <= {201, 503}, statuses
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, "no request fell into the restart"
    assert all(a.retry_after for a in unavailable), "a 503 without Retry-After"

    with psycopg.connect(throwaway_postgres.url) as db:
        cases = db.execute(
            """
            SELECT c.number,
                   (SELECT count(*) FROM cases_caseevent e WHERE e.case_id = c.id AND e.action = 'open'),
                   (SELECT count(*) FROM intake_call k WHERE k.case_id = c.id)
            FROM cases_case c
            """
        ).fetchall()
        calls = db.execute(
            "SELECT k.idempotency_key, c.number FROM intake_call k JOIN cases_case c ON c.id = k.case_id"
        ).fetchall()
    # No half-written case: each has its first event and its call.
    assert cases, "no case was written"
    assert [row for row in cases if row[1:] != (1, 1)] == []
    # Every call a client was told of exists, under the number it was told; and no key made two
    # cases (a 503 retried with its key finds the call that had been written, if any).
    told = {a.key: a.number for a in answers if a.status == 201}
    assert len(calls) == len(told)
    assert dict(calls) == told
