"""The call-logging page `/intake/new/` and the htmx helpers it calls while a call is typed."""

import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases.models import Case, CasePhoto
from feedback import services as feedback_services
from intake.models import Call
from tests.factories import open_case

pytestmark = pytest.mark.django_db

GRID_A = "210111001015001"
GRID_B = "210111001015002"
DESCRIPTION = "金山社区3号楼门口垃圾堆放多日无人清理，气味很大"
# Django's own message for a required field, as the zh_Hans catalogue shipped with Django 6.1 says it.
REQUIRED = "该字段是必填项。"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def jpeg(name="photo.jpg", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def call_form(**overrides):
    """What the page posts for a patrol finding in grid A, without a photo unless one is given."""
    data = {
        "channel": "patrol",
        "caller_name": "",
        "caller_phone": "",
        "description": DESCRIPTION,
        "category": "0201",
        "grid": GRID_A,
        "address": "金山路3号",
        "latitude": "",
        "longitude": "",
        "priority": "",
        "attach_to": "",
        "answer": "",
        "submission": "f3b1c0de",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


# --- the page ------------------------------------------------------------------------------------


def test_a_grid_worker_gets_the_form_with_their_grid_preselected_and_patrol_as_channel(client, cast, categories):
    client.force_login(cast.gridworker)
    response = client.get("/intake/new/")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["grid"].value() == GRID_A
    assert form["channel"].value() == "patrol"
    assert response.context["places"]["grid"] == GRID_A
    assert [grid.code for grid in response.context["places"]["grids"]] == [GRID_A]
    html = response.text
    assert f'<option value="{GRID_A}" selected>' in html
    assert '<option value="patrol" selected>' in html
    # A fresh submission key is drawn into the page, so a double click carries the same one.
    assert form["submission"].value()
    assert f'value="{form["submission"].value()}"' in html


def test_every_field_drawn_by_django_is_a_full_width_bootstrap_control(client, cast, categories):
    client.force_login(cast.gridworker)
    form = client.get("/intake/new/").context["form"]
    classes = {
        field.name: field.field.widget.attrs.get("class")
        for field in form.visible_fields()
        if field.widget_type != "checkbox"
    }
    assert classes["channel"] == classes["category"] == classes["priority"] == "form-select"
    assert {classes[name] for name in ("caller_name", "address", "latitude", "photos", "answer")} == {"form-control"}


def test_a_valid_call_with_a_photo_opens_one_case_and_lands_on_it(client, cast, categories, media):
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(photos=jpeg()))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.number}/"
    assert (case.grid_id, case.category.code, case.channel, case.status) == (GRID_A, "0201", "patrol", "registered")
    assert case.created_by == cast.gridworker
    photo = CasePhoto.objects.get(case=case)
    assert (photo.stage, photo.uploaded_by) == ("intake", cast.gridworker)
    assert (media / photo.image.name).is_file()
    call = Call.objects.get()
    assert (call.case, call.outcome, call.idempotency_key) == (case, "new_case", "f3b1c0de")

    page = client.get(response["Location"])
    assert [level for level, _text in messages_of(page)] == ["success"]
    assert case.number in page.text
    assert 'class="alert alert-success"' in page.text


def test_a_double_click_opens_one_case_and_both_answers_lead_to_it(client, cast, categories):
    client.force_login(cast.gridworker)
    first = client.post("/intake/new/", call_form(submission="double-click-1"))
    second = client.post("/intake/new/", call_form(submission="double-click-1"))
    case = Case.objects.get()
    assert Call.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/cases/{case.number}/"
    page = client.get(second["Location"])
    assert [level for level, text in messages_of(page) if case.number in text] == ["success", "success"]


