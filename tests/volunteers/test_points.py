"""The points ledger (志愿活动积分): earning by the rules kept in the admin, corrections as new lines,
redemption refused beyond the balance or the stock, the monthly rankings against a count of our
own, and the pages: the volunteer's ledger on their phone, the staff's corrections, the
community's rewards."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from cases.errors import InvalidInput, NotPermitted
from tests.volunteers.points_world import TUESDAY, confirmed_signup, earned, module_world
from volunteers import points
from volunteers.models import PointEntry, PointRule, Reward

pytestmark = pytest.mark.django_db
world = pytest.fixture(scope="module", name="world")(module_world)


def lines(person):
    return list(
        PointEntry.objects.filter(volunteer=person).order_by("id").values_list("id", "kind", "points", "reason")
    )


# --- earning --------------------------------------------------------------------------------------


def test_a_confirmed_signup_earns_its_hours_by_the_rules_once(world):
    plain = confirmed_signup(world, world.alice, hours=2.5)
    urgent = confirmed_signup(world, world.alice, hours=2, emergency=True, title="防汛沙袋搬运")
    written = points.points_earn_signups(signups=[plain, urgent], actor=world.cast.community_clerk)
    # 10 a task hour (2.5 h → 25), plus the emergency bonus of 5 an hour (2 h → 30).
    assert sorted(entry.points for entry in written) == [25, 30]
    assert points.balance(world.alice) == 55
    # Confirmed again (a retry, a second click): nothing more.
    assert points.points_earn_signups(signups=[plain, urgent], actor=world.cast.community_clerk) == []
    assert points.balance(world.alice) == 55


def test_each_earned_line_records_where_it_was_earned_and_the_migration_fills_the_older_lines(world):
    # The social-forces dashboard groups the month's lines by this place without joining back.
    import importlib

    from django.db import connection

    from volunteers import bookings

    signup = confirmed_signup(world, world.alice, hours=1)
    points.points_earn_signups(signups=[signup], actor=world.cast.community_clerk)
    task_line = PointEntry.objects.get(signup=signup)
    with time_machine.travel(TUESDAY, tick=False):
        booked = bookings.booking_book(
            service=world.meals, day=TUESDAY.date(), resident_name="王奶奶", resident_phone="13812345671",
            address="金山社区3号楼", actor=world.cast.community_clerk,
        )  # fmt: skip
        bookings.bookings_confirm(service=world.meals, booking_ids=[booked.pk], actor=world.squad_clerk)
        bookings.bookings_done(
            service=world.meals, booking_ids=[booked.pk], served_by=world.dan, actor=world.squad_clerk
        )
    booking_line = PointEntry.objects.get(booking=booked)
    assert task_line.place_code == world.cast.community.code  # the task's place
    assert booking_line.place_code == world.squad.home.code  # the serving team's home
    # Lines written before the column had it empty; the migration's statement fills them alike.
    PointEntry.objects.filter(pk__in=[task_line.pk, booking_line.pk]).update(place_code="")
    migration = importlib.import_module("volunteers.migrations.0004_points_place")
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL_PLACES)
    assert dict(PointEntry.objects.filter(pk__in=[task_line.pk, booking_line.pk]).values_list("pk", "place_code")) == {
        task_line.pk: world.cast.community.code,
        booking_line.pk: world.squad.home.code,
    }


def test_a_signup_not_confirmed_earns_nothing(world):
    from volunteers.models import Signup

    signup = confirmed_signup(world, world.bob, hours=3)
    Signup.objects.filter(pk=signup.pk).update(state=Signup.State.CHECKED_OUT)  # as if never confirmed
    assert points.points_earn_signups(signups=[signup], actor=world.cast.community_clerk) == []
    assert points.balance(world.bob) == 0


def test_a_rule_changed_in_the_admin_is_used_by_the_next_earning(world, client):
    from tests.factories import UserFactory

    first = confirmed_signup(world, world.alice, hours=2)
    points.points_earn_signups(signups=[first], actor=world.cast.community_clerk)
    admin = UserFactory(username="t_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    answer = client.post("/admin/volunteers/pointrule/add/", {"kind": "task_hour", "points": "12"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert PointRule.objects.get(kind="task_hour").points == 12
    second = confirmed_signup(world, world.alice, hours=2, title="打扫社区广场")
    points.points_earn_signups(signups=[second], actor=world.cast.community_clerk)
    # The earlier line keeps what it earned; the next one is 12 an hour.
    assert [line[2] for line in lines(world.alice)] == [20, 24]


def test_the_ledger_cannot_be_added_to_changed_or_deleted_in_the_admin(world, client):
    from tests.factories import UserFactory

    entry = earned(world, world.alice, 10)
    client.force_login(UserFactory(username="t_admin", is_staff=True, is_superuser=True))
    assert client.get("/admin/volunteers/pointentry/").status_code == 200
    assert client.get("/admin/volunteers/pointentry/add/").status_code == 403
    assert client.post(f"/admin/volunteers/pointentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/volunteers/pointentry/{entry.pk}/change/", {"points": "999", "reason": "改"})
    entry.refresh_from_db()
    assert (entry.points, entry.reason) == (10, "测试余额")


# --- corrections ----------------------------------------------------------------------------------


def test_a_correction_is_a_new_line_with_its_reason_and_the_ledger_is_otherwise_unchanged(world):
    confirmed = confirmed_signup(world, world.alice, hours=3)
    points.points_earn_signups(signups=[confirmed], actor=world.cast.community_clerk)
    before = lines(world.alice)
    entry = points.points_correct(
        volunteer=world.alice, points=-5, reason="多记了半小时", actor=world.cast.community_clerk
    )
    after = lines(world.alice)
    assert after[:-1] == before
    assert after[-1] == (entry.pk, "correction", -5, "多记了半小时")
    assert points.balance(world.alice) == 25


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [(5, "  ", "reason"), (0, "无", "points"), (-31, "扣分", "points"), (10_001, "太多", "points")],
)
def test_a_correction_without_reason_of_nothing_or_below_zero_is_refused(world, change, reason, field):
    earned(world, world.alice, 30)
    before = lines(world.alice)
    with pytest.raises(InvalidInput) as refused:
        points.points_correct(volunteer=world.alice, points=change, reason=reason, actor=world.cast.dispatcher)
    assert refused.value.field == field
    assert lines(world.alice) == before


def test_only_the_volunteers_community_or_the_centre_corrects(world):
    # 民主村's clerk does not correct 金山社区's volunteers; the street office does not either.
    for outsider in (world.village_clerk, world.cast.street_clerk, world.team_clerk):
        with pytest.raises(NotPermitted):
            points.points_correct(volunteer=world.alice, points=5, reason="补记", actor=outsider)
    points.points_correct(volunteer=world.carol, points=5, reason="补记", actor=world.village_clerk)
    points.points_correct(volunteer=world.dan, points=5, reason="补记", actor=world.cast.dispatcher)
    # dan lives nowhere recorded and is in no community team: only the centre corrects him.
    with pytest.raises(NotPermitted):
        points.points_correct(volunteer=world.dan, points=5, reason="补记", actor=world.cast.community_clerk)
    assert [points.balance(p) for p in (world.alice, world.carol, world.dan)] == [0, 5, 5]


# --- redemption -----------------------------------------------------------------------------------


def test_redeeming_more_than_the_balance_is_refused_and_nothing_is_written(world):
    earned(world, world.alice, 99)
    before = lines(world.alice)
    with translation.override("en"), pytest.raises(points.NotEnoughPoints) as refused:
        points.points_redeem(volunteer=world.alice, reward=world.rice, actor=world.alice.user)
    assert "costs 100 points; your balance is 99" in str(refused.value)
    assert lines(world.alice) == before
    assert Reward.objects.get(pk=world.rice.pk).stock == 5


def test_a_redemption_spends_the_points_and_one_unit_of_stock(world):
    earned(world, world.alice, 130)
    entry = points.points_redeem(volunteer=world.alice, reward=world.rice, actor=world.alice.user)
    assert (entry.kind, entry.points, entry.reward_id) == ("redemption", -100, world.rice.pk)
    assert points.balance(world.alice) == 30
    assert Reward.objects.get(pk=world.rice.pk).stock == 4


def test_the_last_unit_goes_once_and_then_the_reward_is_out_of_stock(world):
    earned(world, world.alice, 100)
    points.points_redeem(volunteer=world.alice, reward=world.soap, actor=world.alice.user)
    with pytest.raises(points.NotEnoughPoints):
        points.points_redeem(volunteer=world.alice, reward=world.soap, actor=world.alice.user)
    assert points.balance(world.alice) == 80
    assert Reward.objects.get(pk=world.soap.pk).stock == 0


def test_a_reward_of_another_community_or_for_someone_else_is_refused(world):
    earned(world, world.alice, 100)
    with pytest.raises(InvalidInput):
        points.points_redeem(volunteer=world.alice, reward=world.village_reward, actor=world.alice.user)
    with pytest.raises(NotPermitted):
        points.points_redeem(volunteer=world.alice, reward=world.rice, actor=world.cast.community_clerk)
    Reward.objects.filter(pk=world.rice.pk).update(is_active=False)
    with pytest.raises(InvalidInput):
        points.points_redeem(volunteer=world.alice, reward=world.rice, actor=world.alice.user)
    assert points.balance(world.alice) == 100


# --- rankings -------------------------------------------------------------------------------------


def test_the_monthly_rankings_match_a_count_of_our_own(world):
    march, april = points.Month.parse("2026-03"), points.Month.parse("2026-04")
    dispatcher = world.cast.dispatcher
    plan = [
        # (moment, volunteer, points): corrections count as earned; a redemption does not.
        (TUESDAY, world.alice, 40),
        (TUESDAY, world.bob, 25),
        (TUESDAY + timedelta(days=5), world.carol, 70),
        (TUESDAY + timedelta(days=6), world.bob, 30),
        (TUESDAY + timedelta(days=6), world.dan, 5),
        # The last moment of March in Shanghai, and the first of April.
        (march.end - timedelta(seconds=1), world.alice, 20),
        (april.start, world.dan, 500),
    ]
    for moment, person, amount in plan:
        with time_machine.travel(moment, tick=False):
            earned(world, person, amount, actor=dispatcher)
    with time_machine.travel(TUESDAY + timedelta(days=7), tick=False):
        points.points_redeem(volunteer=world.alice, reward=world.soap, actor=world.alice.user)

    def expected_people(month):
        totals = {}
        for moment, person, amount in plan:
            if month.start <= moment < month.end:
                totals[person.pk] = totals.get(person.pk, 0) + amount
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))

    got = points.ranking_volunteers(month=march)
    assert (
        [(row["volunteer_id"], row["points"]) for row in got]
        == expected_people(march)
        == [
            (world.carol.pk, 70),
            (world.alice.pk, 60),
            (world.bob.pk, 55),
            (world.dan.pk, 5),
        ]
    )
    assert got[0]["name"] == "羊志愿"
    assert [(row["volunteer_id"], row["points"]) for row in points.ranking_volunteers(month=april)] == [
        (world.dan.pk, 500)
    ]
    # Living in 金山社区 (alice; bob lives nowhere recorded).
    assert [row["volunteer_id"] for row in points.ranking_volunteers(month=march, region="210111001015")] == [
        world.alice.pk
    ]
    # A team's figure: what its members earned in the month, summed.
    people = dict(expected_people(march))
    teams = {
        world.team.pk: people[world.alice.pk] + people[world.bob.pk],
        world.village_team.pk: people[world.carol.pk],
        world.squad.pk: people[world.bob.pk] + people[world.dan.pk],
    }
    expected_teams = sorted(teams.items(), key=lambda item: (-item[1], item[0]))
    assert [(row["team_id"], row["points"]) for row in points.ranking_teams(month=march)] == expected_teams
    assert [row["team_id"] for row in points.ranking_teams(month=march, limit=1)] == [expected_teams[0][0]]


def test_each_ranking_is_one_query_whatever_the_number_of_rows(world, django_assert_num_queries):
    for person in (world.alice, world.bob, world.carol, world.dan):
        earned(world, person, 10)
    month = points.Month.current()
    with django_assert_num_queries(1):
        assert len(points.ranking_volunteers(month=month)) == 4
    with django_assert_num_queries(1):
        assert len(points.ranking_teams(month=month)) == 3


# --- the volunteer's phone page -------------------------------------------------------------------


def test_the_volunteers_ledger_page_shows_balance_lines_newest_first_and_their_rewards(world, client):
    with time_machine.travel(TUESDAY, tick=False):
        earned(world, world.alice, 120)
    with time_machine.travel(TUESDAY + timedelta(days=1), tick=False):
        points.points_correct(volunteer=world.alice, points=-20, reason="多记", actor=world.cast.dispatcher)
    client.force_login(world.alice.user)
    page = client.get("/volunteers/me/points/")
    assert page.status_code == 200
    assert page.context["balance"] == 100
    assert [line.points for line in page.context["lines"]] == [-20, 120]
    # 金山社区's rewards (she lives in its grid A, and is in its team), not 民主村's.
    assert {reward.name for reward in page.context["rewards"]} == {"大米5斤", "洗衣液"}
    assert 'id="balance">100<' in page.content.decode()


def test_the_ledger_page_is_pinned_in_queries(world, client, django_assert_num_queries):
    for amount in range(1, 30):
        earned(world, world.alice, amount)
    client.force_login(world.alice.user)
    # The session, the user, the volunteer, the count, the balance, the page of lines, the volunteer's
    # communities, their rewards; the navigation's postings and unread notices.
    with django_assert_num_queries(10):
        assert len(client.get("/volunteers/me/points/").context["lines"]) == 20


def test_the_ledger_page_is_404_for_an_account_that_is_no_volunteer(world, client):
    client.force_login(world.cast.community_clerk)
    assert client.get("/volunteers/me/points/").status_code == 404
    assert client.post("/volunteers/me/points/redeem/", {"reward": world.rice.pk, "balance": 0}).status_code == 404
    client.logout()
    assert client.get("/volunteers/me/points/").status_code == 302  # to sign in


def test_redeeming_on_the_phone_page_twice_by_a_double_tap_redeems_once(world, client):
    earned(world, world.alice, 250)
    client.force_login(world.alice.user)
    form = {"reward": world.rice.pk, "balance": 250}
    first = client.post("/volunteers/me/points/redeem/", form, follow=True)
    second = client.post("/volunteers/me/points/redeem/", form, follow=True)
    assert points.balance(world.alice) == 150
    assert Reward.objects.get(pk=world.rice.pk).stock == 4
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    assert [m.level_tag for m in second.context["messages"]] == ["error"]


def test_redeeming_more_than_held_on_the_page_says_so_and_changes_nothing(world, client):
    earned(world, world.alice, 50)
    client.force_login(world.alice.user)
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        answer = client.post("/volunteers/me/points/redeem/", {"reward": world.rice.pk, "balance": 50}, follow=True)
    assert "costs 100 points; your balance is 50" in answer.content.decode()
    assert points.balance(world.alice) == 50
    assert Reward.objects.get(pk=world.rice.pk).stock == 5


# --- the staff's pages ----------------------------------------------------------------------------


def test_the_community_clerk_corrects_on_the_page_once_even_when_the_form_is_sent_twice(world, client):
    earned(world, world.alice, 40)
    client.force_login(world.cast.community_clerk)
    listed = client.get("/volunteers/points/volunteers/")
    assert {person.pk for person in listed.context["people"]} == {world.alice.pk, world.bob.pk}
    form = {"points": "-15", "reason": "重复登记", "balance": "40"}
    url = f"/volunteers/points/volunteers/{world.alice.pk}/"
    assert client.post(url, form).status_code == 302
    again = client.post(url, form)
    assert again.status_code == 200 and "balance" in again.context["form"].errors
    assert [line[2] for line in lines(world.alice)] == [40, -15]
    # 民主村's volunteer is not hers to correct: 404, as if there were none.
    assert client.get(f"/volunteers/points/volunteers/{world.carol.pk}/").status_code == 404


def test_the_correction_pages_are_for_the_centre_and_the_committees_only(world, client):
    client.force_login(world.cast.street_clerk)
    assert client.get("/volunteers/points/volunteers/").status_code == 404
    client.force_login(world.cast.dispatcher)
    listed = client.get("/volunteers/points/volunteers/", {"q": "羊"})
    assert [person.pk for person in listed.context["people"]] == [world.carol.pk]


def test_the_ranking_page_shows_the_month(world, client, django_assert_num_queries):
    earned(world, world.carol, 70)
    earned(world, world.alice, 30)
    client.force_login(world.cast.street_clerk)
    # The session, the user, the postings (with whether they volunteer too), each ranking (2), the
    # unread notices.
    with django_assert_num_queries(6):
        page = client.get("/volunteers/points/")
    assert [row["points"] for row in page.context["volunteers"]] == [70, 30]
    assert client.get("/volunteers/points/", {"month": "2026-13"}).context["form"].errors
    client.force_login(world.cast.gridworker)
    assert client.get("/volunteers/points/").status_code == 404


def test_the_community_keeps_its_rewards_on_its_page(world, client):
    client.force_login(world.cast.community_clerk)
    form = {"community": world.cast.community.code, "name": "理发券", "cost": "30", "stock": "10"}
    assert client.post("/volunteers/rewards/", form).status_code == 302
    again = client.post("/volunteers/rewards/", form)  # the same form sent twice: one reward
    assert "name" in again.context["form"].errors
    assert Reward.objects.filter(name="理发券").count() == 1
    haircut = Reward.objects.get(name="理发券")
    restock = {"reward": haircut.pk, "stock": "25", "was": "10", "is_active": "on"}
    client.post("/volunteers/rewards/stock/", restock)
    client.post("/volunteers/rewards/stock/", restock)  # again: 25 is no longer 10, refused
    haircut.refresh_from_db()
    assert (haircut.stock, haircut.is_active) == (25, True)
    # Not 民主村's rewards: 404; a stock below zero is refused.
    assert client.post("/volunteers/rewards/stock/", {**restock, "reward": world.village_reward.pk}).status_code == 404
    client.post("/volunteers/rewards/stock/", {**restock, "was": "25", "stock": "-1"})
    haircut.refresh_from_db()
    assert haircut.stock == 25
    client.force_login(world.village_clerk)
    assert {reward.name for reward in client.get("/volunteers/rewards/").context["rewards"]} == {"毛巾"}


def test_a_change_of_stock_in_the_admin_keeps_a_redemption_made_meanwhile(world, client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="t_admin", is_staff=True, is_superuser=True))
    form = client.get(f"/admin/volunteers/reward/{world.rice.pk}/change/").context["adminform"].form
    earned(world, world.alice, 100)
    points.points_redeem(volunteer=world.alice, reward=world.rice, actor=world.alice.user)  # 5 → 4
    data = {**{name: form.initial[name] for name in ("name", "cost", "is_active")}, "stock": "15"}
    data["community"] = world.cast.community.pk
    data["initial-stock"] = "5"
    answer = client.post(f"/admin/volunteers/reward/{world.rice.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    # The clerk saw 5 and wrote 15 (+10): 4 + 10.
    assert Reward.objects.get(pk=world.rice.pk).stock == 14


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_step_loads_the_rules_the_canteens_services_and_rewards_once(world):
    from tests.factories import UserFactory, member
    from tests.volunteers.points_world import team, volunteer
    from volunteers.models import Booking, Service
    from volunteers.points_demo import demo_points_load

    cast = world.cast
    canteen = team("N-CANTEEN", "爱心食堂志愿服务分队", "special", cast.district, cast.district)
    member(UserFactory(username="community", real_name="赵丽华"), cast.committee)
    demo = volunteer("volunteer", "周晓雯", "13000000000", world.team, home=cast.community)
    # The squad of the canteen only (卫爱同行 and 极速帮办 are not in this world); 大米5斤 and 洗衣液
    # are 金山社区's already.
    assert demo_points_load() == {"rules": 3, "services": 2, "rewards": 2, "ledger lines": 1, "bookings": 3}
    assert demo_points_load() == {"rules": 0, "services": 0, "rewards": 0, "ledger lines": 0, "bookings": 0}
    assert points.rules() == points.DEFAULT_RULES
    assert dict(Service.objects.filter(team=canteen).values_list("name", "capacity")) == {
        "爱心午餐": 110,
        "送餐上门": 40,
    }
    assert points.balance(demo) == 160
    assert {reward.name for reward in points.rewards_for(demo)} >= {"大米5斤", "理发券"}
    assert Booking.objects.filter(day__service__team=canteen).count() == 3
