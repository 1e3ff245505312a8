"""The call form's confirmation says what the call became, where the case goes and by when, and
offers to log the next call."""

import pytest
import time_machine
from django.contrib.messages import get_messages

from tests.factories import english, routing_setup
from tests.handling.helpers import TUESDAY
from tests.intake.test_views_call import call_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    with time_machine.travel(TUESDAY, tick=False):
        yield cast


def said(client, response):
    page = client.get(response["Location"])
    return page, [str(message) for message in get_messages(page.wsgi_request)]


def test_a_new_case_says_which_unit_the_rules_give_it_and_by_when(client, world):
    english(client).force_login(world.gridworker)
    response = client.post("/intake/new/", call_form())
    page, messages = said(client, response)
    (message,) = messages
    # Tuesday 10:00: sign-for within 2 working hours, resolution within 7 working days.
    assert "By the routing rules it goes to 金山社区居委会" in message
    assert "to be signed for by 2026-03-10 12:00 and resolved by 2026-03-19 10:00" in message
    assert 'href="/intake/new/" id="log-another">Log another call</a>' in page.text
    assert response["Location"].startswith("/cases/")  # the case itself, with its state


def test_a_case_without_a_rule_says_the_dispatchers_will_choose(client, world):
    english(client).force_login(world.gridworker)
    response = client.post("/intake/new/", call_form(category="1301", description="咨询居住证办理"))
    _page, (message,) = said(client, response)
    assert "No routing rule covers it: a dispatcher of the district centre will choose the unit." in message


def test_a_repeated_submission_says_so_and_offers_the_next_call_too(client, world):
    english(client).force_login(world.gridworker)
    response = client.post("/intake/new/", call_form())
    again = client.post("/intake/new/", call_form())
    page, messages = said(client, again)
    assert response["Location"] == again["Location"]
    assert messages[-1].startswith("This call was already saved as case")
    assert page.text.count('id="log-another"') == 2  # both answers are shown on the case page
