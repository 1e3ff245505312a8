"""The case pages: `/cases/` (the list) and `/cases/<number>/` with its actions."""

import html
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from cases.models import Case, CaseEvent, Category
from cases.services import CallDetails
from feedback import services as feedback_services
from intake import services
from tests.factories import open_case

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def jpeg_bytes(size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def listed(response):
    return [case.number for case in response.context["page"]]


def call_in(cast, *, actor=None, grid=None, **fields):
    """A case opened through intake, as the call-logging page opens one (with its Call row)."""
    registration = {key: fields.pop(key) for key in ("attach_to", "answer") if key in fields}
    details = CallDetails(
        channel=fields.pop("channel", "hotline"),
        description=fields.pop("description", "小区门口垃圾堆放多日无人清理"),
        category=Category.objects.get(code=fields.pop("category_code", "0201")),
        grid=grid or cast.grid_a,
        caller_name=fields.pop("caller_name", "张三"),
        caller_phone=fields.pop("caller_phone", "13800138000"),
        **fields,
    )
    call, _created = services.call_register(actor=actor or cast.dispatcher, details=details, **registration)
    return call.case


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_only_the_cases_in_the_users_scope(client, cast, categories):
    a = open_case(cast, grid=cast.grid_a)
    b = open_case(cast, grid=cast.grid_b)
    c = open_case(cast, grid=cast.grid_c)
    client.force_login(cast.gridworker)
    response = client.get("/cases/")
    assert response.status_code == 200
    assert listed(response) == [a.number]
    assert b.number not in response.text
    client.force_login(cast.community_clerk)
    assert set(listed(client.get("/cases/"))) == {a.number, b.number}
    client.force_login(cast.dispatcher)
    assert listed(client.get("/cases/")) == [c.number, b.number, a.number]  # newest first
    client.force_login(cast.dept_clerk)
    assert listed(client.get("/cases/")) == []


def test_the_outsider_does_not_find_grid_a_by_filtering_for_it(client, cast, categories):
    a = open_case(cast, grid=cast.grid_a)
    client.force_login(cast.outsider)
    assert listed(client.get("/cases/", {"region": cast.grid_a.code})) == []
    assert listed(client.get("/cases/", {"q": a.number})) == []


def test_the_list_filters_by_status_category_region_and_text_through_the_url(client, cast, categories):
    rubbish = open_case(cast, grid=cast.grid_a)
    lamp = open_case(cast, grid=cast.grid_b, category_code="0205", description="路灯不亮，晚上很黑")
    heating = open_case(cast, grid=cast.grid_c, category_code="0304", description="暖气不热，室温只有十五度")
    feedback_services.case_close_invalid(
        case=heating, actor=cast.dispatcher, reason="out_of_scope", note="供热公司处理"
    )
    client.force_login(cast.dispatcher)

    def numbers(**query):
        return set(listed(client.get("/cases/", query)))

    assert numbers(status="closed") == {heating.number}
    assert numbers(status="registered") == {rubbish.number, lamp.number}
    assert numbers(status=["registered", "closed"]) == {rubbish.number, lamp.number, heating.number}
    assert numbers(category="0205") == {lamp.number}
    assert numbers(category="02") == {rubbish.number, lamp.number}  # a class covers its kinds
    assert numbers(region="210111001") == {rubbish.number, lamp.number}
    assert numbers(region=cast.grid_b.code) == {lamp.number}
    assert numbers(q="路灯") == {lamp.number}
    assert numbers(q=heating.number.lower()) == {heating.number}
    assert numbers(region="210111001", category="0201", status="registered") == {rubbish.number}


def test_the_list_filters_by_shanghai_days(client, cast, categories):
    days = {}
    for day in (1, 5, 10):
        # Half past midnight in Shanghai is still the day before in UTC.
        with time_machine.travel(datetime(2026, 3, day, 0, 30, tzinfo=SHANGHAI), tick=False):
            days[day] = open_case(cast).number
    client.force_login(cast.dispatcher)

    def numbers(**query):
        return set(listed(client.get("/cases/", query)))

    assert numbers(created_from="2026-03-05", created_to="2026-03-05") == {days[5]}
    assert numbers(created_from="2026-03-05") == {days[5], days[10]}
    assert numbers(created_to="2026-03-04") == {days[1]}
    assert numbers(created_from="2026-03-11") == set()


def test_a_bad_filter_is_marked_on_its_field(client, cast, categories):
    open_case(cast)
    client.force_login(cast.dispatcher)
    response = client.get("/cases/", {"region": "abc"})
    assert response.status_code == 200
    assert "region" in response.context["filterset"].form.errors
    assert 'class="invalid-feedback d-block"' in response.text


def test_the_list_sorts_by_number(client, cast, categories):
    first, second, third = (open_case(cast) for _ in range(3))
    client.force_login(cast.dispatcher)
    assert listed(client.get("/cases/", {"ordering": "number"})) == [first.number, second.number, third.number]
    assert listed(client.get("/cases/", {"ordering": "-number"})) == [third.number, second.number, first.number]


def test_the_list_pages_by_25_and_the_page_links_keep_the_filters(client, cast, categories):
    numbers = [open_case(cast).number for _ in range(30)]
    client.force_login(cast.dispatcher)
    first = client.get("/cases/", {"status": "registered", "ordering": "number"})
    assert listed(first) == numbers[:25]
    assert first.context["page"].paginator.num_pages == 2
    links = [html.unescape(href) for href in re.findall(r'class="page-link" href="([^"]*)"', first.text)]
    assert links == ["?status=registered&ordering=number&page=2"]
    second = client.get("/cases/", {"status": "registered", "ordering": "number", "page": "2"})
    assert listed(second) == numbers[25:]
    assert second.context["paging"] == "status=registered&ordering=number"
    # The sort links replace the order instead of piling up `ordering=` parameters.
    assert second.context["sorting"] == "status=registered"
    # A page past the end shows the last one rather than an error.
    assert listed(client.get("/cases/", {"ordering": "number", "page": "99"})) == numbers[25:]


def test_the_list_makes_the_same_number_of_queries_for_3_cases_or_43(
    client, cast, categories, django_assert_num_queries
):
    for _ in range(3):
        open_case(cast)
    client.force_login(cast.dispatcher)
    client.get("/cases/")  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as three:
        assert len(listed(client.get("/cases/"))) == 3
    # The session, the user, their postings (memberships, grid postings), the inbox's unread
    # count, the count, one page of rows.
    assert len(three.captured_queries) == 6
    for index in range(40):
        open_case(cast, grid=cast.grid_b if index % 2 else cast.grid_c, category_code="0205")
    with django_assert_num_queries(len(three.captured_queries)):
        assert len(listed(client.get("/cases/"))) == 25


# --- the case page -------------------------------------------------------------------------------


def test_the_case_page_shows_the_phone_masked_and_never_the_full_number(client, cast, categories):
    case = call_in(cast)
    for user in (cast.dispatcher, cast.gridworker, cast.official):
        client.force_login(user)
        response = client.get(f"/cases/{case.number}/")
        assert response.status_code == 200
        assert '<span id="caller-phone">138****8000</span>' in response.text
        assert "13800138000" not in response.text


def test_the_outsider_and_a_made_up_number_get_404(client, cast, categories):
    case = call_in(cast)
    client.force_login(cast.outsider)
    assert client.get(f"/cases/{case.number}/").status_code == 404
    client.force_login(cast.dispatcher)
    assert client.get("/cases/SJT-20990101-00001/").status_code == 404


def test_the_timeline_lists_the_events_in_order(client, cast, categories):
    case = call_in(cast)
    call_in(cast, actor=cast.gridworker, attach_to=case, channel="patrol", caller_name="", caller_phone="")
    services.caller_phone_reveal(case=case, actor=cast.dispatcher)
    feedback_services.case_close_invalid(
        case=case, actor=cast.dispatcher, reason="invalid", note="重复来电，已核实无需处理"
    )
    client.force_login(cast.dispatcher)
    response = client.get(f"/cases/{case.number}/")
    assert [(e.action, e.actor) for e in response.context["events"]] == [
        ("open", cast.dispatcher),
        ("attach_call", cast.gridworker),
        ("reveal_phone", cast.dispatcher),
        ("close", cast.dispatcher),
    ]
    timeline = response.text.split('id="timeline"', 1)[1]
    assert re.findall(r'data-action="(\w+)"', timeline) == ["open", "attach_call", "reveal_phone", "close"]
    assert "重复来电，已核实无需处理" in timeline
    assert response.context["case"].call_count == 2
    assert len(response.context["calls"]) == 2


# What the case page costs in statements (issue 24), pinned so that it cannot creep back: the
# session, the user and their postings; the case with its category, class and grid (and whether it
# has photos, volunteer tasks, a supervision in force); the boundaries' version (the map); its
# assignments, its events, the inbox's unread count and its calls. Photos, tasks and supervisions
# cost a statement each only when the case has some.
CASE_PAGE_STATEMENTS = 9


def test_the_case_page_takes_the_same_statements_however_long_its_story(
    client, cast, categories, django_assert_num_queries
):
    short = call_in(cast)
    feedback_services.case_close_invalid(case=short, actor=cast.dispatcher, reason="invalid", note="无需处理")
    long = call_in(cast)
    for _ in range(3):
        call_in(cast, actor=cast.gridworker, attach_to=long, channel="patrol", caller_name="", caller_phone="")
    services.caller_phone_reveal(case=long, actor=cast.dispatcher)
    feedback_services.case_close_invalid(case=long, actor=cast.dispatcher, reason="invalid", note="重复来电")
    client.force_login(cast.dispatcher)
    client.get(f"/cases/{short.number}/")  # the first request of a session may warm caches
    for case, events in ((short, 2), (long, 6)):
        with django_assert_num_queries(CASE_PAGE_STATEMENTS):
            response = client.get(f"/cases/{case.number}/")
        assert len(response.context["events"]) == events


# --- closing -------------------------------------------------------------------------------------


def test_a_dispatcher_closes_a_registered_case_through_the_page(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.dispatcher)
    assert 'id="close-form"' in client.get(f"/cases/{case.number}/").text
    response = client.post(f"/cases/{case.number}/close/", {"reason": "invalid", "note": "空号来电，无具体诉求"})
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "invalid")
    event = case.events.get(action="close")
    assert (event.actor, event.note, event.from_status) == (cast.dispatcher, "空号来电，无具体诉求", "registered")
    page = client.get(response["Location"])
    assert [level for level, _text in messages_of(page)] == ["success"]
    assert 'id="close-form"' not in page.text


