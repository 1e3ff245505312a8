"""评理说事's services and selectors: who may work a mediation, what a session and an opening need,
a broken agreement, referrals up and out (and not beyond the district), the agreement's text, a
party's phone revealed and logged."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone, translation

from cases.errors import InvalidInput, NotPermitted
from mediation import services
from mediation.models import Mediation, MediationEvent, Party
from mediation.selectors import mediation_get_for, mediations_for, points_for
from tests.factories import UserFactory, member
from tests.mediation.world import PARTIES, TERMS, mediators_of, module_world, to_state, walk_in

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def snapshot(mediation):
    mediation.refresh_from_db()
    return (
        mediation.state,
        list(mediation.events.values_list("pk", flat=True)),
        list(mediation.sessions.values_list("pk", "held", "statements")),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mediators": []}, "mediators"),  # no mediator
        ({"present": "one"}, "present"),  # one side only
        ({"present": "none"}, "present"),
        ({"reasoning": ["luck"]}, "reasoning"),
        ({"statements": "  "}, "statements"),
    ],
)
def test_a_session_without_a_mediator_or_both_parties_is_refused_with_nothing_changed(world, change, field):
    mediation = to_state(world, walk_in(world), "scheduled")
    before = snapshot(mediation)
    parties = list(mediation.parties.all())
    values = {
        "present": parties,
        "mediators": mediators_of(world, world.point),
        "statements": "各说各理",
        "reasoning": ["feeling"],
    }
    values.update(change)
    if values["present"] == "one":
        values["present"] = parties[:1]
    elif values["present"] == "none":
        values["present"] = []
    with pytest.raises(InvalidInput) as refused:
        services.mediation_session(mediation=mediation, actor=world.mediator, **values)
    assert refused.value.field == field
    assert snapshot(mediation) == before


def test_a_mediator_of_another_point_is_not_one_here(world):
    mediation = to_state(world, walk_in(world), "scheduled")
    with pytest.raises(InvalidInput) as refused:
        services.mediation_session(
            mediation=mediation,
            actor=world.mediator,
            present=list(mediation.parties.all()),
            mediators=mediators_of(world, world.village_point),
            statements="各说各理",
            reasoning=["law"],
        )
    assert refused.value.field == "mediators"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"parties": PARTIES[:1]}, "parties"),
        ({"parties": [PARTIES[0], {**PARTIES[1], "phone": "12345"}]}, "parties.1.phone"),
        ({"parties": [PARTIES[0], {**PARTIES[1], "name": " "}]}, "parties.1.name"),
        ({"kind": "custody"}, "kind"),
        ({"facts": ""}, "facts"),
    ],
)
def test_opening_needs_both_sides_valid_phones_a_kind_and_the_facts(world, fields, field):
    before = Mediation.objects.count()
    with pytest.raises(InvalidInput) as refused:
        walk_in(world, **fields)
    assert refused.value.field == field
    assert Mediation.objects.count() == before


def test_a_walk_in_opens_accepted_with_its_parties_and_an_open_event(world):
    mediation = walk_in(world)
    assert mediation.state == "accepted"
    assert [p.name for p in mediation.parties.all()] == ["王大山", "刘二柱"]
    assert list(mediation.events.values_list("action", "to_state", "actor")) == [
        ("open", "accepted", world.mediator.pk)
    ]


def test_who_works_and_who_reads_a_points_mediations(world):
    mediation = walk_in(world)
    cast = world.cast
    # Its mediators and its host unit's staff read it; the dispatcher and the official read all.
    for reader in (world.mediator, cast.community_clerk, cast.dispatcher, cast.official):
        assert mediation_get_for(reader, mediation.pk) == mediation
    for outsider in (world.village_mediator, world.street_mediator, cast.gridworker, cast.dept_clerk):
        assert not mediations_for(outsider).filter(pk=mediation.pk).exists()
        with pytest.raises(Http404):
            mediation_get_for(outsider, mediation.pk)
    assert list(points_for(world.mediator)) == [world.point]
    assert list(points_for(cast.community_clerk)) == [world.point]
    # The official reads only; the dispatcher hosts no point: neither works this one.
    for reader in (cast.official, cast.dispatcher, world.village_mediator):
        with pytest.raises(NotPermitted):
            services.mediation_schedule(
                mediation=mediation,
                actor=reader,
                at=timezone.now(),
                place="调解室",
                mediators=mediators_of(world, world.point),
            )
    # The host unit's clerk works it.
    services.mediation_schedule(
        mediation=mediation,
        actor=cast.community_clerk,
        at=timezone.now() + datetime.timedelta(hours=1),
        place="调解室",
        mediators=mediators_of(world, world.point),
    )
    assert Mediation.objects.get(pk=mediation.pk).state == "scheduled"


def test_a_broken_agreement_reopens_the_mediation(world):
    mediation = to_state(world, walk_in(world), "follow_up")
    services.mediation_break(mediation=mediation, actor=world.mediator, note="刘家到期没有拆除猪圈")
    mediation.refresh_from_db()
    assert mediation.state == "accepted"
    event = mediation.events.last()
    assert (event.action, event.from_state, event.to_state, event.note) == (
        "break",
        "follow_up",
        "accepted",
        "刘家到期没有拆除猪圈",
    )
    assert event.data["terms"] == TERMS
    assert mediation.agreement.broken_at is not None
    # Taken up again: a new session and a new agreement replace the broken one.
    to_state(world, mediation, "agreement")
    mediation.agreement.refresh_from_db()
    assert mediation.agreement.broken_at is None


def test_referral_up_opens_the_higher_points_mediation(world):
    mediation = to_state(world, walk_in(world), "no_agreement")
    higher = services.mediation_refer(mediation=mediation, actor=world.mediator, level="street", note="村里调不了")
    mediation.refresh_from_db()
    assert mediation.state == "referred"
    assert (higher.point, higher.state, higher.referred_from, higher.kind) == (
        world.street_point,
        "accepted",
        mediation,
        mediation.kind,
    )
    assert [(p.name, p.phone) for p in higher.parties.all()] == [(p["name"], p["phone"]) for p in PARTIES]
    assert mediation.events.last().data == {"point": world.street_point.code, "mediation": higher.pk}
    # The street's mediator now works it; the community's mediator does not.
    assert mediation_get_for(world.street_mediator, higher.pk) == higher
    assert not mediations_for(world.mediator).filter(pk=higher.pk).exists()
    # And up once more, to the district.
    top = services.mediation_refer(mediation=higher, actor=world.street_mediator, level="district")
    assert top.point == world.district_point


@pytest.mark.parametrize("level", ["district", "city", "court"])
def test_referral_beyond_the_district_is_refused(world, level):
    street = services.mediation_refer(mediation=walk_in(world), actor=world.mediator, level="street")
    top = services.mediation_refer(mediation=street, actor=world.street_mediator, level="district")
    # The district point's host unit's clerk works its mediations.
    judge_clerk = member(UserFactory(username="t_justice"), world.justice)
    before = snapshot(top)
    with pytest.raises(InvalidInput) as refused:
        services.mediation_refer(mediation=top, actor=judge_clerk, level=level)
    assert refused.value.field == "level"
    assert "beyond the district" in str(refused.value)
    assert snapshot(top) == before
    # To the court it goes as an outcome: the mediation is referred out, nothing opens anywhere.
    count = Mediation.objects.count()
    assert services.mediation_refer(mediation=top, actor=judge_clerk, to="区人民法院") == top
    top.refresh_from_db()
    assert (top.state, top.referred_to) == ("referred", "区人民法院")
    assert Mediation.objects.count() == count


def test_a_referral_down_or_sideways_and_both_ways_at_once_are_refused(world):
    mediation = walk_in(world)
    for kwargs in ({"level": "community"}, {"level": "street", "to": "法院"}, {}):
        with pytest.raises(InvalidInput) as refused:
            services.mediation_refer(mediation=mediation, actor=world.mediator, **kwargs)
        assert refused.value.field == "level"
    assert Mediation.objects.get(pk=mediation.pk).state == "accepted"


def test_the_signed_copy_is_read_by_its_content(world):
    mediation = to_state(world, walk_in(world), "agreement")
    fake = SimpleUploadedFile("signed.pdf", b"<html>not a scan</html>", content_type="application/pdf")
    with pytest.raises(InvalidInput) as refused:
        services.mediation_sign(mediation=mediation, actor=world.mediator, scan=fake)
    assert refused.value.field == "scan"
    assert Mediation.objects.get(pk=mediation.pk).state == "agreement"


def test_the_agreement_text_is_drawn_from_the_record(world):
    mediation = to_state(world, walk_in(world), "agreement")
    text = services.agreement_text(mediation)
    follow_up = mediation.agreement.follow_up[0]
    for part in ("王大山", "刘二柱", "猪圈越过地界", "双方同意以村里的地界图为准", TERMS, f"{follow_up:%Y-%m-%d}"):
        assert part in text
    # No phone is printed on the agreement.
    assert "13812345678" not in text


def test_a_partys_phone_is_revealed_to_who_works_it_and_logged(world):
    mediation = walk_in(world)
    party = mediation.parties.first()
    assert party.phone_masked == "138****5678"
    assert services.party_phone_reveal(party=party, actor=world.mediator) == "13812345678"
    event = mediation.events.last()
    assert (event.action, event.actor, event.data) == ("reveal_phone", world.mediator, {"party": party.pk})
    with pytest.raises(NotPermitted):
        services.party_phone_reveal(party=party, actor=world.village_mediator)
    assert MediationEvent.objects.filter(mediation=mediation, action="reveal_phone").count() == 1


def test_the_other_side_of_a_case_is_completed_with_a_valid_phone(world):
    mediation = walk_in(world)
    party = mediation.parties.last()
    with pytest.raises(InvalidInput) as refused:
        services.party_update(party=party, actor=world.mediator, name="刘二柱", phone="999")
    assert refused.value.field == "phone"
    services.party_update(party=party, actor=world.mediator, name="刘二柱", phone="024-12345678", address="4组")
    assert Party.objects.get(pk=party.pk).phone == "024-12345678"
