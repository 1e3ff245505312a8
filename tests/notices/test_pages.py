"""The inbox's filters and badge, and a person's notice settings."""

import re
from datetime import time

import pytest

from notices.models import Notification, Preference, QuietHours, RoleDefault
from routing import dispatch
from routing.models import ReturnReason
from tests.factories import routing_setup
from tests.handling.helpers import signed_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def test_the_inbox_filters_by_kind_and_by_unread_and_costs_no_query_per_row(client, world, django_assert_num_queries):
    for _n in range(3):
        case = signed_case(world)
        dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.OTHER, note="不属于本单位")
    client.force_login(world.community_clerk)
    page = client.get("/inbox/?kind=assigned")
    assert page.text.count('data-kind="assigned"') == 3 and 'data-kind="returned"' not in page.text
    client.force_login(world.dispatcher)
    first = Notification.objects.filter(user=world.dispatcher).order_by("id").first()
    client.post("/inbox/read/", {"id": first.pk})
    assert client.get("/inbox/?show=unread").text.count('data-unread="1"') == 2
    assert 'data-unread="1"' not in client.get("/inbox/?show=read").text
    # The session, the user, postings for the navigation, the unread count, the page's count and
    # its rows with their cases: the same for three rows as for thirty.
    with django_assert_num_queries(6):
        client.get("/inbox/")


def test_marking_read_keeps_the_filter_and_drops_anything_else_in_next(client, world):
    case = signed_case(world)
    dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.OTHER, note="不属于本单位")
    client.force_login(world.dispatcher)
    notice = Notification.objects.get(user=world.dispatcher)
    answer = client.post("/inbox/read/", {"id": notice.pk, "next": "kind=returned&evil=https://x.example"})
    assert answer["Location"] == "/inbox/?kind=returned"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_the_badge_answers_the_unread_count_for_the_poll(client, world):
    case = signed_case(world)
    dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.OTHER, note="不属于本单位")
    client.force_login(world.dispatcher)
    badge = client.get("/inbox/badge/")
    assert 'id="unread-count">1<' in badge.text and 'hx-trigger="every 30s"' in badge.text
    client.post("/inbox/read/")
    assert "unread-count" not in client.get("/inbox/badge/").text


def test_settings_show_the_roles_default_and_save_the_persons_choice_and_quiet_hours(client, world):
    RoleDefault.objects.create(role="community_staff", kind="assigned", sms=True)
    client.force_login(world.community_clerk)
    page = client.get("/inbox/settings/")
    assert re.search(r'<input[^>]*name="assigned__sms"[^>]*checked', page.text)
    assert not re.search(r'<input[^>]*name="returned__sms"[^>]*checked', page.text)
    answer = client.post(
        "/inbox/settings/",
        {"quiet_mode": "own", "quiet_from": "21:00", "quiet_until": "08:00", "returned__email": "on"},
    )
    assert answer.status_code == 302
    assert Preference.objects.get(user=world.community_clerk, kind="assigned").sms is False
    assert Preference.objects.get(user=world.community_clerk, kind="returned").email is True
    quiet = QuietHours.objects.get(user=world.community_clerk)
    assert (quiet.starts, quiet.ends) == (time(21), time(8))


def test_quiet_hours_of_ones_own_need_both_times_and_the_form_says_so_in_chinese(client, world):
    client.force_login(world.community_clerk)
    page = client.post("/inbox/settings/", {"quiet_mode": "own", "quiet_from": "21:00"})
    assert page.status_code == 200 and "请" in page.text
    assert not QuietHours.objects.exists()


def test_a_huge_id_marks_nothing_and_is_not_an_error(client, world):
    client.force_login(world.dispatcher)
    assert client.post("/inbox/read/", {"id": "1" * 5000}).status_code == 302


def test_saving_the_settings_keeps_no_choice_equal_to_the_defaults(client, world):
    client.force_login(world.community_clerk)
    client.post("/inbox/settings/", {"quiet_mode": "none", "returned__sms": "on"})
    assert list(Preference.objects.values_list("kind", "sms")) == [("returned", True)]
    # The administrator's later default still reaches this person for the kinds they left alone.
    RoleDefault.objects.create(role="community_staff", kind="assigned", sms=True)
    page = client.get("/inbox/settings/")
    assert re.search(r'<input[^>]*name="assigned__sms"[^>]*checked', page.text)


def test_the_settings_page_costs_no_query_per_kind(client, world, django_assert_max_num_queries):
    RoleDefault.objects.create(role="community_staff", kind="assigned", sms=True)
    Preference.objects.create(user=world.community_clerk, kind="returned", email=True)
    client.force_login(world.community_clerk)
    # The session, the user, the navigation's postings and unread count, the person's roles (two),
    # the defaults, their choices, their quiet hours: eighteen kinds of notice, not a query each.
    with django_assert_max_num_queries(12):
        client.get("/inbox/settings/")