def test_a_missing_description_gets_djangos_chinese_message_and_the_rest_is_kept(client, cast, categories):
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(description="", address="金山路3号楼东侧"))
    assert response.status_code == 200
    assert response.context["form"].errors["description"] == [REQUIRED]
    assert REQUIRED in response.text
    assert 'value="金山路3号楼东侧"' in response.text
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"grid": ""}, "grid", ""),
        ({"category": ""}, "category", REQUIRED),
        (
            {"photos": SimpleUploadedFile("photo.jpg", b"%PDF-1.7\n%%EOF", content_type="image/jpeg")},
            "photos",
            "photo.jpg",
        ),
        ({"description": "长" * 20_000}, "description", "5000"),
        ({"caller_phone": "12345-abc"}, "caller_phone", ""),
        ({"channel": "hotline", "caller_name": "张三", "caller_phone": ""}, "caller_phone", ""),
        ({"latitude": "91"}, "latitude", ""),
    ],
    ids=[
        "no-grid",
        "no-category",
        "pdf-named-jpg",
        "20000-characters",
        "malformed-phone",
        "hotline-without-phone",
        "latitude",
    ],
)
def test_bad_input_is_marked_on_its_field_keeps_what_was_typed_and_saves_nothing(
    client, cast, categories, overrides, field, fragment
):
    client.force_login(cast.gridworker)
    data = call_form(**overrides)
    response = client.post("/intake/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert fragment in " ".join(errors[field])
    assert 'id="form-errors"' in response.text
    # What was typed is still in the form (photos must be chosen again: browsers forbid refilling them).
    assert data["description"] in response.text
    assert response.context["form"]["submission"].value() == "f3b1c0de"
    assert Case.objects.count() == 0
    assert Call.objects.count() == 0
    assert CasePhoto.objects.count() == 0


def test_the_chosen_grid_stays_chosen_when_another_field_is_wrong(client, cast, categories):
    client.force_login(cast.dispatcher)
    response = client.post("/intake/new/", call_form(grid=GRID_B, category=""))
    assert f'<option value="{GRID_B}" selected>' in response.text
    assert response.context["places"]["community"] == "210111001015"


def test_a_grid_worker_cannot_log_a_call_for_a_grid_that_is_not_theirs(client, cast, categories):
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(grid=GRID_B))
    assert response.status_code == 200
    # The refusal is shown under the grid, where the person can change it.
    assert response.context["form"].errors["grid"]
    assert Case.objects.count() == 0
    assert Call.objects.count() == 0


def test_a_call_answered_on_the_spot_closes_its_case_at_once(client, cast, categories):
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(answered="on", answer="已告知清运时间为每周二、周五"))
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.number}/"
    assert (case.status, case.closure_reason) == ("closed", "answered_directly")
    assert case.closed_at is not None
    assert list(case.events.values_list("action", "to_status", "note")) == [
        ("open", "registered", ""),
        ("answer", "closed", "已告知清运时间为每周二、周五"),
    ]
    assert Call.objects.get().outcome == "answered"


def test_answered_without_the_answer_is_a_form_error(client, cast, categories):
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(answered="on", answer="  "))
    assert response.status_code == 200
    assert "answer" in response.context["form"].errors
    assert Case.objects.count() == 0


def test_a_call_attached_to_an_open_case_is_counted_there_and_opens_nothing(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(attach_to=case.number))
    assert response["Location"] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert case.call_count == 2
    assert Case.objects.count() == 1
    assert case.events.filter(action="attach_call", actor=cast.gridworker).count() == 1
    assert Call.objects.get().outcome == "attached"


def test_attaching_to_a_case_the_worker_cannot_see_is_refused_and_opens_nothing(client, cast, categories):
    elsewhere = open_case(cast, grid=cast.grid_b)
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(attach_to=elsewhere.number))
    assert response.status_code == 200
    assert elsewhere.number in " ".join(response.context["form"].non_field_errors())
    assert Case.objects.count() == 1
    elsewhere.refresh_from_db()
    assert elsewhere.call_count == 1
    assert Call.objects.count() == 0


def test_attaching_to_a_case_closed_in_the_meantime_is_a_form_error(client, cast, categories):
    case = open_case(cast)
    feedback_services.case_close_invalid(case=case, actor=cast.dispatcher, reason="invalid", note="骚扰电话")
    client.force_login(cast.gridworker)
    response = client.post("/intake/new/", call_form(attach_to=case.number))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    case.refresh_from_db()
    assert (case.status, case.call_count) == ("closed", 1)
    assert Case.objects.count() == 1
    assert Call.objects.count() == 0


