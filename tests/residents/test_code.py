"""Confirming a mobile number with a one-time SMS code: the right code opens the pages for this
browser, a wrong, expired or used code says so, too many tries or too many codes make the
number (or the address) wait, with 429."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from outbox.models import Message
from residents.models import Attempt, PhoneCode
from tests.factories import english
from tests.residents.helpers import PHONE, sent_code

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NIGHT = datetime(2026, 3, 10, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def ask(client, phone=PHONE, **extra):
    return client.post("/resident/", {"phone": phone}, **extra)


def enter(client, code):
    return client.post("/resident/code/", {"code": code})


def errors(response):
    return response.content.decode()


def test_the_right_code_confirms_the_number_for_this_browser(client):
    with time_machine.travel(NIGHT, tick=False):
        response = ask(client, phone="139 1234 5678")
        assert response.status_code == 302 and response["Location"] == "/resident/code/"
        message = Message.objects.get(to=PHONE, template="resident_code")
        # Sent at night too: the resident is waiting for it.
        assert message.emergency and message.next_attempt_at <= timezone.now()
        code = sent_code()
        assert code not in PhoneCode.objects.get().code_hash  # only a keyed hash is kept
        assert client.get("/resident/new/").status_code == 302  # not yet confirmed
        response = enter(client, code)
        assert response.status_code == 302 and response["Location"] == "/resident/new/"
        assert client.get("/resident/new/").status_code == 200
        # The code works once.
        assert enter(client, code).status_code == 302  # nothing pending any more: back to the start


def test_a_wrong_code_says_how_many_tries_are_left_and_the_right_one_still_works(client):
    english(client)
    ask(client)
    right = sent_code()
    wrong = "000000" if right != "000000" else "111111"
    response = enter(client, wrong)
    assert response.status_code == 200 and "The code is not right. 4 tries left." in errors(response)
    assert "is 6 digits" in errors(enter(client, "12ab"))
    assert enter(client, right)["Location"] == "/resident/new/"


def test_an_expired_code_is_refused_and_a_new_one_works(client):
    english(client)
    with time_machine.travel(NOON, tick=False) as clock:
        ask(client)
        old = sent_code()
        clock.shift(timedelta(minutes=5, seconds=1))
        response = enter(client, old)
        assert response.status_code == 200 and "The code has expired. Ask for a new one." in errors(response)
        assert ask(client).status_code == 302
        assert enter(client, sent_code())["Location"] == "/resident/new/"


def test_five_wrong_tries_kill_the_code_and_the_number_waits_fifteen_minutes(client):
    english(client)
    with time_machine.travel(NOON, tick=False) as clock:
        ask(client)
        right = sent_code()
        wrong = "000000" if right != "000000" else "111111"
        answers = [enter(client, wrong) for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
        assert "Ask for a new code after 12:15" in errors(answers[-1])
        # Dead: even the right code is refused now, and no new code until the wait is over.
        assert enter(client, right).status_code == 429
        again = ask(client)
        assert again.status_code == 429 and "after 12:15" in errors(again)
        assert int(again["Retry-After"]) == 15 * 60
        assert PhoneCode.objects.get().tries == 5
        clock.shift(timedelta(minutes=15))
        assert ask(client).status_code == 302
        assert enter(client, sent_code())["Location"] == "/resident/new/"


def test_codes_to_one_number_wait_a_minute_between_and_stop_after_five_an_hour(client):
    english(client)
    with time_machine.travel(NOON, tick=False) as clock:
        assert ask(client).status_code == 302
        soon = ask(client)
        assert soon.status_code == 429 and "You may ask for another one after 12:01" in errors(soon)
        for _ in range(4):
            clock.shift(timedelta(seconds=61))
            assert ask(client).status_code == 302
        clock.shift(timedelta(seconds=61))
        sixth = ask(client)
        assert sixth.status_code == 429 and "This number has reached its limit" in errors(sixth)
        assert "after 13:00" in errors(sixth)  # an hour after the first
        assert Message.objects.filter(to=PHONE, template="resident_code").count() == 5


def test_codes_from_one_address_are_limited_across_numbers(client):
    english(client)
    now = timezone.now()
    Attempt.objects.bulk_create(
        Attempt(kind=Attempt.Kind.CODE, phone=f"1380000{n:04d}", ip="10.0.0.9", at=now - timedelta(minutes=1))
        for n in range(30)
    )
    refused = ask(client, REMOTE_ADDR="10.0.0.9")
    assert refused.status_code == 429 and "Too many requests from your network" in errors(refused)
    assert not Message.objects.filter(to=PHONE).exists()
    assert ask(client, REMOTE_ADDR="10.0.0.10").status_code == 302  # another address is not held


def test_a_landline_or_a_short_number_is_a_form_error(client):
    english(client)
    for number in ("024-12345678", "1391234567", ""):
        response = ask(client, phone=number)
        assert response.status_code == 200 and 'data-error-for="phone"' in errors(response)
    assert not Message.objects.exists()


def test_the_confirmation_lasts_thirty_minutes(client):
    with time_machine.travel(NOON, tick=False) as clock:
        ask(client)
        enter(client, sent_code())
        clock.shift(timedelta(minutes=29))
        assert client.get("/resident/mine/").status_code == 200
        clock.shift(timedelta(minutes=2))
        response = client.get("/resident/mine/")
        assert response.status_code == 302 and response["Location"] == "/resident/?next=mine"
