"""A mediator (评理说事) on a phone: signs in, opens the scheduled 评理会 from their list, records the
session (both parties present, a mediator, what each side said, 情理 and 法理), records the
agreement (调解协议) and opens the printable agreement with the parties and the terms on it. No
horizontal scroll at 390 px."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mediation import services
from mediation.models import Kind, Mediation, Mediator, Point
from tests.browser.helpers import log_in, no_horizontal_scroll
from tests.factories import UserFactory, make_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/suqu-mediation-{}.png"
TERMS = "地界石恢复原位，李长海赔偿青苗损失五百元。"


def test_a_mediator_records_a_session_and_prints_the_agreement(phone_page):
    cast = make_cast()
    point = Point.objects.create(
        code="M210111001015",
        name="金山社区评理说事点",
        level=Point.Level.COMMUNITY,
        region=cast.community,
        unit=cast.committee,
        kinds=Kind.values,
    )
    user = UserFactory(username="t_mediator", real_name="韩调解")
    elder = Mediator.objects.create(point=point, name="韩调解", role=Mediator.Role.ELDER, user=user)
    Mediator.objects.create(point=point, name="邓律师", role=Mediator.Role.LAWYER)
    mediation = services.mediation_open(
        actor=user,
        point=point,
        kind=Kind.FARMING,
        facts="两户承包地相邻，地界石被挪动约半米。",
        parties=[
            {"name": "王德福", "phone": "13904001101", "address": "东三组"},
            {"name": "李长海", "phone": "13904001102", "address": "东三组"},
        ],
    )
    services.mediation_schedule(
        mediation=mediation,
        actor=user,
        at=timezone.now() + datetime.timedelta(hours=1),
        place="社区党群服务中心",
        mediators=[elder],
    )
    page = phone_page

    log_in(page, "t_mediator")
    page.goto("/mediation/")
    row = page.locator(f"#mediations [data-mediation='{mediation.pk}']")
    expect(row).to_have_attribute("data-state", "scheduled")
    assert no_horizontal_scroll(page)
    row.tap()
    expect(page).to_have_url(re.compile(rf"/mediation/{mediation.pk}/$"))

    form = page.locator("#session-form")
    for party in mediation.parties.all():
        form.get_by_label(party.name).check()
    form.locator(f"input[name='mediators'][value='{elder.pk}']").check()
    form.locator("textarea[name='statements']").fill("王德福：地界石被挪了半米。李长海：是雨水冲的。")
    form.get_by_label("情理").check()
    form.get_by_label("法理").check()
    assert no_horizontal_scroll(page)
    form.locator("#session-submit").tap()
    expect(page.locator("#mediation-state")).to_have_attribute("data-state", "in_session")
    expect(page.locator("#sessions [data-held='1']")).to_contain_text("情理、法理")

    agreement = page.locator("#agreement-form")
    agreement.locator("textarea[name='terms']").fill(TERMS)
    follow_up = timezone.localdate() + datetime.timedelta(days=30)
    agreement.locator("input[name='follow_up_1']").fill(follow_up.isoformat())
    agreement.locator("#agreement-submit").tap()
    expect(page.locator("#mediation-state")).to_have_attribute("data-state", "agreement")
    assert no_horizontal_scroll(page)

    page.locator("#agreement-print").tap()
    sheet = page.locator("#agreement-sheet")
    expect(sheet.locator("#agreement-parties")).to_contain_text("王德福")
    expect(sheet.locator("#agreement-parties")).to_contain_text("李长海")
    expect(sheet.locator("#agreement-terms")).to_have_text(TERMS)
    expect(sheet.locator("#agreement-follow-up")).to_contain_text(
        f"{follow_up.year}年{follow_up.month}月{follow_up.day}日"
    )
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOT.format("agreement"), full_page=True)

    mediation.refresh_from_db()
    assert mediation.state == "agreement" and mediation.agreement.terms == TERMS
    session = mediation.sessions.get()
    assert session.held and session.reasoning == ["feeling", "law"]
    assert Mediation.objects.count() == 1
