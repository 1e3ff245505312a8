import pytest

from tests.suggestions.history import UNSEEN

pytestmark = pytest.mark.django_db

URL = "/api/v1/suggestions/"


def test_the_api_answers_three_categories_with_the_unit_in_the_grid(client, trained, world):
    client.force_login(world.gridworker)
    response = client.post(
        URL, {"description": UNSEEN["0101"], "grid": world.grid_a.code}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response["X-Suggester-Version"] == str(trained.number)
    assert "X-Suggester-Fallback" not in response
    body = response.json()
    assert isinstance(body, list) and len(body) == 3
    assert body[0]["category"] == "0101" and body[0]["name"] == "违章建筑"
    assert body[0]["unit"] == {"code": "S210111001", "name": "解放街道办事处"}
    assert set(body[0]) == {"category", "name", "score", "unit"}
    assert 0 < body[0]["score"] <= 1


def test_without_a_grid_no_unit_is_named(client, trained, world):
    client.force_login(world.dispatcher)
    body = client.post(URL, {"description": UNSEEN["0103"]}, content_type="application/json").json()
    assert body[0]["category"] == "0103"
    assert [item["unit"] for item in body] == [None, None, None]


def test_with_too_little_history_the_keywords_answer_and_the_headers_say_so(client, history, world):
    client.force_login(world.dispatcher)
    response = client.post(URL, {"description": "楼下燃气泄漏"}, content_type="application/json")
    assert response.status_code == 200
    assert response["X-Suggester-Version"] == "keywords"
    assert response["X-Suggester-Fallback"] == "1"
    assert [item["category"] for item in response.json()] == ["0303"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "  \n\t "}, "description"),
        ({}, "description"),
        ({"description": UNSEEN["0201"], "grid": "210111009999999"}, "grid"),
        ({"description": UNSEEN["0201"], "grid": "210111001015"}, "grid"),  # a community, not a grid
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, world, body, field):
    client.force_login(world.dispatcher)
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]


def test_twenty_thousand_characters_are_read_from_the_start(client, trained, world):
    client.force_login(world.dispatcher)
    response = client.post(URL, {"description": UNSEEN["0103"] + "好" * 20_000}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()[0]["category"] == "0103"


def test_only_those_who_take_calls_or_dispatch_get_suggestions(client, trained, world):
    for person in (world.dept_clerk, world.official):
        client.force_login(person)
        response = client.post(URL, {"description": UNSEEN["0103"]}, content_type="application/json")
        assert response.status_code == 403
    client.logout()
    assert client.post(URL, {"description": UNSEEN["0103"]}, content_type="application/json").status_code in (401, 403)
    for person in (world.gridworker, world.community_clerk, world.street_clerk, world.dispatcher):
        client.force_login(person)
        assert client.post(URL, {"description": UNSEEN["0103"]}, content_type="application/json").status_code == 200
