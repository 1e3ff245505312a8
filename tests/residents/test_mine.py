""" "My requests": the confirmed number's cases (through this page or a member of staff), each with
its status in plain words, the unit handling it, the result and the verdict once resolved; never
a staff member's name, an internal note or another caller's case (404)."""

import pytest

from cases.models import Category
from cases.services import CallDetails
from handling.services import case_note, case_resolve
from intake.services import call_register
from routing import dispatch
from tests.factories import english
from tests.residents.helpers import PHONE, confirmed

pytestmark = pytest.mark.django_db

OTHER_PHONE = "13700137000"


def call(world, phone=PHONE, text="小区门口垃圾堆放多日无人清理", grid=None, actor=None):
    """A call logged by the grid worker of grid A, as staff intake logs one."""
    details = CallDetails(
        channel="hotline",
        description=text,
        category=Category.objects.get(code="0201"),
        grid=grid or world.grid_a,
        caller_name="刘女士",
        caller_phone=phone,
    )
    return call_register(actor=actor or world.gridworker, details=details)[0].case


def resolved(world, case, result="已清运完毕"):
    dispatch.case_dispatch(case=case, unit=world.committee, actor=world.dispatcher)
    dispatch.case_sign(case=case, actor=world.community_clerk)
    case_note(case=case, actor=world.community_clerk, text="内部：物业推诿，需要街道协调")
    case_resolve(case=case, actor=world.community_clerk, result_kind="solved", result=result)
    case.refresh_from_db()
    return case


@pytest.fixture
def resident(client):
    return confirmed(english(client))


def test_my_requests_shows_only_this_numbers_cases_and_no_staff_names_or_notes(world, resident):
    mine = resolved(world, call(world, text="楼道灯坏了"))
    working = call(world, text="小区垃圾桶满了")
    dispatch.case_dispatch(case=working, unit=world.committee, actor=world.dispatcher)
    theirs = call(world, phone=OTHER_PHONE, text="别人的问题")
    response = resident.get("/resident/mine/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-case="{mine.number}"' in page and f'data-case="{working.number}"' in page
    assert page.index(working.number) < page.index(mine.number)  # newest first
    assert theirs.number not in page and "别人的问题" not in page and OTHER_PHONE not in page
    assert 'data-field="status">Handled<' in page and 'data-field="status">Passed to a unit<' in page
    assert 'data-field="result">已清运完毕<' in page
    assert world.committee.name in page
    for staff in (world.community_clerk, world.gridworker, world.dispatcher):
        assert staff.real_name not in page
    assert "内部" not in page
    assert f'data-verdict="{mine.number}"' in page
    assert f'data-verdict="{working.number}"' not in page


def test_my_requests_reads_ten_cases_in_the_same_few_queries(world, resident, django_assert_num_queries):
    for n in range(10):
        case = call(world, text=f"问题{n}")
        if n % 2:
            dispatch.case_dispatch(case=case, unit=world.committee, actor=world.dispatcher)
    # The session, the cases, their lead units, their results.
    with django_assert_num_queries(4):
        response = resident.get("/resident/mine/")
    assert response.content.decode().count("data-case=") == 10


def test_another_persons_case_and_a_missing_one_answer_404_alike(world, resident, client):
    theirs = call(world, phone=OTHER_PHONE)
    mine = call(world)
    assert resident.get(f"/resident/cases/{theirs.number}/").status_code == 404
    assert resident.get("/resident/cases/SJT-20260310-99999/").status_code == 404
    assert resident.post(f"/resident/cases/{theirs.number}/verdict/").status_code == 404
    page = resident.get(f"/resident/cases/{mine.number}/")
    assert page.status_code == 200 and "小区门口垃圾堆放多日无人清理" in page.content.decode()
    # A browser with no confirmed number sees nothing either.
    client.logout()
    assert client.get(f"/resident/cases/{mine.number}/").status_code == 404


def test_a_case_this_number_added_its_voice_to_shows_its_own_words_only(world, resident):
    case = call(world, phone=OTHER_PHONE, text="垃圾没人清\n我是3单元的张先生")
    call_register(
        actor=world.gridworker,
        details=CallDetails(
            channel="hotline",
            description="同一处垃圾，我也反映一下",
            category=case.category,
            grid=world.grid_a,
            caller_phone=PHONE,
        ),
        attach_to=case,
    )
    page = resident.get(f"/resident/cases/{case.number}/").content.decode()
    assert "同一处垃圾，我也反映一下" in page and "张先生" not in page
    # The verdict belongs to the case's own caller.
    assert "data-verdict" not in page


def test_the_resolved_cases_caller_gives_their_verdict_through_a_fresh_single_use_link(world, resident):
    case = resolved(world, call(world))
    response = resident.post(f"/resident/cases/{case.number}/verdict/")
    assert response.status_code == 302 and response["Location"].startswith("/r/")
    verdict_page = resident.get(response["Location"])
    assert verdict_page.status_code == 200 and case.number in verdict_page.content.decode()
