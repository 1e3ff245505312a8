"""需求对接: a community posts a need, departments, utilities and paired agencies offer, the community
accepts one offer and records the result; accepting twice or two accepts at once give one match;
units that do not take needs up cannot offer; each side sees only its own pages."""

import pytest

from cases.errors import InvalidInput, NotPermitted
from tests.volunteers.paired_world import module_world
from volunteers import needs
from volunteers.models import Need, Offer

pytestmark = pytest.mark.django_db
world_fixture = pytest.fixture(scope="module", name="world")(module_world)


def post(world, title="楼道老人助餐志愿者", **fields):
    return needs.need_post(actor=world.cast.community_clerk, kind=Need.Kind.SERVICE, title=title, **fields)


def states(need):
    return dict(Offer.objects.filter(need=need).values_list("unit__code", "state"))


def test_post_offers_accept_and_result_through_the_pages(client, world):
    client.force_login(world.cast.community_clerk)
    body = {"kind": "resource", "title": "社区活动室需要桌椅", "description": "约20套，供老年课堂使用"}
    answer = client.post("/volunteers/needs/", body)
    need = Need.objects.get(title="社区活动室需要桌椅")
    assert answer.status_code == 302 and answer.url == f"/volunteers/needs/{need.pk}/"
    assert (need.community, need.posted_by, need.state, need.kind) == (
        world.cast.community,
        world.cast.committee,
        Need.State.OPEN,
        Need.Kind.RESOURCE,
    )

    # The department and the paired agency each see it and offer.
    for clerk, note in ((world.cast.dept_clerk, "可调拨旧桌椅10套"), (world.agency_clerk, "院里有闲置桌椅20套")):
        client.force_login(clerk)
        page = client.get("/volunteers/needs/open/")
        assert f'data-need="{need.pk}"' in page.text
        unit = needs.offering_units_of(clerk).get()
        answer = client.post(f"/volunteers/needs/{need.pk}/offer/", {"unit": unit.pk, "note": note})
        assert answer.status_code == 302
    assert states(need) == {"D-HOUSING": "offered", "A-COURT": "offered"}
    # Once offered, the unit's page says so instead of showing the form again.
    assert 'data-my-offer="offered"' in client.get("/volunteers/needs/open/").text

    # The community sees both offers and accepts the agency's; the department's is declined.
    client.force_login(world.cast.community_clerk)
    detail = client.get(f"/volunteers/needs/{need.pk}/")
    court = Offer.objects.get(need=need, unit=world.agency)
    assert detail.text.count('data-action="accept"') == 2
    answer = client.post(f"/volunteers/needs/{need.pk}/accept/", {"offer": court.pk})
    assert answer.status_code == 302
    need.refresh_from_db()
    assert (need.state, need.taken_by, need.matched_at is not None) == (Need.State.MATCHED, world.agency, True)
    assert states(need) == {"D-HOUSING": "declined", "A-COURT": "accepted"}
    assert 'id="result-form"' in client.get(f"/volunteers/needs/{need.pk}/").text

    # The result, recorded: done. An empty result is refused and changes nothing.
    client.post(f"/volunteers/needs/{need.pk}/done/", {"result": "   "})
    need.refresh_from_db()
    assert need.state == Need.State.MATCHED
    result = "已送到20套桌椅，老年课堂开课"
    client.post(f"/volunteers/needs/{need.pk}/done/", {"result": result})
    need.refresh_from_db()
    assert (need.state, need.result, need.done_at is not None) == (Need.State.DONE, result, True)
    # No longer open: nobody sees it among the open needs.
    client.force_login(world.utility_clerk)
    assert f'data-need="{need.pk}"' not in client.get("/volunteers/needs/open/").text


def test_each_side_hears_of_a_need_an_offer_and_the_answer_in_its_inbox(client, world):
    from notices.models import Notification

    def inbox(user):
        return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", "text", "url"))

    need = post(world, title="楼道老人助餐志愿者")
    # The paired agency hears of its community's need; the department (paired with none) does not,
    # nor the clerk who posted it.
    assert inbox(world.agency_clerk) == [("need_posted", "金山社区需要：楼道老人助餐志愿者", "/volunteers/needs/open/")]
    assert inbox(world.cast.dept_clerk) == inbox(world.cast.community_clerk) == []
    court = needs.offer_make(need=need, actor=world.agency_clerk, note="院里派人")
    needs.offer_make(need=need, actor=world.cast.dept_clerk)
    assert [kind for kind, _text, _url in inbox(world.cast.community_clerk)] == ["offer_made", "offer_made"]
    assert inbox(world.cast.community_clerk)[0][1:] == (
        "区人民法院愿意承接：楼道老人助餐志愿者",
        f"/volunteers/needs/{need.pk}/",
    )
    needs.offer_accept(offer=court, actor=world.cast.community_clerk)
    assert inbox(world.agency_clerk)[-1][:2] == ("offer_decided", "您的承接已被采纳：楼道老人助餐志愿者")
    assert inbox(world.cast.dept_clerk)[-1][0] == "offer_decided"
    # The inbox page shows them, linked, with no case.
    client.force_login(world.agency_clerk)
    assert "楼道老人助餐志愿者" in client.get("/inbox/").text
    # Inbox only: the person's preferences offer no SMS or email for these kinds.
    form = client.get("/inbox/settings/").context["form"]
    assert "need_posted__sms" not in form.fields and "assigned__sms" in form.fields


