"""The mediators' pages (评理说事): the list of their points' mediations by state in a fixed number of
queries, accepting a walk-in, scheduling, recording a session, the agreement and its printable
调解协议, the signed copy, the moves offered only where the table allows them, the parties' phones
masked with a recorded reveal, and a case sent to mediation from its page. Each form's bad input
shows the page again with a Chinese error and nothing saved; a person who works no mediation gets
404."""

import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from mediation import services
from mediation.models import Agreement, Kind, Mediation, MediationEvent, Mediator, Point, Session
from tests.factories import Cast, UserFactory, make_cast

pytestmark = pytest.mark.django_db

REQUIRED_ZH = "该字段是必填项。"
LIST_QUERIES = 8


@dataclass
class World:
    cast: Cast
    point: Point  # 金山社区评理说事点, hosted by 金山社区居委会
    street_point: Point  # 解放街道评理说事站
    elder: Mediator  # t_mediator's post at 金山社区
    lawyer: Mediator  # at 金山社区, no account
    mediator: object  # t_mediator
    other_mediator: object  # t_mediator2, of 民主村's point only


def _build():
    from cases.services import categories_load
    from tests.factories import routing_setup

    cast = make_cast()
    categories_load()
    routing_setup(cast)
    point = Point.objects.create(
        code="M210111001015",
        name="金山社区评理说事点",
        level=Point.Level.COMMUNITY,
        region=cast.community,
        unit=cast.committee,
        kinds=Kind.values,
    )
    street_point = Point.objects.create(
        code="M210111001",
        name="解放街道评理说事站",
        level=Point.Level.STREET,
        region=cast.street,
        unit=cast.street_office,
        kinds=Kind.values,
    )
    village = Point.objects.create(
        code="M210111003201",
        name="民主村评理说事点",
        level=Point.Level.COMMUNITY,
        region=cast.other_community,
        unit=cast.other_committee,
        kinds=[Kind.FARMING, Kind.FAMILY],
    )
    mediator = UserFactory(username="t_mediator", real_name="韩调解")
    other = UserFactory(username="t_mediator2", real_name="冯调解")
    elder = Mediator.objects.create(point=point, name="韩调解", role=Mediator.Role.ELDER, user=mediator)
    lawyer = Mediator.objects.create(point=point, name="邓律师", role=Mediator.Role.LAWYER)
    Mediator.objects.create(point=village, name="冯调解", role=Mediator.Role.ELDER, user=other)
    Mediator.objects.create(point=street_point, name="严法官", role=Mediator.Role.JUDGE)
    return World(cast, point, street_point, elder, lawyer, mediator, other)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def _open(world, facts="两户地界石挪动，争占半米承包地", kind=Kind.FARMING):
    return services.mediation_open(
        actor=world.mediator,
        point=world.point,
        kind=kind,
        facts=facts,
        parties=[
            {"name": "王德福", "phone": "13904001101", "address": "东三组"},
            {"name": "李长海", "phone": "13904001102", "address": "东三组"},
        ],
    )


def _scheduled(world):
    mediation = _open(world)
    services.mediation_schedule(
        mediation=mediation,
        actor=world.mediator,
        at=timezone.now() + datetime.timedelta(hours=2),
        place="社区党群服务中心",
        mediators=[world.elder],
    )
    return mediation


def _in_session(world):
    mediation = _scheduled(world)
    services.mediation_session(
        mediation=mediation,
        actor=world.mediator,
        present=list(mediation.parties.all()),
        mediators=[world.elder],
        statements="双方各自陈述",
        reasoning=["feeling"],
    )
    return mediation


def _agreed(world):
    mediation = _in_session(world)
    services.mediation_agreement(
        mediation=mediation,
        actor=world.mediator,
        terms="地界石恢复原位，李长海赔偿青苗损失五百元。",
        follow_up=[timezone.localdate() + datetime.timedelta(days=30)],
    )
    return mediation


def _url(name, mediation, *args):
    return reverse(f"mediation:{name}", args=[mediation.pk, *args])


