"""The pages of the end of the loop: the callback queue and form (`/feedback/callbacks/`), the
grid workers' checks (`/feedback/verifications/`), reopening and exempting from the case page, and
the figures (`/feedback/metrics/`)."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from cases.models import Case
from feedback import services
from feedback.models import FeedbackSettings
from tests.factories import UserFactory, member, open_case, region
from tests.feedback.helpers import lead, photo, resolved_case

pytestmark = pytest.mark.django_db

QUEUE = "/feedback/callbacks/"
CHECKS = "/feedback/verifications/"
METRICS = "/feedback/metrics/"


def zh(text):
    """What the page shows for `text` in Chinese (the English msgid while the catalogue lacks it)."""
    with translation.override("zh-hans"):
        return gettext(text)


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def form_page(case):
    return f"{QUEUE}{case.number}/"


def check_page(case):
    return f"{CHECKS}{case.number}/"


def queued(response):
    return re.findall(r'<tr data-case="([^"]+)"', response.text)


def errors_of(response):
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def callback(world, case, **answer):
    return services.case_callback(case=case, actor=world.dispatcher, **answer)


SATISFIED = {"reached": "1", "resolved": "1", "satisfaction": "satisfied", "comment": "很满意", "outcome": "reopen"}
NOT_SOLVED = {"reached": "1", "resolved": "0", "satisfaction": "unsatisfied", "comment": "垃圾又堆起来了"}


# --- the callback queue ----------------------------------------------------------------------


def test_the_queue_lists_the_resolved_cases_the_most_overdue_first(client, world, clock):
    first = resolved_case(world)
    clock.shift(24 * 3600)  # Wednesday 10:00: the first one's callback is due now
    second = resolved_case(world, category_code="0103", description="楼道灯坏了物业不修")
    callback(world, second, reached=False)
    waiting = open_case(world)  # not resolved: not in the queue
    client.force_login(world.dispatcher)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert queued(response) == [first.number, second.number]
    assert waiting.number not in response.text
    assert f'<tr data-case="{first.number}" class="table-danger" data-overdue>' in response.text
    assert f'<tr data-case="{second.number}">' in response.text
    assert 'data-failed="1"' in response.text and 'data-failed="0"' in response.text
    assert f'href="{form_page(first)}"' in response.text


@pytest.mark.parametrize("person", ["official", "community_clerk", "street_clerk", "gridworker", "dept_clerk"])
def test_only_dispatchers_open_the_callback_pages(client, world, person):
    case = resolved_case(world)
    client.force_login(getattr(world, person))
    assert client.get(QUEUE).status_code == 404
    assert client.get(form_page(case)).status_code == 404
    assert client.post(form_page(case), SATISFIED).status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and not case.events.filter(action="callback").exists()


def test_the_queue_makes_the_same_number_of_queries_for_1_row_or_12(client, world, django_assert_num_queries):
    resolved_case(world)
    client.force_login(world.dispatcher)
    client.get(QUEUE)  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as one:
        assert len(queued(client.get(QUEUE))) == 1
    # The session, the user, their postings (memberships, grid postings), the inbox's unread count,
    # the count, one page of rows, the callback policy.
    assert len(one.captured_queries) == 7
    for index in range(11):
        case = resolved_case(world, category_code="0103" if index % 2 else "0201")
        if index % 3 == 0:
            callback(world, case, reached=False)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(queued(client.get(QUEUE))) == 12


# --- the callback form -----------------------------------------------------------------------


def test_the_form_shows_the_units_result_and_the_masked_phone_with_its_reveal(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    response = client.get(form_page(case))
    assert response.status_code == 200
    text = response.text
    assert '<p class="text-prewrap mb-1" id="result-note">已清理完毕</p>' in text
    assert len(re.findall(r'<a href="/cases/[^"]+/photos/\d+/"', text)) == 1
    assert '<span id="caller-name">张三</span>' in text
    assert '<span id="caller-phone">138****8000</span>' in text and "13800138000" not in text
    assert f'hx-post="/cases/{case.number}/reveal-phone/"' in text
    assert 'id="callback-form"' in text
    # Reopening is what a negative verdict does unless the dispatcher exempts the case.
    assert 'id="callback-outcome-reopen" value="reopen" checked' in text


def test_a_solved_and_satisfied_callback_closes_the_case_and_goes_back_to_the_queue(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    response = client.post(form_page(case), SATISFIED)
    assert response.status_code == 302 and response["Location"] == QUEUE
    queue = client.get(QUEUE)
    assert messages_of(queue) == [
        ("success", zh("Case %(number)s is closed: the resident is content.") % {"number": case.number})
    ]
    assert queued(queue) == []
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.SATISFIED
    event = case.events.get(action="callback")
    assert (event.actor, event.note, event.data["satisfaction"]) == (world.dispatcher, "很满意", "satisfied")


def test_a_negative_verdict_reopens_the_case_to_its_unit_by_default(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    response = client.post(form_page(case), {**NOT_SOLVED, "outcome": "reopen"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert lead(case).unit == world.committee and lead(case).is_redo
    expected = zh("Case %(number)s is reopened to %(unit)s.") % {"number": case.number, "unit": world.committee.name}
    assert messages_of(client.get(QUEUE)) == [("success", expected)]


def test_a_negative_verdict_with_an_exemption_closes_the_case_as_exempted(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    answer = {**NOT_SOLVED, "outcome": "exempt", "exemption": "beyond_policy", "note": "超出物业管理规定"}
    assert client.post(form_page(case), answer).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.EXEMPTED
    close = case.events.get(action="close")
    assert (close.data["exemption"], close.note) == ("beyond_policy", "超出物业管理规定")
    assert messages_of(client.get(QUEUE)) == [
        ("success", zh("Case %(number)s is closed as exempted.") % {"number": case.number})
    ]


def test_an_exemption_chosen_for_a_content_resident_is_ignored(client, world):
    # The page hides the outcome for a good verdict; a stale choice must not refuse the answer.
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    answer = {**SATISFIED, "outcome": "exempt", "exemption": "other", "note": "x"}
    assert client.post(form_page(case), answer).status_code == 302
    case.refresh_from_db()
    assert case.closure_reason == Case.ClosureReason.SATISFIED


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({**NOT_SOLVED, "outcome": "exempt", "exemption": "beyond_policy", "note": " "}, "note"),
        ({**NOT_SOLVED, "outcome": "exempt", "exemption": "", "note": "超出规定"}, "exemption"),
        ({**NOT_SOLVED, "outcome": "exempt", "exemption": "made_up", "note": "超出规定"}, "exemption"),
        ({"reached": "1", "resolved": "1", "satisfaction": "", "comment": "还行"}, "satisfaction"),
        ({"reached": "1", "resolved": "1", "satisfaction": "very", "comment": "还行"}, "satisfaction"),
        ({"reached": "1", "satisfaction": "satisfied", "comment": "还行"}, "resolved"),
        ({"resolved": "1", "satisfaction": "satisfied", "comment": "还行"}, "reached"),
    ],
)
def test_a_refused_callback_comes_back_on_its_field_with_nothing_lost_and_nothing_changed(client, world, answer, field):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    response = client.post(form_page(case), answer)
    assert response.status_code == 200
    assert list(errors_of(response)) == [field]
    assert f'data-error-for="{field}"' in response.text
    # What was typed is still there.
    assert response.context["form"]["comment"].value() == answer["comment"]
    assert answer["comment"] in response.text
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert not case.events.filter(action__in=["callback", "close", "reopen"]).exists()


def test_an_unreached_resident_is_tried_again_then_the_case_closes_as_unreachable(client, world):
    FeedbackSettings.objects.update_or_create(pk=1, defaults={"callback_attempts": 2})
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    assert client.post(form_page(case), {"reached": "0", "comment": "无人接听"}).status_code == 302
    queue = client.get(QUEUE)
    again = zh("Not reached (attempt %(attempt)s of %(attempts)s); case %(number)s will be called again.")
    assert messages_of(queue) == [("success", again % {"attempt": 1, "attempts": 2, "number": case.number})]
    assert queued(queue) == [case.number] and 'data-failed="1"' in queue.text
    assert '<p class="small text-body-secondary" id="attempts">' in client.get(form_page(case)).text
    client.post(form_page(case), {"reached": "0"})
    gone = zh("The resident could not be reached: case %(number)s is closed as unreachable.")
    assert messages_of(client.get(QUEUE)) == [("success", gone % {"number": case.number})]
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.UNREACHABLE


def test_a_good_verdict_on_a_case_checked_on_site_waits_for_the_grid_worker(client, world):
    case = resolved_case(world, category_code="0101")
    client.force_login(world.dispatcher)
    page = client.get(form_page(case))
    assert 'id="verification" data-state="pending"' in page.text
    client.post(form_page(case), SATISFIED)
    waits = zh("The verdict is recorded; case %(number)s closes once the grid worker confirms the result on site.")
    assert messages_of(client.get(QUEUE)) == [("success", waits % {"number": case.number})]
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert 'id="verdict-recorded"' in client.get(form_page(case)).text


def test_a_case_no_longer_waiting_shows_no_form_and_a_late_post_changes_nothing(client, world):
    case = callback(world, resolved_case(world), reached=True, resolved=True, satisfaction="satisfied")
    client.force_login(world.dispatcher)
    page = client.get(form_page(case))
    assert 'id="not-waiting"' in page.text and 'id="callback-form"' not in page.text
    response = client.post(form_page(case), NOT_SOLVED)
    assert response.status_code == 200
    assert list(errors_of(response)) == ["__all__"]
    assert case.events.filter(action="callback").count() == 1
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_a_made_up_number_gets_404(client, world):
    client.force_login(world.dispatcher)
    assert client.get(f"{QUEUE}SJT-20990101-00001/").status_code == 404


# --- on-site verification (核查) -------------------------------------------------------------


def test_the_grid_worker_lists_the_cases_of_their_grids_to_check(client, world):
    to_check = resolved_case(world, category_code="0101")
    rubbish = resolved_case(world)  # not checked on site
    client.force_login(world.gridworker)
    response = client.get(CHECKS)
    assert response.status_code == 200
    assert re.findall(r'data-case="([^"]+)"', response.text) == [to_check.number]
    assert rubbish.number not in response.text
    assert f'href="{check_page(to_check)}"' in response.text
    # The outsider (grid B) has nothing to check.
    client.force_login(world.outsider)
    assert 'id="verifications-empty"' in client.get(CHECKS).text


@pytest.mark.parametrize("person", ["dispatcher", "official", "community_clerk"])
def test_people_without_a_grid_get_404(client, world, person):
    case = resolved_case(world, category_code="0101")
    client.force_login(getattr(world, person))
    assert client.get(CHECKS).status_code == 404
    assert client.get(check_page(case)).status_code == 404


def test_the_outsider_gets_404_for_a_case_of_another_grid(client, world):
    case = resolved_case(world, category_code="0101")
    client.force_login(world.outsider)
    assert client.get(check_page(case)).status_code == 404
    assert client.post(check_page(case), {"confirmed": "1", "photos": photo()}).status_code == 404
    assert not case.events.filter(action="verify").exists()


def test_the_grid_worker_confirms_the_result_with_a_photo(client, world):
    case = resolved_case(world, category_code="0101")
    client.force_login(world.gridworker)
    page = client.get(check_page(case))
    assert 'id="verify-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert '<p class="text-prewrap mb-1" id="result-note">已清理完毕</p>' in page.text
    response = client.post(check_page(case), {"confirmed": "1", "note": "现场已拆除", "photos": photo()})
    assert response.status_code == 302 and response["Location"] == CHECKS
    listing = client.get(CHECKS)
    waits = zh("Confirmed on site: case %(number)s closes after the resident's verdict.")
    assert messages_of(listing) == [("success", waits % {"number": case.number})]
    assert case.number not in re.findall(r'data-case="([^"]+)"', listing.text)
    event = case.events.get(action="verify")
    assert (event.actor, event.data["confirmed"], event.note) == (world.gridworker, True, "现场已拆除")
    assert case.photos.filter(stage="verification").count() == 1


def test_a_confirmation_after_a_good_verdict_closes_the_case(client, world):
    case = resolved_case(world, category_code="0101")
    callback(world, case, reached=True, resolved=True, satisfaction="satisfied")
    client.force_login(world.gridworker)
    client.post(check_page(case), {"confirmed": "1", "photos": photo()})
    closed = zh("Confirmed on site: case %(number)s is closed.") % {"number": case.number}
    assert messages_of(client.get(CHECKS)) == [("success", closed)]
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_a_rejection_sends_the_case_back_for_rework(client, world):
    case = resolved_case(world, category_code="0101")
    client.force_login(world.gridworker)
    client.post(check_page(case), {"confirmed": "0", "note": "违建只拆了一半"})
    back = zh("Case %(number)s is sent back to %(unit)s for rework.")
    assert messages_of(client.get(CHECKS)) == [
        ("success", back % {"number": case.number, "unit": world.street_office.name})
    ]
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS and lead(case).is_redo


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"confirmed": "1", "note": "已拆除"}, "photos"),
        ({"confirmed": "0", "note": " "}, "note"),
        ({"note": "已拆除"}, "confirmed"),
    ],
)
def test_a_refused_check_comes_back_on_its_field_and_changes_nothing(client, world, answer, field):
    case = resolved_case(world, category_code="0101")
    client.force_login(world.gridworker)
    response = client.post(check_page(case), answer)
    assert response.status_code == 200
    assert list(errors_of(response)) == [field]
    assert f'data-error-for="{field}"' in response.text
    assert response.context["form"]["note"].value() == answer["note"]
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and not case.events.filter(action="verify").exists()


def test_a_file_that_is_not_an_image_is_refused_on_the_photos_field(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = resolved_case(world, category_code="0101")
    client.force_login(world.gridworker)
    fake = SimpleUploadedFile("x.jpg", b"<html>not an image</html>", content_type="image/jpeg")
    response = client.post(check_page(case), {"confirmed": "1", "photos": fake})
    assert response.status_code == 200 and list(errors_of(response)) == ["photos"]
    assert not case.events.filter(action="verify").exists()


# --- reopen and exempt from the case page -----------------------------------------------------


def case_page(case):
    return f"/cases/{case.number}/"


def test_the_case_page_offers_a_dispatcher_reopen_and_exemption_on_a_resolved_case(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    page = client.get(case_page(case)).text
    assert f'action="/feedback/cases/{case.number}/reopen/"' in page
    assert f'action="/feedback/cases/{case.number}/close/"' in page
    assert 'id="close-form"' not in page  # intake's reasons do not close a resolved case
    for person in (world.official, world.community_clerk):
        client.force_login(person)
        page = client.get(case_page(case)).text
        assert 'id="reopen-form"' not in page and 'id="exempt-form"' not in page


def test_a_closed_case_offers_only_reopening_and_a_merged_duplicate_nothing(client, world):
    case = callback(world, resolved_case(world), reached=True, resolved=True, satisfaction="satisfied")
    client.force_login(world.dispatcher)
    page = client.get(case_page(case)).text
    assert 'id="reopen-form"' in page and 'id="exempt-form"' not in page
    from intake.services import case_merge

    duplicate = open_case(world)
    case_merge(case=duplicate, into=open_case(world), actor=world.dispatcher, note="重复")
    page = client.get(case_page(duplicate)).text
    assert 'id="reopen-form"' not in page


def test_a_dispatcher_reopens_a_closed_case_from_its_page(client, world):
    case = callback(world, resolved_case(world), reached=True, resolved=True, satisfaction="satisfied")
    client.force_login(world.dispatcher)
    response = client.post(f"/feedback/cases/{case.number}/reopen/", {"reason": "居民再次来电反映"})
    assert response.status_code == 302 and response["Location"] == case_page(case)
    expected = zh("Case %(number)s is reopened to %(unit)s.") % {"number": case.number, "unit": world.committee.name}
    assert messages_of(client.get(case_page(case))) == [("success", expected)]
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert case.events.get(action="reopen").data["after"] == "dispatcher"


def test_reopening_without_a_reason_changes_nothing(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    response = client.post(f"/feedback/cases/{case.number}/reopen/", {"reason": ""})
    assert response["Location"] == case_page(case)
    [(level, _text)] = messages_of(client.get(case_page(case)))
    assert level == "error"
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and not case.events.filter(action="reopen").exists()


def test_the_read_only_official_cannot_reopen_or_exempt(client, world):
    case = resolved_case(world)
    client.force_login(world.official)
    client.post(f"/feedback/cases/{case.number}/reopen/", {"reason": "再办"}, HTTP_REFERER=case_page(case))
    client.post(f"/feedback/cases/{case.number}/close/", {"reason": "other", "note": "x"}, HTTP_REFERER=case_page(case))
    assert [level for level, _text in messages_of(client.get(case_page(case)))] == ["error", "error"]
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert not case.events.filter(action__in=["reopen", "close"]).exists()


def test_the_outsider_gets_404_on_the_case_page_actions(client, world):
    case = resolved_case(world)
    client.force_login(world.outsider)
    assert client.post(f"/feedback/cases/{case.number}/reopen/", {"reason": "再办"}).status_code == 404
    assert client.post(f"/feedback/cases/{case.number}/close/", {"reason": "other", "note": "x"}).status_code == 404


def test_a_dispatcher_closes_a_resolved_case_with_an_exemption_from_its_page(client, world):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    response = client.post(f"/feedback/cases/{case.number}/close/", {"reason": "unreasonable", "note": "要求不合理"})
    assert response["Location"] == case_page(case)
    expected = zh("Case %(number)s is closed as exempted.") % {"number": case.number}
    assert messages_of(client.get(case_page(case))) == [("success", expected)]
    case.refresh_from_db()
    assert case.closure_reason == Case.ClosureReason.EXEMPTED


@pytest.mark.parametrize("data", [{"reason": "unreasonable", "note": ""}, {"reason": "invalid", "note": "无效"}])
def test_an_exemption_without_a_note_or_with_a_reason_off_the_list_changes_nothing(client, world, data):
    case = resolved_case(world)
    client.force_login(world.dispatcher)
    client.post(f"/feedback/cases/{case.number}/close/", data, HTTP_REFERER=case_page(case))
    [(level, _text)] = messages_of(client.get(case_page(case)))
    assert level == "error"
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED


def test_the_new_forms_add_no_query_to_the_case_page(client, world, django_assert_num_queries):
    """A resolved case's page (reopen and exemption forms) reads as often as a fresh case's page
    (intake's close and merge forms), less the one query of the fresh case's "send to mediation"
    form (the points near the case), which a resolved case does not offer, and plus the one of
    its photos (this resolved case has the resolution's photo; a case without photos reads none)."""
    fresh, resolved = open_case(world), resolved_case(world)
    client.force_login(world.dispatcher)
    client.get(case_page(fresh))
    with CaptureQueriesContext(connection) as before:
        assert 'id="mediate-form"' in client.get(case_page(fresh)).text
    with django_assert_num_queries(len(before.captured_queries) - 1 + 1):
        assert 'id="reopen-form"' in client.get(case_page(resolved)).text


# --- the figures (考核) ------------------------------------------------------------------------


def figures(response):
    """{row code: {column: shown text}} from the metrics table."""
    table = {}
    for code, cells in re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', response.text, re.S):
        table[code] = dict(re.findall(r'data-(?:rate|count|value)="(\w+)">([^<]*)<', cells))
    return table


def test_an_empty_month_shows_dashes_and_a_callback_shows_its_rates(client, world):
    case = resolved_case(world)
    client.force_login(world.official)
    before = figures(client.get(METRICS, {"month": "2026-03"}))
    assert set(before) == {world.street.code, world.other_street.code}
    row = before[world.street.code]
    assert (row["received"], row["satisfaction_rate"], row["resolution_rate"], row["composite"]) == ("1", "—", "—", "—")
    assert before[world.other_street.code]["response_rate"] == "—"
    callback(world, case, reached=True, resolved=True, satisfaction="basically")
    row = figures(client.get(METRICS, {"month": "2026-03"}))[world.street.code]
    assert (row["resolution_rate"], row["satisfaction_rate"]) == ("100.0%", "80.0%")
    # Another month has nothing: dashes, not 0%.
    assert figures(client.get(METRICS, {"month": "2026-02"}))[world.street.code]["satisfaction_rate"] == "—"


def test_the_current_month_and_the_street_level_are_the_default(client, world):
    client.force_login(world.dispatcher)
    response = client.get(METRICS)
    assert response.status_code == 200
    assert 'data-first="2026-03-01" data-last="2026-03-31"' in response.text
    assert 'id="metrics-table" data-level="street"' in response.text
    assert 'value="2026-03"' in response.text


@pytest.mark.parametrize("month", ["2026-13", "march", "2026", "2026-03-01", "0-01", "-1-01"])
def test_a_bad_month_is_an_error_on_the_month_field_not_a_crash(client, world, month):
    client.force_login(world.official)
    response = client.get(METRICS, {"month": month})
    assert response.status_code == 200
    assert list(errors_of(response)) == ["month"]
    assert 'data-error-for="month"' in response.text and 'id="metrics-table"' not in response.text


def test_an_unknown_level_is_an_error_on_the_level_field(client, world):
    client.force_login(world.official)
    response = client.get(METRICS, {"level": "planet", "month": "2026-03"})
    assert response.status_code == 200 and list(errors_of(response)) == ["level"]


@pytest.mark.parametrize("person", ["gridworker", "dept_clerk"])
def test_people_who_are_not_judged_by_area_get_404(client, world, person):
    client.force_login(getattr(world, person))
    assert client.get(METRICS).status_code == 404


def test_district_wide_people_see_every_row(client, world):
    for person in (world.dispatcher, world.official):
        client.force_login(person)
        assert set(figures(client.get(METRICS, {"level": "grid"}))) == {
            world.grid_a.code,
            world.grid_b.code,
            world.grid_c.code,
        }
        units = set(figures(client.get(METRICS, {"level": "unit"})))
        assert {world.committee.code, world.department.code, world.other_street_office.code} <= units
        assert world.centre.code not in units  # the centre dispatches; it is not ranked


def test_street_and_community_staff_see_the_rows_of_their_own_area_or_units(client, world):
    client.force_login(world.street_clerk)
    assert 'data-level="street"' in client.get(METRICS).text
    assert set(figures(client.get(METRICS))) == {world.street.code}
    assert set(figures(client.get(METRICS, {"level": "community"}))) == {world.community.code}
    assert set(figures(client.get(METRICS, {"level": "grid"}))) == {world.grid_a.code, world.grid_b.code}
    assert set(figures(client.get(METRICS, {"level": "unit"}))) == {world.street_office.code}
    client.force_login(world.community_clerk)
    # A community's staff start at their community: the street table would be empty for them.
    default = client.get(METRICS)
    assert 'data-level="community"' in default.text and set(figures(default)) == {world.community.code}
    assert 'id="metrics-empty"' in client.get(METRICS, {"level": "street"}).text
    assert set(figures(client.get(METRICS, {"level": "unit"}))) == {world.committee.code}


def test_the_months_exemptions_are_listed_apart_and_scoped_like_the_rows(client, world):
    exempted = resolved_case(world)
    services.case_exempt(case=exempted, actor=world.dispatcher, reason="historical", note="历史遗留问题")
    content = callback(world, resolved_case(world), reached=True, resolved=True, satisfaction="satisfied")
    other_clerk = member(UserFactory(username="t_street_other", real_name="孔街道"), world.other_street_office)
    client.force_login(world.dispatcher)
    response = client.get(METRICS)
    assert re.findall(r'<tr data-case="([^"]+)" data-exemption="(\w+)">', response.text) == [
        (exempted.number, "historical")
    ]
    assert "历史遗留问题" in response.text and content.number not in response.text
    assert figures(response)[world.street.code]["exempted"] == "1"
    client.force_login(world.street_clerk)
    assert f'data-case="{exempted.number}"' in client.get(METRICS).text
    client.force_login(world.community_clerk)
    assert f'data-case="{exempted.number}"' in client.get(METRICS, {"level": "unit"}).text
    client.force_login(other_clerk)
    response = client.get(METRICS)
    assert 'id="exemptions-empty"' in response.text and exempted.number not in response.text
    assert f'data-case="{exempted.number}"' not in client.get(METRICS, {"level": "unit"}).text


def test_the_metrics_page_makes_the_same_number_of_queries_for_1_row_or_21(client, world, django_assert_num_queries):
    case = resolved_case(world, category_code="0103")
    services.case_exempt(case=case, actor=world.dispatcher, reason="other", note="其他")
    client.force_login(world.street_clerk)
    client.get(METRICS, {"level": "community"})  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as one:
        assert len(figures(client.get(METRICS, {"level": "community"}))) == 1
    # Twenty more communities in the street, each with a grid and a case called back, exempted
    # or still waiting.
    for index in range(20):
        community = region(f"{world.street.code}{100 + index:03d}", f"社区{index}", world.street)
        grid = region(f"{community.code}001", f"社区{index}第1网格", community)
        case = resolved_case(world, category_code="0103", grid=grid)
        if index % 3 == 0:
            callback(world, case, reached=True, resolved=True, satisfaction="satisfied")
        elif index % 3 == 1:
            services.case_exempt(case=case, actor=world.dispatcher, reason="other", note="其他")
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(figures(client.get(METRICS, {"level": "community"}))) == 21
