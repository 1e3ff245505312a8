"""A resident's request from their own page: one case on the `online` channel, routed like any
other and acknowledged by SMS; one case for a double submit; a likely duplicate shown before
anything is saved; bad input a form error that keeps what was typed; the limits answer 429."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cases.models import Case, CasePhoto, Channel
from intake.models import Call
from outbox.models import Message
from residents.models import Attempt
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import english, open_case
from tests.residents.helpers import PHONE, confirmed

pytestmark = pytest.mark.django_db

TEXT = "小区门口垃圾堆放多日无人清理"


def jpeg(name="rubbish.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def form(world, **fields):
    return {
        "description": TEXT,
        "category": "0201",
        "community": world.community.code,
        "address": "金山社区3号楼东侧",
        "caller_name": "",
        "submission": "form-1",
        **fields,
    }


@pytest.fixture
def resident(client):
    return confirmed(english(client))


def test_a_request_opens_one_case_on_the_online_channel_routed_like_any_other(
    world, resident, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = resident.post("/resident/new/", form(world, photos=[jpeg()], caller_name="刘女士"))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/resident/cases/{case.number}/?new=1"
    assert case.channel == Channel.ONLINE and case.caller_phone == PHONE and case.caller_name == "刘女士"
    assert case.created_by.username == "door:residents" and case.status == Case.Status.REGISTERED
    # A community is not a grid: the case goes to the community's first grid.
    assert case.grid == world.grid_a and case.address == "金山社区3号楼东侧"
    assert CasePhoto.objects.filter(case=case).count() == 1
    assert queued  # the dispatch is asked for after the commit
    # The acknowledgement with the case number, by the notice table's SMS on `open`.
    ack = Message.objects.get(template="case_ack")
    assert ack.to == PHONE and case.number in ack.text
    dispatch_case(case.pk)  # what the queued task does: 环境卫生 goes to the grid's committee
    assert Assignment.objects.get(case=case).unit == world.committee
    page = resident.get(response["Location"])
    assert page.status_code == 200 and case.number in page.content.decode()


def test_the_map_point_finds_the_grid_and_a_point_outside_the_district_is_a_form_error(world, resident):
    grid_b = world.grid_b
    response = resident.post(
        "/resident/new/",
        form(world, community="", latitude=str(grid_b.latitude), longitude=str(grid_b.longitude)),
    )
    assert response.status_code == 302
    assert Case.objects.get().grid == grid_b
    outside = resident.post(
        "/resident/new/", form(world, submission="form-2", latitude="39.900000", longitude="116.400000")
    )
    assert outside.status_code == 200 and Case.objects.count() == 1
    assert 'data-error-for="community"' in outside.content.decode()
    nowhere = resident.post("/resident/new/", form(world, submission="form-3", community="", address=""))
    assert "Tap the map where it is, or choose your street or community." in nowhere.content.decode()


def test_a_double_submit_is_one_case(world, resident):
    first = resident.post("/resident/new/", form(world, photos=[jpeg()]))
    second = resident.post("/resident/new/", form(world, photos=[jpeg()]))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1 and Call.objects.count() == 1
    assert Attempt.objects.filter(kind=Attempt.Kind.SUBMISSION).count() == 1


def test_the_category_is_found_from_the_words_when_the_resident_is_not_sure(world, resident):
    resident.post("/resident/new/", form(world, category="", description="楼下路灯不亮好几天了"))
    resident.post("/resident/new/", form(world, category="", description="想反映一件事", submission="form-2"))
    assert sorted(Case.objects.values_list("category__code", flat=True)) == ["0205", "9901"]


def test_a_likely_duplicate_is_shown_and_adding_a_voice_counts_a_call_on_it(world, resident):
    earlier = open_case(
        world,
        caller_name="张三",
        caller_phone="13800138000",
        address="金山社区3号楼",
        description="小区门口垃圾堆放多日无人清理\n我住3单元502室",
    )
    shown = resident.post("/resident/new/", form(world, description="小区门口的垃圾好几天没人清理了"))
    page = shown.content.decode()
    assert shown.status_code == 200 and Case.objects.count() == 1
    assert f'data-duplicate="{earlier.number}"' in page and earlier.title in page
    # Nothing of the other caller: not their number, name, address or words beyond the title.
    for private in ("13800138000", "张三", "金山社区3号楼<", "3单元502"):
        assert private not in page
    # What was typed is still there.
    assert "小区门口的垃圾好几天没人清理了" in page and "金山社区3号楼东侧" in page
    added = resident.post(
        "/resident/new/",
        form(world, description="小区门口的垃圾好几天没人清理了", duplicate_choice=f"attach:{earlier.number}"),
    )
    assert added["Location"] == f"/resident/cases/{earlier.number}/?added=1"
    earlier.refresh_from_db()
    assert earlier.call_count == 2 and Case.objects.count() == 1
    assert Call.objects.get(case=earlier).caller_phone == PHONE
    # The added case is the resident's now: its page opens for them.
    assert resident.get(added["Location"]).status_code == 200


def test_a_different_problem_opens_a_new_case_and_a_case_not_offered_cannot_be_joined(world, resident):
    earlier = open_case(world)
    elsewhere = open_case(world, grid=world.grid_c)
    refused = resident.post("/resident/new/", form(world, duplicate_choice=f"attach:{elsewhere.number}"))
    assert refused.status_code == 200 and Case.objects.count() == 2
    assert "That case is no longer open." in refused.content.decode()
    new = resident.post("/resident/new/", form(world, duplicate_choice="new"))
    assert new.status_code == 302 and Case.objects.count() == 3
    earlier.refresh_from_db()
    elsewhere.refresh_from_db()
    assert earlier.call_count == elsewhere.call_count == 1


def test_a_description_too_long_is_a_form_error_that_keeps_what_was_typed(world, resident):
    response = resident.post("/resident/new/", form(world, description="垃圾" * 2501))
    page = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    assert "Keep the description under 5000 characters (now 5002)." in page
    assert "金山社区3号楼东侧" in page and "垃圾" * 2501 in page


def test_a_renamed_file_that_is_not_a_photo_and_a_fourth_photo_are_refused(world, resident):
    fake = SimpleUploadedFile("rubbish.jpg", b"%PDF-1.4 not a photo at all", content_type="image/jpeg")
    response = resident.post("/resident/new/", form(world, photos=[fake]))
    assert response.status_code == 200 and "rubbish.jpg is not a photo" in response.content.decode()
    four = resident.post("/resident/new/", form(world, photos=[jpeg(f"{n}.jpg") for n in range(4)]))
    assert four.status_code == 200 and "At most 3 photos." in four.content.decode()
    assert not Case.objects.exists()


def test_an_address_is_refused_with_429_after_its_hourly_limit_and_passes_below_it(world, resident):
    ip = "10.20.30.40"
    hour_ago = timezone.now() - timedelta(minutes=59)
    # As if 59 residents behind one address had sent a request in the last hour: the 60th passes.
    Attempt.objects.bulk_create(
        Attempt(kind=Attempt.Kind.SUBMISSION, phone=f"1370000{n:04d}", ip=ip, at=hour_ago) for n in range(59)
    )
    assert resident.post("/resident/new/", form(world), REMOTE_ADDR=ip).status_code == 302
    refused = resident.post("/resident/new/", form(world, submission="form-2"), REMOTE_ADDR=ip)
    page = refused.content.decode()
    assert refused.status_code == 429 and Case.objects.count() == 1
    assert "Too many requests from your network. Try again after" in page
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "金山社区3号楼东侧" in page  # what was typed is kept
    # Another address is not held (the first request is a likely duplicate now: a different problem).
    other = form(world, submission="form-3", duplicate_choice="new")
    assert resident.post("/resident/new/", other, REMOTE_ADDR="10.20.30.41").status_code == 302


def test_a_number_is_refused_after_five_requests_an_hour(world, resident):
    now = timezone.now()
    Attempt.objects.bulk_create(
        Attempt(kind=Attempt.Kind.SUBMISSION, phone=PHONE, ip=f"10.0.0.{n}", at=now) for n in range(5)
    )
    refused = resident.post("/resident/new/", form(world))
    assert refused.status_code == 429 and "This number has reached its limit" in refused.content.decode()
    assert not Case.objects.exists()


def test_the_form_is_for_a_confirmed_number_only(world, client):
    response = client.post("/resident/new/", form(world))
    assert response.status_code == 302 and response["Location"] == "/resident/?next=new"
    assert not Case.objects.exists()
