"""The suggestions where calls are taken (the call form's panel, the calls API) and dispatched (the
console), and the version recorded on a call it helped."""

import pytest

from intake.models import Call
from tests.factories import call_body, open_case
from tests.suggestions.history import UNSEEN

pytestmark = pytest.mark.django_db

PANEL = "/intake/category-suggestions/"


def form_body(world, **overrides):
    return {
        "submission": "a" * 32,
        "channel": "patrol",
        "description": UNSEEN["0101"],
        "category": "0101",
        "grid": world.grid_a.code,
        "follow": "on",
        **overrides,
    }


def test_the_panel_shows_the_three_suggestions_with_score_and_unit(client, trained, world):
    client.force_login(world.gridworker)
    response = client.post(PANEL, {"description": UNSEEN["0101"], "grid": world.grid_a.code})
    assert response.status_code == 200
    suggestions = response.context["suggestions"]
    first = suggestions.items[0]
    assert first.category.code == "0101"
    version = f'data-suggester-version="{trained.number}"'
    button = f'data-category="0101" {version}>违章建筑 · {first.percent}% → 解放街道办事处</button>'
    assert button in response.text
    assert response.text.count("<button") == 3
    assert 'id="suggestions-fallback"' not in response.text


def test_the_panel_says_when_the_keywords_suggest(client, history, world):
    client.force_login(world.gridworker)
    response = client.post(PANEL, {"description": "小区垃圾没人清运", "grid": world.grid_a.code})
    assert 'id="suggestions-fallback"' in response.text
    assert 'data-category="0201" data-suggester-version="">环境卫生 · 100% → 金山社区居委会</button>' in response.text


def test_the_panel_is_empty_for_blank_text_and_cuts_a_long_one(client, trained, world):
    client.force_login(world.gridworker)
    assert "<button" not in client.post(PANEL, {"description": "   "}).text
    long = client.post(PANEL, {"description": UNSEEN["0103"] + "好" * 20_000, "grid": "nonsense"})
    assert long.status_code == 200
    assert long.context["suggestions"].items[0].category.code == "0103"
    assert long.context["suggestions"].items[0].unit is None  # an unknown grid names no unit


def test_the_panel_is_for_those_who_take_calls(client, trained, world):
    client.force_login(world.dept_clerk)
    assert client.post(PANEL, {"description": UNSEEN["0103"]}).status_code == 404
    client.force_login(world.gridworker)
    assert client.get(PANEL, {"description": UNSEEN["0103"]}).status_code == 405


def test_a_call_registered_after_picking_a_suggestion_records_its_version(client, trained, world):
    client.force_login(world.gridworker)
    response = client.post("/intake/new/", form_body(world, suggester_version=str(trained.number)))
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.suggester_version == trained
    assert call.case.category.code == "0101"
    assert list(trained.calls.all()) == [call]


def test_a_call_whose_category_was_chosen_by_hand_records_no_version(client, trained, world):
    client.force_login(world.gridworker)
    client.post("/intake/new/", form_body(world, suggester_version=""))
    client.post("/intake/new/", form_body(world, submission="b" * 32, suggester_version="99"))  # no such version
    assert [call.suggester_version for call in Call.objects.order_by("pk")] == [None, None]


def test_the_calls_api_records_the_version_and_refuses_an_unknown_one(client, trained, world):
    client.force_login(world.dispatcher)
    response = client.post(
        "/api/v1/calls/", call_body(suggester_version=trained.number), content_type="application/json"
    )
    assert response.status_code == 201
    assert Call.objects.get().suggester_version == trained
    refused = client.post("/api/v1/calls/", call_body(suggester_version=99), content_type="application/json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["suggester_version"]


def test_the_console_shows_the_likely_categories_of_the_cases_waiting(client, trained, world):
    # Registered as 环境卫生, though the caller spoke of a roof-top shed.
    misfiled = open_case(world, category_code="0201", description=UNSEEN["0101"])
    fitting = open_case(world, category_code="0103", description=UNSEEN["0103"])
    client.force_login(world.dispatcher)
    response = client.get("/routing/console/")
    learned = {case.number: case.learned for case in response.context["cases"]}
    assert len(learned[misfiled.number].items) == 2  # the console shows the two most likely
    assert learned[misfiled.number].items[0].category.code == "0101"
    assert learned[misfiled.number].items[0].unit.code == "S210111001"
    assert learned[fitting.number].items[0].category.code == "0103"
    assert 'data-learned-category="0101" class="text-warning-emphasis">违章建筑' in response.text
    assert 'data-learned-category="0103">物业管理' in response.text
