import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def codes(response):
    return [row["code"] for row in response.json()["results"]]


def test_a_token_from_username_and_password_authenticates_later_calls(api, cast):
    response = api.post("/api/v1/auth/token/", {"username": "t_dispatcher", "password": "suqu-demo"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "t_dispatcher"


def test_a_wrong_password_gets_no_token_and_names_the_problem(api, cast):
    response = api.post("/api/v1/auth/token/", {"username": "t_dispatcher", "password": "nope"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "token" not in body
    assert body["detail"]


def test_the_token_endpoint_is_locked_out_like_the_login_page(api, cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/v1/auth/token/", {"username": "t_dispatcher", "password": "nope"}, format="json")
    response = api.post("/api/v1/auth/token/", {"username": "t_dispatcher", "password": "suqu-demo"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "token" not in response.json()


def test_anonymous_callers_get_401_or_403_with_a_code(api, cast):
    response = api.get("/api/v1/regions/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_me_tells_each_role_who_they_are(api, cast):
    api.force_authenticate(cast.gridworker)
    assert api.get("/api/v1/me/").json() == {
        "username": "t_gridworker",
        "real_name": "王网格",
        "roles": ["grid_worker"],
        "units": [],
        "grids": ["210111001015001"],
    }
    api.force_authenticate(cast.community_clerk)
    body = api.get("/api/v1/me/").json()
    assert (body["roles"], body["units"], body["grids"]) == (["community_staff"], ["C210111001015"], [])
    api.force_authenticate(cast.dispatcher)
    assert api.get("/api/v1/me/").json()["roles"] == ["dispatcher"]
    api.force_authenticate(cast.official)
    assert api.get("/api/v1/me/").json()["roles"] == ["official"]


def test_regions_filter_by_level_and_parent(api, cast):
    api.force_authenticate(cast.dispatcher)
    response = api.get("/api/v1/regions/", {"level": "street"})
    assert codes(response) == ["210111001", "210111003"]
    row = response.json()["results"][0]
    assert row == {"code": "210111001", "name": "解放街道", "level": "street", "parent": "210111", "community_kind": ""}
    assert codes(api.get("/api/v1/regions/", {"parent": "210111001015"})) == ["210111001015001", "210111001015002"]


def test_regions_search_by_chinese_name_or_code_prefix(api, cast):
    api.force_authenticate(cast.dispatcher)
    assert codes(api.get("/api/v1/regions/", {"q": "金山"})) == ["210111001015", "210111001015001", "210111001015002"]
    assert codes(api.get("/api/v1/regions/", {"q": "210111003"})) == ["210111003", "210111003201", "210111003201001"]


def test_regions_are_paginated(api, cast):
    api.force_authenticate(cast.dispatcher)
    body = api.get("/api/v1/regions/", {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 8


def test_a_grid_worker_sees_only_their_grid_and_the_places_above_it(api, cast):
    api.force_authenticate(cast.gridworker)
    assert codes(api.get("/api/v1/regions/")) == ["210111", "210111001", "210111001015", "210111001015001"]
    assert api.get("/api/v1/regions/210111001015002/").status_code == 404


def test_a_bad_level_answers_400_naming_the_field(api, cast):
    api.force_authenticate(cast.dispatcher)
    response = api.get("/api/v1/regions/", {"level": "planet"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "level" in body["errors"]
    assert body["detail"].startswith("level:")


def test_units_filter_by_kind(api, cast):
    api.force_authenticate(cast.dispatcher)
    response = api.get("/api/v1/units/", {"kind": "street_office"})
    assert codes(response) == ["S210111001", "S210111003"]
    assert response.json()["results"][0] == {
        "code": "S210111001",
        "name": "解放街道办事处",
        "kind": "street_office",
        "region": "210111001",
        "parent": "LEADERSHIP",
    }


def test_a_community_clerk_does_not_see_another_streets_offices(api, cast):
    api.force_authenticate(cast.community_clerk)
    visible = codes(api.get("/api/v1/units/"))
    assert "C210111001015" in visible and "S210111001" in visible and "D-HOUSING" in visible
    assert "S210111003" not in visible and "C210111003201" not in visible


def test_the_region_list_has_a_fixed_number_of_queries(api, cast, django_assert_max_num_queries):
    from tests.factories import region

    for n in range(3, 40):
        region(f"210111001015{n:03d}", f"金山社区第{n}网格", cast.community)
    api.force_authenticate(cast.dispatcher)
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/regions/", {"page_size": 100})
    assert response.json()["count"] == 45


def test_the_openapi_schema_describes_the_endpoints(api, cast):
    api.force_authenticate(cast.dispatcher)
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/regions/", "/api/v1/units/", "/api/v1/me/", "/api/v1/auth/token/"} <= set(paths)


def test_the_api_docs_are_served_from_this_site(client, cast):
    client.force_login(cast.dispatcher)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.text
    assert "swagger-ui" in html
    # Government intranets have no internet: every script and style comes from this site.
    assert "cdn" not in html.lower()
    assert "https://" not in html and "http://" not in html.replace("http://testserver", "")