def test_closing_a_closed_case_again_shows_an_error_and_changes_nothing(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.dispatcher)
    client.post(f"/cases/{case.number}/close/", {"reason": "invalid", "note": "空号来电"})
    client.get(f"/cases/{case.number}/")  # reads the first success message
    case.refresh_from_db()
    closed_at = case.closed_at
    detail = f"/cases/{case.number}/"
    response = client.post(
        f"/cases/{case.number}/close/", {"reason": "out_of_scope", "note": "再关一次"}, HTTP_REFERER=detail
    )
    assert response["Location"] == detail
    assert [level for level, _text in messages_of(client.get(detail))] == ["error"]
    case.refresh_from_db()
    assert (case.status, case.closure_reason, case.closed_at) == ("closed", "invalid", closed_at)
    assert case.events.filter(action="close").count() == 1


def test_a_community_clerk_cannot_close_and_is_told_so(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.community_clerk)
    detail = f"/cases/{case.number}/"
    assert 'id="close-form"' not in client.get(detail).text
    response = client.post(f"/cases/{case.number}/close/", {"reason": "invalid", "note": "试试"}, HTTP_REFERER=detail)
    assert response.status_code == 302
    assert [level for level, _text in messages_of(client.get(detail))] == ["error"]
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("registered", "")
    assert list(case.events.values_list("action", flat=True)) == ["open"]


