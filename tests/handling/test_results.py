"""Every workspace action ends on a page that shows what it did: the new state, the new deadline
and the next step; the timeline names each decision."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from routing import dispatch
from tests.factories import english
from tests.handling.helpers import dispatched_case, lead, signed_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    from tests.factories import routing_setup

    routing_setup(cast)
    return cast


def workspace(case):
    return f"/handling/cases/{case.number}/"


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def post(client, case, action, data=None):
    response = client.post(f"{workspace(case)}{action}/", data or {}, HTTP_REFERER=workspace(case))
    assert response.status_code == 302, response
    page = client.get(response["Location"], follow=True)
    return page, [str(message) for message in get_messages(page.wsgi_request)]


def timeline(page):
    """(what, words) of each entry of the page's timeline."""
    items = re.findall(r'<li class="list-group-item" data-action="[^"]+">(.*?)</li>', page.text, re.S)
    entries = []
    for item in items:
        label = re.search(r'<span class="fw-semibold">(.*?)</span>', item).group(1)
        words = re.search(r"<div class=\"text-body-secondary\"[^>]*>(.*?)</div>", item, re.S)
        entries.append((label, words.group(1).strip() if words else ""))
    return entries


def asked(world, case, days=2):
    until = lead(case).resolve_due + timedelta(days=days)
    dispatch.extension_request(case=case, actor=world.community_clerk, until=until, reason="需等待维修材料")
    return until


def test_a_dispatcher_approving_an_extension_sees_the_new_deadline_and_the_next_request(client, world, clock):
    case = signed_case(world)
    until = asked(world, case)
    other = signed_case(world, description="另一处垃圾")
    asked(world, other)
    english(client).force_login(world.dispatcher)
    page, said = post(client, case, "extend/decide", {"approve": "1", "note": "同意"})
    assert said == [f"Extension approved: {case.number} must now be resolved by {local(until)}."]
    assert page.request["PATH_INFO"] == workspace(case)
    decided = re.search(r'id="extension-decided" data-decision="approved">(.*?)</div>', page.text, re.S).group(1)
    assert local(until) in decided
    # The next step: the one request still waiting, one click away.
    step = re.search(r'id="next-step">(.*?)</p>', page.text, re.S).group(1)
    assert 'href="/routing/console/extensions/"' in step and "Extension requests waiting: 1" in step
    assert timeline(page)[-2:] == [
        ("extension asked", f"until {local(until)}; 需等待维修材料"),
        ("extension approved", f"new resolution deadline {local(until)}; 同意"),
    ]


def test_a_refused_extension_is_named_on_the_timeline_and_the_deadline_stays(client, world, clock):
    case = signed_case(world)
    before = lead(case).resolve_due
    until = asked(world, case)
    english(client).force_login(world.street_clerk)
    page, said = post(client, case, "extend/decide", {"approve": "0", "note": "材料可先借用"})
    assert said == [f"Extension refused: {case.number} must still be resolved by {local(before)}."]
    assert lead(case).resolve_due == before
    assert 'data-decision="refused"' in page.text
    assert timeline(page)[-1] == (
        "extension refused",
        f"{local(until)} was not granted; the deadline stays; 材料可先借用",
    )
    assert 'href="/handling/queue/"' in re.search(r'id="next-step">(.*?)</p>', page.text, re.S).group(1)
    # The lead unit reads the same decision on its own page.
    client.force_login(world.community_clerk)
    assert 'id="extension-decided" data-decision="refused"' in client.get(workspace(case)).text


def test_recording_a_contact_shows_what_was_agreed_and_opens_the_resolution(client, world, clock):
    case = signed_case(world)
    english(client).force_login(world.community_clerk)
    page, said = post(client, case, "contact", {"method": "phone", "agreed": "明早清运"})
    due = local(lead(case).resolve_due)
    assert said == [f"Contact recorded. Next: resolve the case by {due}."]
    done = re.search(r'id="contact-done">(.*?)</div>', page.text, re.S).group(1)
    assert "明早清运" in done and due in done
    # The contact form folds away, the resolution's opens.
    assert re.search(r'<details class="card mb-2" id="contact-panel">', page.text)
    assert re.search(r'<details class="card mb-2" open id="resolve-panel">', page.text)


def test_signing_for_says_when_the_resident_must_be_contacted(client, world, clock):
    case = dispatched_case(world)
    english(client).force_login(world.community_clerk)
    _page, said = post(client, case, "sign")
    assert said == [f"Signed for. Next: contact the resident by {local(lead(case).contact_due)}."]


def test_the_case_page_shows_the_description_once(client, world, clock):
    text = (
        "东门小区门口垃圾堆放多日无人清理，夏天气味很大，老人孩子出门都要绕行，"
        "居民多次向物业反映未果，希望尽快派人处理并加强巡查。"
    )
    case = dispatched_case(world, description=text)
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{case.number}/").text
    # The summary (the description's start, cut short) only names the section for screen readers.
    hidden = re.search(r'<h2 class="visually-hidden" id="summary-title">[^<]*</h2>', page)
    assert hidden is not None
    shown = page.replace(hidden.group(0), "")
    assert shown.count(text) == 1  # not again as the one call's text
    assert shown.count(text[:30]) == 1  # nor as a visible summary


def supervised(world, case):
    from escalation.models import Supervision

    return Supervision.objects.create(
        case=case, assignment=lead(case), unit=world.street_office, level=1, started_at=timezone.now()
    )


def test_a_supervisors_new_deadline_is_said_and_named_on_the_timeline(client, world, clock):
    case = signed_case(world)
    supervised(world, case)
    before = lead(case).resolve_due
    english(client).force_login(world.street_clerk)
    response = client.post(
        f"/routing/supervision/{case.number}/deadline/",
        {"until": "2026-03-13 17:00", "reason": "周五前必须清完"},
        HTTP_REFERER="/routing/supervision/",
    )
    page = client.get(response["Location"])
    assert [str(m) for m in get_messages(page.wsgi_request)] == [
        f"Case {case.number} must now be resolved by 2026-03-13 17:00."
    ]
    entry = timeline(client.get(f"/cases/{case.number}/"))[-1]
    assert entry == (
        "new deadline set by the supervisor",
        f"resolution deadline {local(before)} → 2026-03-13 17:00; 周五前必须清完",
    )


def test_a_supervisors_reassignment_says_where_the_case_went_and_by_when(client, world, clock):
    case = signed_case(world)
    supervised(world, case)
    english(client).force_login(world.street_clerk)
    response = client.post(
        f"/routing/supervision/{case.number}/reassign/",
        {"unit": world.street_office.code, "reason": "街道直接办理"},
        HTTP_REFERER="/routing/supervision/",
    )
    page = client.get(response["Location"])
    (said,) = [str(m) for m in get_messages(page.wsgi_request)]
    assert said == f"Case {case.number} went to 解放街道办事处; it signs for it by {local(lead(case).sign_due)}."
