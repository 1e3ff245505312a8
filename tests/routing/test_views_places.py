import pytest

from tests.factories import UserFactory, posted, region

pytestmark = pytest.mark.django_db


def test_an_official_lands_on_the_district_with_counts_per_street(client, cast):
    client.force_login(cast.official)
    response = client.get("/places/", follow=True)
    assert response.redirect_chain[-1][0] == "/places/210111/"
    children = {child.code: child for child in response.context["children"]}
    assert list(children) == ["210111001", "210111003"]
    jiefang = children["210111001"]
    # Grids A and B, the two grid workers posted there, the street office and the committee.
    assert (jiefang.grid_count, jiefang.worker_count, jiefang.unit_count) == (2, 2, 2)
    assert response.context["totals"] == {"grids": 3, "workers": 2, "units": 7}


def test_counts_equal_an_independent_count(client, cast):
    worker = UserFactory(username="both_grids")
    posted(worker, cast.grid_a, cast.grid_c)
    client.force_login(cast.dispatcher)
    response = client.get("/places/210111001015/")
    by_code = {child.code: child.worker_count for child in response.context["children"]}
    assert by_code == {
        grid.code: grid.postings.values("user").distinct().count() for grid in (cast.grid_a, cast.grid_b)
    }


def test_a_grid_page_lists_its_workers(client, cast):
    client.force_login(cast.official)
    response = client.get("/places/210111001015001/")
    assert response.status_code == 200
    assert "王网格" in response.text
    assert "李网格" not in response.text
    assert [a.name for a in response.context["ancestors"]] == ["苏家屯区", "解放街道", "金山社区"]


def test_search_finds_places_by_chinese_name_and_by_code(client, cast):
    client.force_login(cast.official)
    response = client.get("/places/", {"q": "民主"})
    assert [place.code for place in response.context["results"]] == ["210111003", "210111003201", "210111003201001"]
    response = client.get("/places/", {"q": "210111001015"})
    assert [place.code for place in response.context["results"]] == [
        "210111001015",
        "210111001015001",
        "210111001015002",
    ]


def test_a_street_clerk_lands_on_their_street_and_cannot_open_another(client, cast):
    client.force_login(cast.street_clerk)
    assert client.get("/places/")["Location"] == "/places/210111001/"
    assert client.get("/places/210111003/").status_code == 404
    # The district page above them opens, showing only their own street.
    response = client.get("/places/210111/")
    assert [child.code for child in response.context["children"]] == ["210111001"]


def test_a_grid_worker_cannot_open_a_neighbouring_grid(client, cast):
    client.force_login(cast.gridworker)
    assert client.get("/places/210111001015001/").status_code == 200
    assert client.get("/places/210111001015002/").status_code == 404


def test_a_department_clerk_has_no_places_page_and_no_menu_link(client, cast):
    client.force_login(cast.dept_clerk)
    assert client.get("/places/").status_code == 404
    assert "/places/" not in client.get("/").text


def test_an_unknown_code_is_404(client, cast):
    client.force_login(cast.official)
    assert client.get("/places/999999/").status_code == 404


def test_the_region_page_has_a_fixed_number_of_queries(client, cast, django_assert_num_queries):
    client.force_login(cast.official)
    client.get("/places/210111001015/")  # warm the session and the language
    with django_assert_num_queries(15) as captured:
        client.get("/places/210111001015/")
    few = len(captured.captured_queries)
    for n in range(3, 60):
        grid = region(f"210111001015{n:03d}", f"金山社区第{n}网格", cast.community)
        posted(UserFactory(username=f"w{n}"), grid)
    with django_assert_num_queries(few):
        response = client.get("/places/210111001015/")
    assert len(response.context["children"]) == 59