def test_the_read_only_official_cannot_close_either(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.official)
    client.post(f"/cases/{case.number}/close/", {"reason": "invalid", "note": "试试"})
    case.refresh_from_db()
    assert case.status == "registered"
    assert case.events.count() == 1


def test_closing_without_a_note_shows_an_error_and_changes_nothing(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.dispatcher)
    response = client.post(f"/cases/{case.number}/close/", {"reason": "invalid", "note": ""})
    assert response["Location"] == f"/cases/{case.number}/"
    # The message names the field, as every page action's form errors do.
    assert messages_of(client.get(response["Location"])) == [("error", "说明: 该字段是必填项。")]
    case.refresh_from_db()
    assert case.status == "registered"
    assert not case.events.filter(action="close").exists()


def test_closing_for_a_reason_not_offered_at_intake_is_refused(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.dispatcher)
    client.post(f"/cases/{case.number}/close/", {"reason": "satisfied", "note": "已解决"})
    case.refresh_from_db()
    assert case.status == "registered"


def test_the_outsider_cannot_close_a_case_they_cannot_see(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.outsider)
    assert client.post(f"/cases/{case.number}/close/", {"reason": "invalid", "note": "x"}).status_code == 404
    assert client.get(f"/cases/{case.number}/close/").status_code == 405
    case.refresh_from_db()
    assert case.status == "registered"


