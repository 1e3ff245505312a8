"""The handling services: contact, progress notes, resolution and an assisting unit's report. Each
writes exactly one event, changes the rows it should, and refuses bad input naming the field."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import CaseEvent, CasePhoto
from handling import services
from routing import dispatch
from tests.factories import UnitFactory, UserFactory, member
from tests.handling.helpers import TUESDAY, dispatched_case, helping, lead, photo, signed_case, with_volunteers

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it.


@pytest.fixture
def world(cast, categories):
    return with_volunteers(cast)


class NewEvents:
    """The events written while the block ran."""

    def __enter__(self):
        self.before = set(CaseEvent.objects.values_list("pk", flat=True))
        self.events = []
        return self

    def __exit__(self, *exc):
        self.events[:] = list(CaseEvent.objects.exclude(pk__in=self.before).order_by("id"))
        return False


# --- contact -------------------------------------------------------------------------------------


def test_a_contact_writes_one_event_with_how_when_and_what_was_agreed(world, clock):
    case = signed_case(world)
    clock.shift(timedelta(hours=1))
    at = TUESDAY + timedelta(minutes=30)  # recorded afterwards: the time it really happened
    with NewEvents() as new:
        services.case_contact(
            case=case, actor=world.community_clerk, method="visit", contacted_at=at, agreed="明早清运"
        )
    [event] = new.events
    assert (event.case, event.action, event.actor) == (case, "contact", world.community_clerk)
    assert (event.from_status, event.to_status) == ("in_progress", "in_progress")
    assert event.data["method"] == "visit"
    assert datetime.fromisoformat(event.data["at"]) == at
    assert event.data["unit"] == world.committee.code
    assert event.note == "明早清运"


def test_the_first_contact_sets_the_contact_time_and_a_second_one_does_not_move_it(world, clock):
    case = signed_case(world)
    clock.shift(timedelta(hours=2))
    first = TUESDAY + timedelta(hours=1)
    assignment = services.case_contact(
        case=case, actor=world.community_clerk, method="phone", contacted_at=first, agreed="下午上门"
    )
    assert assignment.contacted_at == first
    clock.shift(timedelta(hours=2))
    services.case_contact(case=case, actor=world.community_clerk, method="visit", agreed="已上门查看")
    assert lead(case).contacted_at == first
    assert case.events.filter(action="contact").count() == 2


def test_a_contact_before_the_case_reached_the_unit_is_refused(world, clock):
    case = signed_case(world)
    with pytest.raises(InvalidInput) as error:
        services.case_contact(
            case=case,
            actor=world.community_clerk,
            method="phone",
            contacted_at=TUESDAY - timedelta(hours=1),
            agreed="x",
        )
    assert error.value.field == "contacted_at"
    assert lead(case).contacted_at is None


def test_a_contact_without_a_time_is_recorded_now(world, clock):
    case = signed_case(world)
    assert services.case_contact(
        case=case, actor=world.community_clerk, method="sms", agreed="短信告知"
    ).contacted_at == (TUESDAY)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"method": "pigeon"}, "method"),
        ({"method": ""}, "method"),
        ({"agreed": "  "}, "agreed"),
        ({"contacted_at": TUESDAY + timedelta(hours=1)}, "contacted_at"),
    ],
)
def test_a_bad_contact_is_refused_naming_the_field_and_changes_nothing(world, clock, given, field):
    case = signed_case(world)
    values = {"method": "phone", "agreed": "明早清运", **given}
    with NewEvents() as new, pytest.raises(InvalidInput) as error:
        services.case_contact(case=case, actor=world.community_clerk, **values)
    assert error.value.field == field
    assert new.events == []
    assert lead(case).contacted_at is None


def test_only_the_lead_unit_records_a_contact(world, clock):
    case = signed_case(world)
    helping(world, case)
    for person in (world.volunteer, world.street_clerk, world.official, world.dept_clerk):
        with pytest.raises(NotPermitted):
            services.case_contact(case=case, actor=person, method="phone", agreed="x")
    assert not case.events.filter(action="contact").exists()


def test_a_contact_before_signing_for_is_not_a_move_the_lifecycle_allows(world, clock):
    case = dispatched_case(world)
    with pytest.raises(TransitionNotAllowed):
        services.case_contact(case=case, actor=world.community_clerk, method="phone", agreed="x")
    assert lead(case).contacted_at is None


# --- notes ---------------------------------------------------------------------------------------


def test_the_lead_unit_adds_a_note_with_photos_saved_as_progress(world, clock):
    case = signed_case(world)
    with NewEvents() as new:
        services.case_note(case=case, actor=world.community_clerk, text="已联系环卫", photos=[photo(), photo("b.jpg")])
    [event] = new.events
    assert (event.action, event.actor, event.note) == ("note", world.community_clerk, "已联系环卫")
    assert event.data == {"units": [world.committee.code]}
    assert list(case.photos.values_list("stage", "uploaded_by")) == [
        (CasePhoto.Stage.PROGRESS, world.community_clerk.pk),
        (CasePhoto.Stage.PROGRESS, world.community_clerk.pk),
    ]


def test_an_assisting_unit_adds_a_note(world, clock):
    case = signed_case(world)
    helping(world, case)
    with NewEvents() as new:
        services.case_note(case=case, actor=world.volunteer, text="志愿者已到场")
    [event] = new.events
    assert (event.action, event.actor, event.data) == ("note", world.volunteer, {"units": ["SOC-VOLUNTEERS"]})
    assert not case.photos.exists()


def test_a_unit_not_working_on_the_case_may_not_add_a_note(world, clock):
    case = signed_case(world)
    for person in (world.dept_clerk, world.street_clerk, world.official, world.gridworker):
        with pytest.raises(NotPermitted):
            services.case_note(case=case, actor=person, text="路过看了一眼", photos=[photo()])
    assert not case.events.filter(action="note").exists()
    assert not case.photos.exists()


def test_an_empty_note_is_refused(world, clock):
    case = signed_case(world)
    with pytest.raises(InvalidInput) as error:
        services.case_note(case=case, actor=world.community_clerk, text=" \n ")
    assert error.value.field == "text"
    assert not case.events.filter(action="note").exists()


# --- resolving -----------------------------------------------------------------------------------


def test_resolving_moves_the_case_and_ends_the_lead_and_active_assisting_parts(world, clock):
    case = signed_case(world)
    volunteers = helping(world, case)
    reported_unit = UnitFactory(code="SOC-CLEANERS", name="保洁公司", kind="social")
    cleaner = member(UserFactory(username="t_cleaner"), reported_unit)
    cleaners = dispatch.case_assist(case=case, unit=reported_unit, actor=world.community_clerk, note="请清运")
    services.assist_report(case=case, actor=cleaner, text="已清运")
    reported_at = TUESDAY
    clock.shift(timedelta(hours=3))
    with NewEvents() as new:
        services.case_resolve(
            case=case, actor=world.community_clerk, result_kind="solved", result="垃圾已清运", photos=[photo()]
        )
    [event] = new.events
    assert (event.action, event.from_status, event.to_status) == ("resolve", "in_progress", "resolved")
    assert (event.actor, event.note) == (world.community_clerk, "垃圾已清运")
    assert event.data == {"result_kind": "solved", "unit": world.committee.code}
    case.refresh_from_db()
    assert case.status == "resolved"
    finished = TUESDAY + timedelta(hours=3)
    for assignment, state, at in (
        (lead(case), "done", finished),
        (volunteers, "done", finished),
        (cleaners, "done", reported_at),  # reported before: its own finish time stays
    ):
        assignment.refresh_from_db()
        assert (assignment.state, assignment.finished_at) == (state, at)
    assert list(case.photos.values_list("stage", flat=True)) == [CasePhoto.Stage.EVIDENCE]


@pytest.mark.parametrize(
    ("given", "field"),
    [({"result": ""}, "result"), ({"result": "   "}, "result"), ({"result_kind": "vanished"}, "result_kind")],
)
def test_a_bad_resolution_is_refused_naming_the_field_and_changes_nothing(world, clock, given, field):
    case = signed_case(world)
    values = {"result_kind": "cannot", "result": "产权不清，无法处理", **given}
    with NewEvents() as new, pytest.raises(InvalidInput) as error:
        services.case_resolve(case=case, actor=world.community_clerk, photos=[photo()], **values)
    assert error.value.field == field
    assert new.events == []
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert lead(case).state == "signed"
    assert not case.photos.exists()


def test_only_the_lead_unit_resolves(world, clock):
    case = signed_case(world)
    helping(world, case)
    for person in (world.volunteer, world.street_clerk, world.official, world.dispatcher):
        with pytest.raises(NotPermitted):
            services.case_resolve(case=case, actor=person, result_kind="solved", result="已解决")
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert not case.events.filter(action="resolve").exists()


def test_resolving_a_case_not_in_progress_is_not_allowed(world, clock):
    case = dispatched_case(world)  # not signed for yet
    with pytest.raises(TransitionNotAllowed):
        services.case_resolve(case=case, actor=world.community_clerk, result_kind="solved", result="已解决")
    case.refresh_from_db()
    assert case.status == "dispatched"
    assert (lead(case).state, lead(case).finished_at) == ("waiting", None)


def test_resolving_again_is_not_allowed_and_says_the_case_is_resolved(world, clock):
    case = signed_case(world)
    services.case_resolve(case=case, actor=world.community_clerk, result_kind="solved", result="已解决")
    with pytest.raises(TransitionNotAllowed) as error:
        services.case_resolve(case=case, actor=world.community_clerk, result_kind="explained", result="再来一次")
    assert error.value.status == "resolved"
    assert case.events.filter(action="resolve").count() == 1


# --- an assisting unit's report ------------------------------------------------------------------


def test_an_assisting_unit_reports_its_part_done(world, clock):
    case = signed_case(world)
    volunteers = helping(world, case)
    clock.shift(timedelta(hours=1))
    with NewEvents() as new:
        services.assist_report(case=case, actor=world.volunteer, text="志愿者清运完毕")
    [event] = new.events
    assert (event.action, event.actor, event.note) == ("note", world.volunteer, "志愿者清运完毕")
    assert event.data == {"assist_done": "SOC-VOLUNTEERS"}
    volunteers.refresh_from_db()
    assert (volunteers.state, volunteers.finished_at) == ("done", TUESDAY + timedelta(hours=1))
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert lead(case).state == "signed"


def test_the_lead_unit_cannot_report_as_an_assisting_unit(world, clock):
    case = signed_case(world)
    volunteers = helping(world, case)
    with NewEvents() as new, pytest.raises(NotPermitted):
        services.assist_report(case=case, actor=world.community_clerk, text="我们替他们报")
    assert new.events == []
    volunteers.refresh_from_db()
    assert volunteers.state == "waiting"


def test_an_empty_report_is_refused(world, clock):
    case = signed_case(world)
    helping(world, case)
    with pytest.raises(InvalidInput) as error:
        services.assist_report(case=case, actor=world.volunteer, text="")
    assert error.value.field == "text"


def test_a_unit_reports_only_once(world, clock):
    case = signed_case(world)
    helping(world, case)
    services.assist_report(case=case, actor=world.volunteer, text="完成")
    with pytest.raises(NotPermitted):
        services.assist_report(case=case, actor=world.volunteer, text="再报一次")
    assert case.events.filter(action="note", data__assist_done="SOC-VOLUNTEERS").count() == 1