def test_a_department_clerk_neither_sees_the_link_nor_opens_the_page(client, cast, categories):
    client.force_login(cast.dept_clerk)
    assert client.get("/intake/new/").status_code == 404
    assert client.post("/intake/new/", call_form()).status_code == 404
    home = client.get("/")
    assert "/intake/new/" not in [item["url"] for item in home.context["navigation"]]
    assert 'href="/intake/new/"' not in home.text
    assert Case.objects.count() == 0


def test_a_grid_worker_sees_the_link(client, cast, categories):
    client.force_login(cast.gridworker)
    assert 'href="/intake/new/"' in client.get("/").text


def test_the_page_asks_for_a_login_first(client, cast, categories):
    response = client.get("/intake/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- the htmx helpers ----------------------------------------------------------------------------


def test_caller_history_lists_the_callers_earlier_cases_within_scope(client, cast, categories):
    mine = open_case(cast, caller_phone="13700137000", description="楼道灯不亮")
    other_street = open_case(cast, grid=cast.grid_c, caller_phone="13700137000")
    someone_else = open_case(cast, caller_phone="13900139000")
    client.force_login(cast.community_clerk)
    response = client.get("/intake/caller-history/", {"caller_phone": "13700137000"})
    assert response.status_code == 200
    assert [case.number for case in response.context["cases"]] == [mine.number]
    assert mine.number in response.text
    assert other_street.number not in response.text
    assert someone_else.number not in response.text
    # Too short to be a number yet: nothing is looked up.
    assert client.get("/intake/caller-history/", {"caller_phone": "137"}).context["cases"] == []


def test_duplicates_lists_a_similar_open_case_in_the_same_community(client, cast, categories):
    similar = open_case(cast, grid=cast.grid_a, description="金山路小区门口垃圾堆放多日无人清理，臭味很大")
    open_case(cast, grid=cast.grid_c, description="金山路小区门口垃圾堆放多日无人清理，臭味很大")
    client.force_login(cast.dispatcher)
    response = client.get(
        "/intake/duplicates/", {"grid": GRID_B, "category": "0201", "description": "小区门口的垃圾好几天没人清理了"}
    )
    assert response.status_code == 200
    assert [case.number for case in response.context["cases"]] == [similar.number]
    assert f'value="{similar.number}" data-attach' in response.text


def test_duplicates_without_a_grid_lists_nothing(client, cast, categories):
    open_case(cast)
    client.force_login(cast.dispatcher)
    response = client.get("/intake/duplicates/", {"grid": "", "description": "小区门口垃圾堆放多日无人清理"})
    assert response.context["cases"] == []
    assert 'id="no-duplicates"' in response.text


def test_category_suggestions_read_the_description(client, cast, categories):
    client.force_login(cast.gridworker)
    # No suggester trained yet: the keywords suggest (tests/suggestions has the learned ones).
    response = client.post("/intake/category-suggestions/", {"description": "楼下燃气泄漏"})
    assert response.status_code == 200
    assert response.context["suggestions"].items[0].category.code == "0303"
    assert 'data-category="0303" data-suggester-version="">供气 · 100%</button>' in response.text


def test_place_options_follow_the_street_clerks_area(client, cast, categories):
    client.force_login(cast.street_clerk)
    communities = client.get("/intake/places/", {"parent": "210111001"})
    assert [place.code for place in communities.context["places"]] == ["210111001015"]
    assert "金山社区" in communities.text
    assert "民主村" not in communities.text
    # Another street's communities are not theirs to pick, nor is that street offered at the top.
    assert list(client.get("/intake/places/", {"parent": "210111003"}).context["places"]) == []
    streets = client.get("/intake/places/", {"parent": "210111"})
    assert [place.code for place in streets.context["places"]] == ["210111001"]


def test_place_search_finds_grids_by_name(client, cast, categories):
    client.force_login(cast.street_clerk)
    response = client.get("/intake/places/", {"q": "金山"})
    assert [place.code for place in response.context["places"]] == [GRID_A, GRID_B]
    assert f'<option value="{GRID_A}">金山社区第1网格</option>' in response.text
    by_code = client.get("/intake/places/", {"q": "2101110010150"})
    assert [place.code for place in by_code.context["places"]] == [GRID_A, GRID_B]
    # A grid worker finds only their own grid.
    client.force_login(cast.gridworker)
    assert [place.code for place in client.get("/intake/places/", {"q": "金山"}).context["places"]] == [GRID_A]