def test_accepting_a_second_offer_or_the_same_twice_is_refused_with_nothing_changed(world):
    need = post(world)
    first = needs.offer_make(need=need, actor=world.agency_clerk, note="派干警志愿者")
    second = needs.offer_make(need=need, actor=world.utility_clerk)
    needs.offer_accept(offer=first, actor=world.cast.community_clerk)
    for offer in (first, second):
        with pytest.raises(InvalidInput):
            needs.offer_accept(offer=offer, actor=world.cast.community_clerk)
    need.refresh_from_db()
    assert need.taken_by == world.agency
    assert states(need) == {"A-COURT": "accepted", "U-POWER": "declined"}
    # And no offer on a need that is taken up.
    with pytest.raises(InvalidInput):
        needs.offer_make(need=need, actor=world.cast.dept_clerk)


def test_one_offer_per_unit_per_need(world):
    need = post(world)
    needs.offer_make(need=need, actor=world.cast.dept_clerk, note="第一次")
    with pytest.raises(InvalidInput):
        needs.offer_make(need=need, actor=world.cast.dept_clerk, note="又点了一次")
    assert list(Offer.objects.filter(need=need).values_list("note", flat=True)) == ["第一次"]


def test_units_that_do_not_take_needs_up_cannot_offer_and_have_no_page(client, world):
    need = post(world)
    for person in (world.social_clerk, world.cast.community_clerk, world.cast.street_clerk, world.cast.official):
        with pytest.raises(NotPermitted):
            needs.offer_make(need=need, actor=person)
        client.force_login(person)
        assert client.get("/volunteers/needs/open/").status_code == 404
        assert client.post(f"/volunteers/needs/{need.pk}/offer/", {"note": "x"}).status_code == 404
    assert not Offer.objects.filter(need=need).exists()


def test_only_the_communitys_own_staff_see_and_answer_its_needs(client, world):
    need = post(world)
    offer = needs.offer_make(need=need, actor=world.agency_clerk)
    with pytest.raises(NotPermitted):
        needs.offer_accept(offer=offer, actor=world.other_community_clerk)
    with pytest.raises(NotPermitted):
        needs.need_post(actor=world.cast.dept_clerk, kind="service", title="x")
    client.force_login(world.other_community_clerk)
    assert client.get(f"/volunteers/needs/{need.pk}/").status_code == 404
    assert client.post(f"/volunteers/needs/{need.pk}/accept/", {"offer": offer.pk}).status_code == 404
    assert f'data-need="{need.pk}"' not in client.get("/volunteers/needs/").text
    client.force_login(world.cast.dept_clerk)
    assert client.get("/volunteers/needs/").status_code == 404
    need.refresh_from_db()
    assert need.state == Need.State.OPEN


def test_a_paired_agency_sees_its_communitys_needs_first_a_department_the_newest_first(world):
    ours = post(world, title="金山社区：法律咨询进社区")
    theirs = needs.need_post(actor=world.other_community_clerk, kind="service", title="民主村：税务政策宣讲")
    assert [n.pk for n in needs.open_needs_for(world.agency_clerk)][:2] == [ours.pk, theirs.pk]
    assert [n.pk for n in needs.open_needs_for(world.other_agency_clerk)][:2] == [theirs.pk, ours.pk]
    assert [n.pk for n in needs.open_needs_for(world.cast.dept_clerk)][:2] == [theirs.pk, ours.pk]


def test_bad_input_is_a_form_error_and_nothing_is_saved(client, world):
    client.force_login(world.cast.community_clerk)
    before = Need.objects.count()
    answer = client.post("/volunteers/needs/", {"kind": "money", "title": "", "description": "x" * 3000})
    assert answer.status_code == 200
    for field in ("kind", "title", "description"):
        assert f'data-error-for="{field}"' in answer.text
    assert Need.objects.count() == before
    # A need id that is not the community's, or no offer chosen: nothing happens.
    need = post(world)
    assert client.post(f"/volunteers/needs/{need.pk}/accept/", {"offer": "abc"}).status_code == 302
    need.refresh_from_db()
    assert need.state == Need.State.OPEN


def test_withdrawing_declines_the_offers_and_closes_the_need_to_offers(client, world):
    need = post(world)
    needs.offer_make(need=need, actor=world.agency_clerk)
    client.force_login(world.cast.community_clerk)
    client.post(f"/volunteers/needs/{need.pk}/withdraw/")
    need.refresh_from_db()
    assert need.state == Need.State.WITHDRAWN and states(need) == {"A-COURT": "declined"}
    with pytest.raises(InvalidInput):
        needs.offer_make(need=need, actor=world.cast.dept_clerk)


def test_the_lists_cost_the_same_queries_whatever_their_length(client, world, django_assert_num_queries):
    for n in range(3):
        need = post(world, title=f"需求{n}")
        needs.offer_make(need=need, actor=world.agency_clerk)
        needs.offer_make(need=need, actor=world.cast.dept_clerk)
    client.force_login(world.cast.community_clerk)
    client.get("/volunteers/needs/")  # the session and the navigation's first reads
    with django_assert_num_queries(7):
        assert client.get("/volunteers/needs/").status_code == 200
    client.force_login(world.agency_clerk)
    client.get("/volunteers/needs/open/")
    # The page's own: the count, the needs with their pairing and offer, the units, the offers.
    with django_assert_num_queries(8):
        assert client.get("/volunteers/needs/open/").status_code == 200
