"""议事会 over the API: the councils the caller may read, a meeting recorded with its items' votes
and decisions (201), bad input named (400), a role that may not record (403), a council outside
the caller's reach (404)."""

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from mediation import councils
from mediation.models import AgendaItem, Council, CouncilMember, Meeting
from tests.factories import UserFactory


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from tests.factories import make_cast

    with django_db_blocker.unblock(), transaction.atomic():
        cast = make_cast()
        cast.member = UserFactory(username="t_council_api")
        cast.council = Council.objects.create(
            name="金山社区居民议事会", kind="residents", region=cast.community, unit=cast.committee
        )
        cast.members = [
            CouncilMember.objects.create(
                council=cast.council, name=f"代表{n}", role="resident", user=cast.member if n == 0 else None
            )
            for n in range(5)
        ]
        cast.other = Council.objects.create(
            name="民主村民情恳谈会", kind="hearing", region=cast.other_community, unit=cast.other_committee
        )
        yield cast
        transaction.set_rollback(True)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def meetings_url(council):
    return reverse("api:council-meetings", args=[council.pk])


@pytest.mark.django_db
def test_the_councils_a_caller_may_read_by_place(world):
    answer = api(world.community_clerk).get(reverse("api:councils"))
    assert answer.status_code == 200
    assert [row["name"] for row in answer.json()["results"]] == ["金山社区居民议事会"]
    assert answer.json()["results"][0]["members"] == 5
    everything = api(world.dispatcher).get(reverse("api:councils"), {"region": world.other_street.code})
    assert [row["id"] for row in everything.json()["results"]] == [world.other.pk]
    assert api(world.dispatcher).get(reverse("api:councils"), {"region": "abc"}).status_code == 400
    assert api(world.member).get(reverse("api:councils")).json()["count"] == 1


@pytest.mark.django_db
def test_a_meeting_is_recorded_with_its_items_decisions_and_votes(world):
    item = councils.item_propose(actor=world.member, council=world.council, title="小区停车位规划")
    body = {
        "held_on": "2025-05-06",
        "place": "社区会议室",
        "present": [m.pk for m in world.members[:4]],
        "items": [
            {"id": item.pk, "votes_for": 3, "votes_against": 1, "decision": "同意改建30个停车位"},
            {"title": "3号楼加装电梯", "description": "低层住户反对", "votes_for": 2, "votes_against": 2},
        ],
        "published": True,
    }
    answer = api(world.member).post(meetings_url(world.council), body, format="json")
    assert answer.status_code == 201, answer.json()
    meeting = answer.json()
    assert meeting["published"] is True and meeting["present"] == sorted(body["present"])
    parking, elevator = meeting["items"]
    assert (parking["id"], parking["decided"], parking["decision"]) == (item.pk, True, "同意改建30个停车位")
    assert (parking["votes_for"], parking["votes_against"], parking["votes_abstain"]) == (3, 1, 0)
    assert elevator["decided"] is False and elevator["title"] == "3号楼加装电梯"
    assert AgendaItem.objects.get(pk=elevator["id"]).meeting_id == meeting["id"]
    listed = api(world.community_clerk).get(meetings_url(world.council)).json()
    assert [row["id"] for row in listed["results"]] == [meeting["id"]]


@pytest.mark.django_db
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(world):
    item = councils.item_propose(actor=world.member, council=world.council, title="楼道照明")
    before = Meeting.objects.count()
    client = api(world.member)
    too_many = {
        "held_on": "2025-05-06",
        "present": [world.members[0].pk],
        "items": [{"id": item.pk, "votes_for": 1, "votes_against": 1}],
    }
    answer = client.post(meetings_url(world.council), too_many, format="json")
    assert answer.status_code == 400 and "items" in answer.json()["errors"]
    stranger = {**too_many, "present": [999999], "items": [{"id": item.pk, "votes_for": 0, "votes_against": 0}]}
    assert "present" in client.post(meetings_url(world.council), stranger, format="json").json()["errors"]
    no_date = {**too_many, "held_on": "昨天"}
    assert "held_on" in client.post(meetings_url(world.council), no_date, format="json").json()["errors"]
    no_items = {**too_many, "items": []}
    assert "items" in client.post(meetings_url(world.council), no_items, format="json").json()["errors"]
    assert Meeting.objects.count() == before


@pytest.mark.django_db
def test_who_may_not_record_gets_403_and_who_may_not_read_gets_404(world):
    body = {"held_on": "2025-05-06", "present": [], "items": [{"title": "议题", "votes_for": 0, "votes_against": 0}]}
    # The dispatchers read every council but record none.
    assert api(world.dispatcher).post(meetings_url(world.council), body, format="json").status_code == 403
    # 民主村's council is outside 金山社区's clerk's area; no council has this id.
    assert api(world.community_clerk).post(meetings_url(world.other), body, format="json").status_code == 404
    assert api(world.community_clerk).get(meetings_url(world.other)).status_code == 404
    assert api(world.dispatcher).get(reverse("api:council-meetings", args=[987654])).status_code == 404
    assert APIClient().get(reverse("api:councils")).status_code == 401  # not signed in
