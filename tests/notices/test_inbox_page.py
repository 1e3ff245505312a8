"""The in-app inbox: dispatch and calling in leave a message for everyone in the unit; the header
shows the unread count on every page; each person marks their own messages read."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notices.models import Notification
from routing import dispatch
from routing.tasks import dispatch_case
from tests.factories import UnitFactory, UserFactory, member, open_case, routing_setup

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    # A second clerk of 区住房和城乡建设局.
    cast.colleague = member(UserFactory(username="t_dept2", real_name="陈部门"), cast.department)
    return cast


def housing_case(world, **fields):
    """A 物业管理 case, dispatched by the rules to 区住房和城乡建设局."""
    case = open_case(world, category_code="0103", description=fields.pop("description", "楼道灯坏了物业不修"), **fields)
    dispatch_case(case.pk)
    return case


def unread_badge(response):
    found = re.search(r'id="unread-count">(\d+)<', response.text)
    return int(found.group(1)) if found else 0


def inbox_rows(response):
    return re.findall(r'data-unread="([01])"', response.text)


def test_dispatching_a_case_leaves_a_message_for_each_member_of_the_unit_and_nobody_else(world):
    case = housing_case(world)
    messages = Notification.objects.order_by("user__username")
    assert [(m.user, m.case, m.kind, m.read_at) for m in messages] == [
        (world.dept_clerk, case, "assigned", None),
        (world.colleague, case, "assigned", None),
    ]
    assert all(case.number in m.text for m in messages)


def test_calling_a_unit_in_leaves_a_message_for_its_members(world):
    case = open_case(world, category_code="0101", description="违章搭建阻塞消防通道")
    dispatch_case(case.pk)  # to the street office
    dispatch.case_sign(case=case, actor=world.street_clerk)
    dispatch.case_assist(case=case, unit=world.department, actor=world.street_clerk, note="联合执法")
    assert set(Notification.objects.filter(kind="assist").values_list("user__username", flat=True)) == {
        "t_dept",
        "t_dept2",
    }
    assert list(Notification.objects.filter(kind="assigned").values_list("user", flat=True)) == [world.street_clerk.pk]


def test_the_header_shows_the_unread_count_on_every_page(client, world):
    housing_case(world)
    housing_case(world, description="电梯停运三天")
    client.force_login(world.dept_clerk)
    for url in ("/", "/cases/", "/handling/queue/", "/inbox/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert unread_badge(response) == 2, url
        # When the header folds into the menu button (a phone, care mode), the button shows it too.
        assert re.search(r'id="menu-unread">2<', response.text), url
    # Nobody wrote to the community clerk: no badge at all.
    client.force_login(world.community_clerk)
    response = client.get("/")
    assert 'id="inbox-link"' in response.text
    assert 'id="unread-count"' not in response.text
    assert 'id="menu-unread"' not in response.text


def test_the_inbox_lists_the_persons_own_messages_newest_first(client, world):
    with time_machine.travel(TUESDAY, tick=False):
        older = housing_case(world)
    with time_machine.travel(TUESDAY + timedelta(minutes=5), tick=False):
        newer = housing_case(world, description="电梯停运三天")
    community = open_case(world)
    dispatch_case(community.pk)  # to the committee: not the housing bureau's
    client.force_login(world.dept_clerk)
    response = client.get("/inbox/")
    # Each links to the case in the unit's workspace, where the work is done.
    listed = re.findall(r'href="/handling/cases/([^/]+)/"', response.text.split('id="inbox"', 1)[1])
    assert listed == [newer.number, older.number]
    assert inbox_rows(response) == ["1", "1"]


def test_marking_one_message_read(client, world):
    first = housing_case(world)
    housing_case(world, description="电梯停运三天")
    message = Notification.objects.get(user=world.dept_clerk, case=first)
    client.force_login(world.dept_clerk)
    response = client.post("/inbox/read/", {"id": message.pk})
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    message.refresh_from_db()
    assert message.read_at is not None
    page = client.get("/inbox/")
    assert unread_badge(page) == 1
    assert sorted(inbox_rows(page)) == ["0", "1"]
    # The colleague's copy of the same message is theirs to mark.
    assert Notification.objects.get(user=world.colleague, case=first).read_at is None


def test_marking_all_messages_read(client, world):
    housing_case(world)
    housing_case(world, description="电梯停运三天")
    client.force_login(world.dept_clerk)
    assert client.post("/inbox/read/").status_code == 302
    assert not Notification.objects.filter(user=world.dept_clerk, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=world.colleague, read_at__isnull=True).count() == 2
    page = client.get("/inbox/")
    assert unread_badge(page) == 0
    assert inbox_rows(page) == ["0", "0"]


def test_a_person_cannot_mark_another_persons_message(client, world):
    case = housing_case(world)
    theirs = Notification.objects.get(user=world.colleague, case=case)
    client.force_login(world.dept_clerk)
    client.post("/inbox/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # Nor does it mark the person's own message by mistake.
    assert Notification.objects.get(user=world.dept_clerk, case=case).read_at is None
    outsider = member(UserFactory(username="t_other"), UnitFactory(code="D-OTHER", name="其他局"))
    client.force_login(outsider)
    client.post("/inbox/read/")
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_a_made_up_message_id_changes_nothing(client, world):
    housing_case(world)
    client.force_login(world.dept_clerk)
    for made_up in ("999999", "99999999999999999999", "abc", "1;DROP", "²"):
        response = client.post("/inbox/read/", {"id": made_up})
        assert response.status_code == 302, made_up
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_marking_read_needs_a_post_and_a_login(client, world):
    housing_case(world)
    client.force_login(world.dept_clerk)
    assert client.get("/inbox/read/").status_code == 405
    client.logout()
    assert client.post("/inbox/read/")["Location"].startswith("/accounts/login/")
    assert client.get("/inbox/")["Location"].startswith("/accounts/login/")
    assert not Notification.objects.filter(read_at__isnull=False).exists()