# --- merging -------------------------------------------------------------------------------------


def test_a_dispatcher_merges_a_duplicate_through_the_page(client, cast, categories):
    original = open_case(cast)
    duplicate = open_case(cast, grid=cast.grid_b, description="小区门口的垃圾好几天没人清理了")
    client.force_login(cast.dispatcher)
    assert 'id="merge-form"' in client.get(f"/cases/{duplicate.number}/").text
    response = client.post(
        f"/cases/{duplicate.number}/merge/", {"into": f" {original.number.lower()} ", "note": "同一处垃圾"}
    )
    assert response["Location"] == f"/cases/{original.number}/"
    duplicate.refresh_from_db()
    original.refresh_from_db()
    assert (duplicate.status, duplicate.closure_reason, duplicate.merged_into) == ("closed", "duplicate", original)
    assert (original.status, original.call_count) == ("registered", 2)
    assert duplicate.events.filter(action="merge", actor=cast.dispatcher).count() == 1
    assert [level for level, _text in messages_of(client.get(response["Location"]))] == ["success"]
    assert f'href="/cases/{original.number}/"' in client.get(f"/cases/{duplicate.number}/").text


def test_merging_into_an_unknown_case_or_itself_changes_nothing(client, cast, categories):
    case = open_case(cast)
    outside_view = open_case(cast, grid=cast.grid_c)
    client.force_login(cast.dispatcher)
    detail = f"/cases/{case.number}/"
    for into in ("SJT-20990101-00001", case.number):
        response = client.post(f"/cases/{case.number}/merge/", {"into": into}, HTTP_REFERER=detail)
        assert response["Location"] == detail
        assert [level for level, _text in messages_of(client.get(detail))] == ["error"]
    # A community clerk is no dispatcher, whatever the target.
    client.force_login(cast.community_clerk)
    client.post(f"/cases/{case.number}/merge/", {"into": outside_view.number}, HTTP_REFERER=detail)
    assert [level for level, _text in messages_of(client.get(detail))] == ["error"]
    case.refresh_from_db()
    outside_view.refresh_from_db()
    assert (case.status, case.merged_into, outside_view.call_count) == ("registered", None, 1)
    assert not CaseEvent.objects.filter(action="merge").exists()


# --- revealing the caller's phone ----------------------------------------------------------------


