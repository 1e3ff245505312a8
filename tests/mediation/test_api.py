"""评理说事 over the API: a case sent to a point (201, its id; 404 outside the caller's scope), a
walk-in opened, the list (its query count pinned) and one mediation with phones masked, the moves
(409 for one the state does not allow, 403 for a reader, 400 naming the field), the signed copy
uploaded, a referral up, a party's phone revealed and logged."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from mediation.models import Mediation, MediationEvent
from tests.mediation.world import PARTIES, TERMS, dispute_case, mediators_of, module_world, to_state, walk_in

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)


def client(user):
    c = Client()
    c.force_login(user)
    return c


def post(user, url, body=None):
    return client(user).post(url, body or {}, content_type="application/json")


def test_a_case_is_sent_to_mediation_and_the_outsider_gets_404(world):
    case = dispute_case(world)
    url = f"/api/v1/cases/{case.number}/mediate/"
    assert post(world.cast.outsider, url, {"point": world.point.code}).status_code == 404
    bad = post(world.cast.community_clerk, url, {"point": "NOPE"})
    assert bad.status_code == 400 and "point" in bad.json()["errors"]
    answer = post(world.cast.community_clerk, url, {"point": world.point.code, "note": "邻里纠纷"})
    assert answer.status_code == 201
    mediation = Mediation.objects.get(pk=answer.json()["id"])
    assert (mediation.case, mediation.point, answer.json()["case"]) == (case, world.point, case.number)
    # Sent twice: refused, still one.
    assert post(world.cast.community_clerk, url, {"point": world.point.code}).status_code == 400
    assert Mediation.objects.filter(case=case).count() == 1


def test_a_walk_in_is_opened_and_shown_with_phones_masked(world):
    body = {"point": world.point.code, "kind": "farming", "parties": PARTIES, "facts": "宅基地边界争议"}
    answer = post(world.mediator, "/api/v1/mediations/", body)
    assert answer.status_code == 201, answer.content
    shown = client(world.mediator).get(f"/api/v1/mediations/{answer.json()['id']}/").json()
    assert shown["state"] == "accepted" and shown["point"] == world.point.code and shown["facts"] == "宅基地边界争议"
    assert [p["phone"] for p in shown["parties"]] == ["138****5678", "139****4321"]
    assert "13812345678" not in str(shown)
    assert shown["moves"] == ["schedule", "refer"]
    # The official reads; may not open one.
    assert post(world.cast.official, "/api/v1/mediations/", body).status_code == 403
    bad = post(world.mediator, "/api/v1/mediations/", {**body, "parties": PARTIES[:1]})
    assert bad.status_code == 400 and "parties" in bad.json()["errors"]
    phone = post(world.mediator, "/api/v1/mediations/", {**body, "parties": [PARTIES[0], {"name": "刘", "phone": "1"}]})
    assert phone.status_code == 400 and "parties.1.phone" in phone.json()["errors"]


def test_the_list_is_the_callers_and_its_queries_are_pinned(world, django_assert_num_queries):
    for _ in range(3):
        walk_in(world)
    walk_in(world, point=world.village_point, actor=world.village_mediator)
    mine = client(world.mediator)
    mine.get("/api/v1/mediations/")  # the session and the postings, once
    # session, user, postings, the count, the page.
    with django_assert_num_queries(5):
        answer = mine.get("/api/v1/mediations/")
    assert answer.json()["count"] == 3
    assert {row["point"] for row in answer.json()["results"]} == {world.point.code}
    everyone = client(world.cast.dispatcher).get("/api/v1/mediations/?state=accepted").json()
    assert everyone["count"] == 4
    assert client(world.cast.gridworker).get("/api/v1/mediations/").json()["count"] == 0


def test_the_moves_through_the_api(world):
    mediation = walk_in(world)
    base = f"/api/v1/mediations/{mediation.pk}"
    me = world.mediator
    mediators = [m.pk for m in mediators_of(world, world.point)]
    parties = [p.pk for p in mediation.parties.all()]
    # An agreement before any session: 409, nothing changed.
    early = post(me, f"{base}/agreement/", {"terms": TERMS})
    assert early.status_code == 409 and early.json()["code"] == "transition_not_allowed"
    at = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    assert (
        post(
            world.cast.official, f"{base}/schedule/", {"at": at, "place": "调解室", "mediators": mediators}
        ).status_code
        == 403
    )
    assert (
        post(world.village_mediator, f"{base}/schedule/", {"at": at, "place": "x", "mediators": mediators}).status_code
        == 404
    )
    other = mediators_of(world, world.village_point)[0].pk
    wrong = post(me, f"{base}/schedule/", {"at": at, "place": "调解室", "mediators": [other]})
    assert wrong.status_code == 400 and "mediators" in wrong.json()["errors"]
    assert (
        post(me, f"{base}/schedule/", {"at": at, "place": "调解室", "mediators": mediators}).json()["state"]
        == "scheduled"
    )
    session = {
        "present": parties,
        "mediators": mediators[:1],
        "statements": "各说各理",
        "reasoning": ["feeling", "law"],
    }
    one_side = post(me, f"{base}/session/", {**session, "present": parties[:1]})
    assert one_side.status_code == 400 and "present" in one_side.json()["errors"]
    nobody = post(me, f"{base}/session/", {**session, "mediators": []})
    assert nobody.status_code == 400 and "mediators" in nobody.json()["errors"]
    assert post(me, f"{base}/session/", session).json()["state"] == "in_session"
    follow_up = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    agreed = post(me, f"{base}/agreement/", {"terms": TERMS, "follow_up": [follow_up]}).json()
    assert agreed["state"] == "agreement" and agreed["agreement"]["terms"] == TERMS
    assert agreed["sessions"][0]["outcome"] == "agreement"
    scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    signed = client(me).post(f"{base}/sign/", {"scan": scan})
    assert signed.status_code == 200 and signed.json()["agreement"]["signed"] is True
    broken = post(me, f"{base}/break/", {"note": "未按期履行"}).json()
    assert broken["state"] == "accepted" and broken["events"][-1]["action"] == "break"
    assert client(me).get("/api/v1/mediations/abc/").status_code == 404


def test_a_referral_up_answers_the_referred_mediation_naming_the_higher_one(world):
    mediation = walk_in(world)
    answer = post(world.mediator, f"/api/v1/mediations/{mediation.pk}/refer/", {"level": "street"})
    assert answer.status_code == 200
    assert answer.json()["state"] == "referred"
    higher = Mediation.objects.get(pk=answer.json()["referred_up"])
    assert higher.point == world.street_point
    beyond = post(world.street_mediator, f"/api/v1/mediations/{higher.pk}/refer/", {"level": "city"})
    assert beyond.status_code == 400 and "level" in beyond.json()["errors"]


def test_a_partys_phone_is_revealed_and_logged(world):
    mediation = to_state(world, walk_in(world), "scheduled")
    party = mediation.parties.first()
    url = f"/api/v1/mediations/{mediation.pk}/parties/{party.pk}/reveal_phone/"
    answer = post(world.mediator, url)
    assert answer.json() == {"phone": "13812345678"}
    event = MediationEvent.objects.filter(mediation=mediation).last()
    assert (event.action, event.actor, event.data) == ("reveal_phone", world.mediator, {"party": party.pk})
    assert post(world.cast.official, url).status_code == 403
    assert post(world.village_mediator, url).status_code == 404
    assert MediationEvent.objects.filter(mediation=mediation, action="reveal_phone").count() == 1