def test_the_list_shows_the_points_mediations_by_state_in_fixed_queries(world, client, django_assert_num_queries):
    accepted, scheduled = _open(world), _scheduled(world)
    client.force_login(world.mediator)
    client.get(reverse("mediation:list"))  # the session and the site's caches warm
    # The session and the user, the postings, the state counts, the page's count, its rows,
    # their parties, the unread notices.
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("mediation:list"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert {m.pk for m in rows} == {accepted.pk, scheduled.pk}
    assert "王德福 · 李长海" in response.text
    tabs = {tab["value"]: tab["count"] for tab in response.context["tabs"]}
    assert (tabs[""], tabs["accepted"], tabs["scheduled"], tabs["closed"]) == (2, 1, 1, 0)
    # By state: only the scheduled one.
    only = client.get(reverse("mediation:list"), {"state": "scheduled"})
    assert [m.pk for m in only.context["rows"]] == [scheduled.pk]
    # Three more mediations, the same number of queries (none per row).
    for _ in range(3):
        _scheduled(world)
    with django_assert_num_queries(LIST_QUERIES):
        more = client.get(reverse("mediation:list"))
    assert len(more.context["rows"]) == 5


def test_a_person_who_works_no_mediation_gets_404(world, client):
    mediation = _open(world)
    client.force_login(world.cast.dept_clerk)
    assert client.get(reverse("mediation:list")).status_code == 404
    assert client.get(reverse("mediation:new")).status_code == 404
    assert client.get(_url("detail", mediation)).status_code == 404
    # Another point's mediator: their list, not this mediation.
    client.force_login(world.other_mediator)
    assert client.get(reverse("mediation:list")).status_code == 200
    assert client.get(_url("detail", mediation)).status_code == 404
    assert client.post(_url("schedule", mediation), {"place": "x"}).status_code == 404
    assert client.get(_url("detail", mediation).replace(str(mediation.pk), "999999")).status_code == 404


def test_the_navigation_shows_mediation_to_a_mediator_without_a_query_of_its_own(world, client):
    client.force_login(world.mediator)
    response = client.get(reverse("mediation:list"))
    assert reverse("mediation:list") in [item["url"] for item in response.context["navigation"]]
    client.force_login(world.cast.dept_clerk)
    home = client.get("/")
    assert reverse("mediation:list") not in [item["url"] for item in home.context["navigation"]]


def _walk_in(**changes):
    data = {
        "point": "",
        "kind": Kind.FARMING,
        "facts": "上游农户私设挡板截水，下游稻田缺水",
        "party1_name": "赵玉山",
        "party1_phone": "13904001103",
        "party1_address": "西二组",
        "party2_name": "孙桂芝",
        "party2_phone": "",
        "party2_address": "",
    }
    data.update(changes)
    return data


def test_a_walk_in_is_accepted(world, client):
    client.force_login(world.mediator)
    response = client.post(reverse("mediation:new"), _walk_in(point=world.point.pk))
    mediation = Mediation.objects.get(facts__startswith="上游农户")
    assert response.status_code == 302 and response["Location"] == _url("detail", mediation)
    assert (mediation.point, mediation.state, mediation.created_by) == (world.point, "accepted", world.mediator)
    assert [p.name for p in mediation.parties.all()] == ["赵玉山", "孙桂芝"]
    page = client.get(_url("detail", mediation))
    assert "139****1103" in page.text and "13904001103" not in page.text


def test_a_walk_in_with_one_party_shows_a_chinese_error_and_saves_nothing(world, client):
    client.force_login(world.mediator)
    response = client.post(reverse("mediation:new"), _walk_in(point=world.point.pk, party2_name=""))
    assert response.status_code == 200
    assert response.context["form"].errors["party2_name"] == [REQUIRED_ZH]
    assert REQUIRED_ZH in response.text
    no_facts = client.post(reverse("mediation:new"), _walk_in(point=world.point.pk, facts=""))
    assert no_facts.context["form"].errors["facts"] == [REQUIRED_ZH]
    assert not Mediation.objects.filter(facts__startswith="上游农户").exists()


def test_scheduling_a_session(world, client):
    mediation = _open(world)
    client.force_login(world.mediator)
    at = (timezone.localtime() + datetime.timedelta(days=1)).replace(second=0, microsecond=0)
    response = client.post(
        _url("schedule", mediation),
        {
            "at": at.strftime("%Y-%m-%dT%H:%M"),
            "place": "社区党群服务中心",
            "mediators": [world.elder.pk, world.lawyer.pk],
        },
    )
    assert response.status_code == 302
    mediation.refresh_from_db()
    session = mediation.sessions.get()
    assert (mediation.state, session.at, session.place, session.held) == ("scheduled", at, "社区党群服务中心", False)
    assert set(session.mediators.all()) == {world.elder, world.lawyer}


def test_scheduling_without_a_mediator_shows_a_chinese_error_and_saves_nothing(world, client):
    mediation = _open(world)
    client.force_login(world.mediator)
    response = client.post(_url("schedule", mediation), {"at": "2030-01-01T10:00", "place": "社区"})
    assert response.status_code == 400
    assert response.context["forms"]["schedule"].errors["mediators"] == [REQUIRED_ZH]
    assert 'data-error-for="mediators"' in response.text
    mediation.refresh_from_db()
    assert (mediation.state, mediation.sessions.count()) == ("accepted", 0)


def _session_data(world, mediation, **changes):
    data = {
        "present": [p.pk for p in mediation.parties.all()],
        "mediators": [world.elder.pk],
        "statements": "王德福：地界石被挪了半米。李长海：石头是雨水冲的。",
        "reasoning": ["feeling", "law"],
        "record": "调解员讲明承包合同的四至，双方同意重新测量。",
    }
    data.update(changes)
    return data


def test_recording_a_session(world, client):
    mediation = _scheduled(world)
    client.force_login(world.mediator)
    response = client.post(_url("session", mediation), _session_data(world, mediation))
    assert response.status_code == 302
    mediation.refresh_from_db()
    session = mediation.sessions.get()
    assert mediation.state == "in_session"
    assert (session.held, session.reasoning) == (True, ["feeling", "law"])
    assert set(session.parties_present.all()) == set(mediation.parties.all())
    page = client.get(_url("detail", mediation))
    assert "情理、法理" in page.text and "石头是雨水冲的" in page.text


def test_a_session_without_both_parties_is_refused_with_nothing_saved(world, client):
    mediation = _scheduled(world)
    one = mediation.parties.first()
    client.force_login(world.mediator)
    response = client.post(_url("session", mediation), _session_data(world, mediation, present=[one.pk]))
    assert response.status_code == 400
    assert 'data-error-for="present"' in response.text
    no_reasoning = client.post(_url("session", mediation), _session_data(world, mediation, reasoning=[]))
    assert no_reasoning.status_code == 400 and 'data-error-for="reasoning"' in no_reasoning.text
    no_statements = client.post(_url("session", mediation), _session_data(world, mediation, statements=""))
    assert no_statements.context["forms"]["session"].errors["statements"] == [REQUIRED_ZH]
    mediation.refresh_from_db()
    assert mediation.state == "scheduled"
    assert not mediation.sessions.filter(held=True).exists()


def test_recording_the_agreement_and_printing_it(world, client):
    mediation = _in_session(world)
    client.force_login(world.mediator)
    follow = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(
        _url("agreement", mediation), {"terms": "地界石恢复原位。", "follow_up_1": follow.isoformat()}
    )
    assert response.status_code == 302
    mediation.refresh_from_db()
    assert mediation.state == "agreement"
    assert (mediation.agreement.terms, mediation.agreement.follow_up) == ("地界石恢复原位。", [follow])
    printed = client.get(_url("agreement-print", mediation))
    assert printed.status_code == 200
    for text in (
        "王德福",
        "李长海",
        "地界石恢复原位。",
        "两户地界石挪动",
        f"{follow.year}年{follow.month}月{follow.day}日",
    ):
        assert text in printed.text
    assert "style=" not in printed.text.split('id="agreement-sheet"')[1]  # CSP: no inline styles


def test_an_agreement_without_terms_shows_a_chinese_error_and_saves_nothing(world, client):
    mediation = _in_session(world)
    client.force_login(world.mediator)
    response = client.post(_url("agreement", mediation), {"terms": "", "follow_up_1": "2030-01-01"})
    assert response.status_code == 400
    assert response.context["forms"]["agreement"].errors["terms"] == [REQUIRED_ZH]
    mediation.refresh_from_db()
    assert mediation.state == "in_session" and not Agreement.objects.filter(mediation=mediation).exists()
    # Before an agreement there is nothing to print.
    assert client.get(_url("agreement-print", mediation)).status_code == 404


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(buffer, "PNG")
    return SimpleUploadedFile("signed.png", buffer.getvalue(), content_type="image/png")


def test_uploading_the_signed_copy(world, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mediation = _agreed(world)
    client.force_login(world.mediator)
    bad = client.post(
        _url("sign", mediation), {"scan": SimpleUploadedFile("a.png", b"not a picture", content_type="image/png")}
    )
    assert bad.status_code == 400 and 'data-error-for="scan"' in bad.text
    mediation.refresh_from_db()
    assert mediation.state == "agreement" and not mediation.agreement.signed_scan
    response = client.post(_url("sign", mediation), {"scan": _png()})
    assert response.status_code == 302
    mediation.refresh_from_db()
    assert mediation.state == "follow_up" and mediation.agreement.signed_scan


def test_the_page_offers_only_the_moves_the_table_allows(world, client):
    client.force_login(world.mediator)
    scheduled = client.get(_url("detail", _scheduled(world))).text
    assert 'id="session-form"' in scheduled and 'id="refer-form"' in scheduled
    for absent in ("agreement-form", "no-agreement-form", "break-form", "close-form", "sign-form"):
        assert f'id="{absent}"' not in scheduled
    agreed = client.get(_url("detail", _agreed(world))).text
    for present in ("sign-form", "break-form", "close-form", "agreement-print"):
        assert f'id="{present}"' in agreed
    for absent in ("session-form", "refer-form", "schedule-form"):
        assert f'id="{absent}"' not in agreed


def test_no_agreement_break_refer_and_close_from_the_page(world, client):
    client.force_login(world.mediator)
    none = _in_session(world)
    assert client.post(_url("no-agreement", none), {"none-note": "双方分歧太大"}).status_code == 302
    none.refresh_from_db()
    assert none.state == "no_agreement"
    assert client.post(_url("close", none), {"close-note": ""}).status_code == 302
    none.refresh_from_db()
    assert none.state == "closed"

    broken = _agreed(world)
    assert client.post(_url("break", broken), {"break-note": "李长海未按期赔偿"}).status_code == 302
    broken.refresh_from_db()
    assert broken.state == "accepted" and broken.agreement.broken_at is not None

    up = _open(world)
    response = client.post(_url("refer", up), {"refer-where": "up", "refer-note": "涉及两个社区"})
    up.refresh_from_db()
    higher = Mediation.objects.get(referred_from=up)
    assert (up.state, higher.point, higher.state) == ("referred", world.street_point, "accepted")
    assert response.status_code == 302  # the street's mediation is not the community mediator's: back here
    assert response["Location"] == _url("detail", up)

    out = _open(world)
    missing = client.post(_url("refer", out), {"refer-where": "out", "refer-to": "", "refer-note": "x"})
    assert missing.status_code == 400 and 'data-error-for="to"' in missing.text
    client.post(_url("refer", out), {"refer-where": "out", "refer-to": "区人民法院", "refer-note": "起诉"})
    out.refresh_from_db()
    assert (out.state, out.referred_to) == ("referred", "区人民法院")


def test_a_move_the_state_does_not_allow_is_refused_with_a_message(world, client):
    mediation = _open(world)
    client.force_login(world.mediator)
    response = client.post(_url("close", mediation), {"close-note": ""}, HTTP_REFERER=_url("detail", mediation))
    assert response.status_code == 302
    mediation.refresh_from_db()
    assert mediation.state == "accepted" and not mediation.events.filter(action="close").exists()


def test_revealing_a_partys_phone_is_recorded_and_not_for_an_official(world, client):
    mediation = _open(world)
    party = mediation.parties.first()
    client.force_login(world.mediator)
    assert 'data-action="reveal"' in client.get(_url("detail", mediation)).text
    response = client.post(_url("reveal-phone", mediation, party.pk))
    assert "13904001101" in response.text
    assert MediationEvent.objects.filter(mediation=mediation, action="reveal_phone", actor=world.mediator).count() == 1
    client.force_login(world.cast.official)
    page = client.get(_url("detail", mediation))
    assert page.status_code == 200 and 'data-action="reveal"' not in page.text
    assert 'id="schedule-form"' not in page.text  # officials read: no move offered
    refused = client.post(_url("reveal-phone", mediation, party.pk))
    assert refused.status_code == 302 and "13904001101" not in refused.text
    assert MediationEvent.objects.filter(mediation=mediation, action="reveal_phone").count() == 1


def test_a_case_is_sent_to_mediation_from_its_page(world, client):
    from tests.handling.helpers import signed_case

    case = signed_case(world.cast)
    client.force_login(world.cast.community_clerk)
    page = client.get(reverse("cases:detail", args=[case.number]))
    assert 'id="mediate-form"' in page.text and "金山社区评理说事点" in page.text
    response = client.post(
        reverse("mediation:case-send", args=[case.number]), {"point": world.point.pk, "note": "邻里纠纷"}
    )
    mediation = Mediation.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == _url("detail", mediation)
    assert mediation.point == world.point and case.events.filter(action="mediate").exists()
    # Already in mediation: the form is not offered again... and a second post adds nothing.
    client.post(reverse("mediation:case-send", args=[case.number]), {"point": world.point.pk})
    assert Mediation.objects.filter(case=case).count() == 1
    # A grid worker does not lead the case: no form.
    client.force_login(world.cast.gridworker)
    assert 'id="mediate-form"' not in client.get(reverse("cases:detail", args=[case.number])).text


def test_the_session_form_lists_only_this_points_mediators(world, client):
    mediation = _scheduled(world)
    client.force_login(world.mediator)
    form = client.get(_url("detail", mediation)).context["forms"]["session"]
    assert set(form.fields["mediators"].queryset) == {world.elder, world.lawyer}
    assert Session.Reasoning.LAW in dict(form.fields["reasoning"].choices)