def test_revealing_the_phone_answers_the_full_number_and_records_who_saw_it(client, cast, categories):
    case = call_in(cast)
    client.force_login(cast.dispatcher)
    response = client.post(f"/cases/{case.number}/reveal-phone/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert '<a href="tel:13800138000" id="caller-phone">13800138000</a>' in response.text
    event = case.events.get(action="reveal_phone")
    assert (event.actor, event.from_status, event.to_status) == (cast.dispatcher, "registered", "registered")


def test_a_community_clerk_may_reveal_a_phone_that_is_not_confidential(client, cast, categories):
    case = call_in(cast)
    client.force_login(cast.community_clerk)
    assert 'id="reveal-phone"' in client.get(f"/cases/{case.number}/").text
    response = client.post(f"/cases/{case.number}/reveal-phone/", HTTP_HX_REQUEST="true")
    assert "13800138000" in response.text
    assert list(case.events.filter(action="reveal_phone").values_list("actor", flat=True)) == [cast.community_clerk.pk]


def test_a_community_clerk_may_not_reveal_a_confidential_callers_phone(client, cast, categories):
    case = call_in(cast, caller_confidential=True)
    detail = f"/cases/{case.number}/"
    client.force_login(cast.community_clerk)
    page = client.get(detail)
    assert 'id="reveal-phone"' not in page.text
    assert "13800138000" not in page.text
    response = client.post(f"/cases/{case.number}/reveal-phone/", HTTP_REFERER=detail)
    assert response.status_code == 302
    assert "13800138000" not in response.text
    assert [level for level, _text in messages_of(client.get(detail))] == ["error"]
    assert not case.events.filter(action="reveal_phone").exists()
    # The dispatcher calls back, so they still may.
    client.force_login(cast.dispatcher)
    assert "13800138000" in client.post(f"/cases/{case.number}/reveal-phone/").text
    assert case.events.filter(action="reveal_phone").count() == 1


def test_revealing_needs_a_post_and_a_case_in_scope(client, cast, categories):
    case = call_in(cast)
    client.force_login(cast.dispatcher)
    assert client.get(f"/cases/{case.number}/reveal-phone/").status_code == 405
    client.force_login(cast.outsider)
    assert client.post(f"/cases/{case.number}/reveal-phone/").status_code == 404
    assert not case.events.filter(action="reveal_phone").exists()


# --- photos --------------------------------------------------------------------------------------


def test_a_photo_is_served_to_those_in_scope_and_404_for_the_outsider(client, cast, categories):
    content = jpeg_bytes()
    case = call_in(cast, photos=[SimpleUploadedFile("door.jpg", content, content_type="image/jpeg")])
    photo = case.photos.get()
    url = f"/cases/{case.number}/photos/{photo.pk}/"
    client.force_login(cast.gridworker)
    assert f'src="{url}"' in client.get(f"/cases/{case.number}/").text
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == content
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404


def test_a_photo_is_not_served_through_another_cases_number(client, cast, categories):
    hidden = call_in(
        cast, grid=cast.grid_b, photos=[SimpleUploadedFile("b.jpg", jpeg_bytes(), content_type="image/jpeg")]
    )
    visible = call_in(cast, grid=cast.grid_a)
    client.force_login(cast.gridworker)
    assert client.get(f"/cases/{visible.number}/photos/{hidden.photos.get().pk}/").status_code == 404
    assert Case.objects.count() == 2


def test_a_refused_htmx_reveal_reloads_the_page_instead_of_swapping_it_in(client, cast, categories):
    case = open_case(cast, caller_confidential=True)
    client.force_login(cast.community_clerk)
    response = client.post(f"/cases/{case.number}/reveal-phone/", HTTP_HX_REQUEST="true")
    assert response.headers["HX-Refresh"] == "true"
    assert "13800138000" not in response.text
    assert not case.events.filter(action="reveal_phone").exists()
    # The reloaded page carries the reason.
    assert "无权查看" in client.get(f"/cases/{case.number}/").text
