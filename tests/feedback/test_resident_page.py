"""The resident's own page `/r/<token>/`: no account, one answer per link, and a page that says so
(410 Gone) when the link no longer works."""

import pytest
from django.test import Client
from django.utils import timezone

from cases.models import Case, ResidentLink
from cases.services import resident_link_issue
from feedback import services
from tests.feedback.helpers import resolved_case

pytestmark = pytest.mark.django_db

GOOD = {"resolved": "1", "satisfaction": "satisfied", "comment": "处理得很快，谢谢"}


@pytest.fixture
def link(world):
    case = resolved_case(world)
    return case, f"/r/{resident_link_issue(case=case)}/"


def errors_of(response):
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def test_the_page_shows_the_case_and_the_units_result_without_login_or_navigation(client, link):
    case, url = link
    response = client.get(url)
    assert response.status_code == 200
    assert f'<span id="case-number">{case.number}</span>' in response.text
    assert f'<h2 class="h5" id="case-title">{case.title}</h2>' in response.text
    assert '<p class="text-prewrap mb-0" id="result-note">已清理完毕</p>' in response.text
    assert 'id="nav-main"' not in response.text and "13800138000" not in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    assert "no-store" in response["Cache-Control"]


def test_a_resident_answers_once_and_the_link_then_says_it_was_used(client, link):
    case, url = link
    response = client.post(url, GOOD)
    assert response.status_code == 302 and response["Location"] == "/r/thanks/"
    thanks = client.get("/r/thanks/")
    assert thanks.status_code == 200 and 'id="thanks"' in thanks.text
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.SATISFIED
    event = case.events.get(action="callback")
    assert (event.actor, event.note, event.data["channel"]) == (None, "处理得很快，谢谢", "link")
    for again in (client.get(url), client.post(url, {**GOOD, "satisfaction": "unsatisfied"})):
        assert again.status_code == 410
        assert 'id="link-gone"' in again.text
    assert case.events.filter(action="callback").count() == 1


def test_a_negative_answer_reopens_the_case(client, link, world):
    case, url = link
    assert client.post(url, {"resolved": "0", "satisfaction": "unsatisfied", "comment": "没有清理"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


def test_an_expired_link_answers_410(client, link, clock):
    case, url = link
    clock.shift(8 * 24 * 3600)
    assert client.get(url).status_code == 410
    response = client.post(url, GOOD)
    assert response.status_code == 410 and 'id="link-gone-message"' in response.text
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED


def test_an_unknown_link_answers_410(client, world):
    assert client.get("/r/not-a-real-token/").status_code == 410
    assert client.post("/r/not-a-real-token/", GOOD).status_code == 410


def test_a_link_of_a_case_the_centre_already_called_back_answers_410(client, link, world):
    case, url = link
    services.case_callback(case=case, actor=world.dispatcher, reached=True, resolved=True, satisfaction="satisfied")
    response = client.get(url)
    assert response.status_code == 410 and 'id="link-gone-message"' in response.text


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"resolved": "1", "satisfaction": "very"}, "satisfaction"),
        ({"resolved": "1"}, "satisfaction"),
        ({"satisfaction": "satisfied"}, "resolved"),
        ({"resolved": "maybe", "satisfaction": "satisfied"}, "resolved"),
    ],
)
def test_a_bad_answer_is_a_form_error_and_the_link_still_works(client, link, answer, field):
    case, url = link
    response = client.post(url, {**answer, "comment": "我的意见"})
    assert response.status_code == 200
    assert list(errors_of(response)) == [field]
    assert f'data-error-for="{field}"' in response.text
    assert "我的意见" in response.text  # what was typed is kept
    assert ResidentLink.objects.filter(case=case, used_at__isnull=True, expires_at__gt=timezone.now()).count() == 1
    assert not case.events.filter(action="callback").exists()
    assert client.post(url, GOOD).status_code == 302


def test_an_anonymous_post_passes_the_csrf_check_with_the_cookie_set_by_the_page(link):
    _case, url = link
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url, GOOD).status_code == 403  # no cookie, no token
    page = browser.get(url)
    token = browser.cookies["csrftoken"].value
    assert page.status_code == 200 and token
    assert browser.post(url, {**GOOD, "csrfmiddlewaretoken": token}).status_code == 302
