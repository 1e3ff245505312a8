"""The demo's 评理说事 (`load_demo`'s "demo mediation" step) on the cast's small world: a point at
each level (the district's hosted by the centre, each street's by its office, each community's by
its committee) with 2–4 mediators, villages taking farming and family matters, the `mediator` login
at 金山社区's point, three demo mediations (accepted, scheduled, agreement) made through the
services; a second run adds nothing; only the communities with the lowest codes get a point."""

import pytest
from django.db.models import Count

from accounts.models import User
from mediation import demo
from mediation.models import Kind, Mediation, Mediator, Point
from tests.factories import make_cast

pytestmark = pytest.mark.django_db


def test_the_demo_makes_points_at_three_levels_and_the_mediator_login(settings):
    settings.DEBUG = True
    cast = make_cast()
    made = demo.demo_mediation_load()
    levels = dict(Point.objects.values_list("level").annotate(n=Count("id")))
    assert levels == {"district": 1, "street": 2, "community": 2}
    assert made["points"] == 5
    hosts = dict(Point.objects.values_list("code", "unit__code"))
    assert hosts["M210111"] == "CENTRE"
    assert hosts["M210111001"] == cast.street_office.code and hosts["M210111001015"] == cast.committee.code
    counts = Point.objects.annotate(n=Count("mediators")).values_list("code", "n")
    assert all(2 <= n <= 5 for _code, n in counts)  # 金山社区's: 2–4 and the `mediator` login
    higher = set(Mediator.objects.filter(point__level="street").values_list("role", flat=True))
    assert higher == {"elder", "lawyer", "police", "judge"}
    village = Point.objects.get(region=cast.other_community)
    assert village.kinds == [Kind.FARMING, Kind.FAMILY]

    login = User.objects.get(username="mediator")
    assert login.check_password("suqu-demo")
    assert Mediator.objects.get(user=login).point.code == "M210111001015"
    states = sorted(Mediation.objects.filter(point__code="M210111001015").values_list("state", flat=True))
    assert states == ["accepted", "agreement", "scheduled"]

    names = sorted(Mediator.objects.values_list("name", flat=True))
    assert demo.demo_mediation_load() == {"points": 0, "mediators": 0, "mediations": 0}
    assert sorted(Mediator.objects.values_list("name", flat=True)) == names
    assert Mediation.objects.count() == 3


def test_only_the_communities_with_the_lowest_codes_get_a_point(settings, monkeypatch):
    settings.DEBUG = True
    cast = make_cast()
    monkeypatch.setattr(demo, "COMMUNITY_POINTS", 1)
    demo.demo_mediation_load()
    communities = list(Point.objects.filter(level="community").values_list("region__code", flat=True))
    assert communities == [cast.community.code]  # 210111001015 < 民主村's 210111003201
