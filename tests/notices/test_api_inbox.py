"""The inbox over the API: the caller's own notices, newest first, filtered, with the unread
count; marking read by ids or all; bad input answered 400 with the field."""

import pytest

from notices.models import Notification
from routing import dispatch
from routing.models import ReturnReason
from tests.factories import routing_setup
from tests.handling.helpers import signed_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def test_the_dispatcher_reads_a_returned_case_in_the_api_and_marks_it_read(client, world):
    case = signed_case(world)
    dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.WRONG_CATEGORY, note="错派")
    client.force_login(world.dispatcher)
    body = client.get("/api/v1/inbox/?unread=true&kind=returned").json()
    assert body["unread_count"] == 1 and body["count"] == 1
    (row,) = body["results"]
    assert (row["kind"], row["case"], row["url"], row["read"]) == (
        "returned",
        case.number,
        "/routing/console/?tab=returned",
        False,
    )
    assert client.get("/api/v1/inbox/?kind=assigned").json()["count"] == 0
    answer = client.post("/api/v1/inbox/read/", {"ids": [row["id"]]}, content_type="application/json").json()
    assert answer == {"marked": 1, "unread_count": 0}
    assert client.get("/api/v1/inbox/?unread=true").json()["count"] == 0


def test_nobody_marks_or_reads_anothers_notices(client, world):
    signed_case(world)
    theirs = Notification.objects.get(user=world.community_clerk)
    client.force_login(world.dispatcher)
    assert theirs.pk not in [row["id"] for row in client.get("/api/v1/inbox/").json()["results"]]
    answer = client.post("/api/v1/inbox/read/", {"all": True}, content_type="application/json").json()
    assert answer["marked"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "ids"), ({"ids": ["x"]}, "ids"), ({"ids": [1], "all": True}, "all")],
)
def test_bad_input_is_a_400_naming_the_field(client, world, body, field):
    client.force_login(world.dispatcher)
    response = client.post("/api/v1/inbox/read/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.text


def test_an_unknown_kind_is_a_400(client, world):
    client.force_login(world.dispatcher)
    response = client.get("/api/v1/inbox/?kind=nonsense")
    assert response.status_code == 400 and "kind" in response.text
