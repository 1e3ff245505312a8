"""What a mediation does to the case it came from: sent (by a dispatcher while it is open and not yet
resolved, by the lead unit holding it; a resolved or closed case refused, 409) → a `mediate` event,
the case stays where it is; an agreement → the case resolved with the terms as its result (a case
nobody had signed for taken up by the system first: dispatched to the point's host unit or the
rules' unit, signed for), then called back and closed as usual; no agreement → the record on the
case's timeline, the lead unit keeps it; referral up → the higher point's mediation takes the case
and the lead deadline is extended, recorded as an approved extension."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, CaseEvent
from feedback.services import case_callback, case_close_invalid
from mediation import services
from mediation.models import Mediation
from mediation.selectors import may_send_to_mediation
from routing import dispatch
from routing.dispatch import lead_assignment
from routing.models import Assignment, ExtensionRequest
from tests.factories import open_case
from tests.mediation.world import TERMS, dispute_case, module_world, to_state

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)


def actions(case):
    return list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("action", flat=True))


def test_a_dispute_resolved_by_an_agreement_is_called_back_and_closed(world):
    case = dispute_case(world)
    cast = world.cast
    assert may_send_to_mediation(cast.community_clerk, case)
    mediation = services.case_mediate(case=case, actor=cast.community_clerk, point=world.point, note="请调解")
    case.refresh_from_db()
    assert case.status == "in_progress"
    event = case.events.order_by("-at", "-id").first()
    assert (event.action, event.actor, event.data["point"], event.data["mediation"]) == (
        "mediate",
        cast.community_clerk,
        world.point.code,
        mediation.pk,
    )
    # The caller is a party; the other side is to be completed by the point.
    caller, other = mediation.parties.all()
    assert (caller.name, caller.phone) == (case.caller_name, case.caller_phone)
    services.party_update(party=other, actor=world.mediator, name="刘二柱", phone="13987654321")

    to_state(world, mediation, "agreement")
    case.refresh_from_db()
    assert case.status == "resolved"
    resolve = case.events.get(action="resolve")
    assert (resolve.note, resolve.actor, resolve.data["mediation"], resolve.data["result_kind"]) == (
        TERMS,
        None,
        mediation.pk,
        "solved",
    )
    lead = Assignment.objects.get(case=case, role="lead")
    assert lead.state == "done" and lead.callback_due is not None

    # The centre calls the resident back as usual: content, the case closes.
    case_callback(case=case, actor=cast.dispatcher, reached=True, resolved=True, satisfaction="satisfied")
    case.refresh_from_db()
    assert case.status == "closed"
    assert actions(case)[-3:] == ["resolve", "callback", "close"]
    # The mediation's own follow-up goes on.
    scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    services.mediation_sign(mediation=mediation, actor=world.mediator, scan=scan)
    assert Mediation.objects.get(pk=mediation.pk).state == "follow_up"


def test_no_agreement_leaves_the_case_with_its_lead_unit_and_the_record(world):
    case = dispute_case(world)
    mediation = services.case_mediate(case=case, actor=world.cast.dispatcher, point=world.point)
    to_state(world, mediation, "no_agreement")
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert lead_assignment(case).unit == world.cast.committee
    end = case.events.get(action="mediation_end")
    assert end.data["outcome"] == "no_agreement"
    assert "刘家不同意拆除" in end.note and "双方同意以村里的地界图为准" in end.note


def test_referral_up_takes_the_case_and_its_deadline_follows(world):
    case = dispute_case(world)
    due = lead_assignment(case).resolve_due
    mediation = services.case_mediate(case=case, actor=world.cast.community_clerk, point=world.point)
    with translation.override("en"):
        higher = services.mediation_refer(mediation=mediation, actor=world.mediator, level="street")
    assert (higher.point, higher.case) == (world.street_point, case)
    lead = lead_assignment(case)
    assert lead.resolve_due > due
    extension = ExtensionRequest.objects.get(assignment=lead)
    assert (extension.decision, extension.requested_until, extension.decided_by, extension.reason) == (
        "approved",
        lead.resolve_due,
        None,
        f"Referred to {world.street_point.name}",
    )
    extend = case.events.get(action="extend")
    assert (extend.actor, extend.data["step"], extend.data["mediation"]) == (None, "approved", higher.pk)
    assert actions(case)[-2:] == ["extend", "mediate"]
    # The street point's agreement resolves the case.
    to_state(world, higher, "agreement")
    assert Case.objects.get(pk=case.pk).status == "resolved"


def _closed(world):
    """A registered case the dispatchers closed as no real request."""
    case = open_case(world.cast, category_code="1104")
    return case_close_invalid(case=case, actor=world.cast.dispatcher, reason="invalid", note="骚扰电话")


def test_a_dispatcher_sends_any_open_case_and_the_lead_unit_one_it_holds(world):
    cast = world.cast
    case = dispute_case(world)
    for outsider in (cast.dept_clerk, cast.street_clerk, world.mediator):
        assert not may_send_to_mediation(outsider, case)
        with pytest.raises(NotPermitted):
            services.case_mediate(case=case, actor=outsider, point=world.point)
    # Registered: nobody leads it, so the dispatchers alone send it.
    registered = open_case(cast, category_code="1104")
    assert may_send_to_mediation(cast.dispatcher, registered)
    assert not may_send_to_mediation(cast.community_clerk, registered)
    with pytest.raises(NotPermitted):
        services.case_mediate(case=registered, actor=cast.community_clerk, point=world.point)
    # Dispatched and not yet signed for: the unit holding it sends it.
    dispatched = open_case(cast, category_code="1104")
    dispatch.case_dispatch(case=dispatched, unit=cast.committee, actor=cast.dispatcher)
    dispatched.refresh_from_db()
    assert may_send_to_mediation(cast.community_clerk, dispatched)
    sent = services.case_mediate(case=dispatched, actor=cast.community_clerk, point=world.point)
    assert (sent.case, Case.objects.get(pk=dispatched.pk).status) == (dispatched, "dispatched")
    assert not Mediation.objects.filter(case__in=[case, registered]).exists()
    # Once in mediation, not twice.
    services.case_mediate(case=case, actor=cast.dispatcher, point=world.point)
    with pytest.raises(InvalidInput, match="already in mediation"), translation.override("en"):
        services.case_mediate(case=case, actor=cast.dispatcher, point=world.point)
    assert Mediation.objects.filter(case=case).count() == 1


def test_a_closed_or_resolved_case_is_refused_with_409_and_a_message(world):
    cast = world.cast
    closed = _closed(world)
    assert not may_send_to_mediation(cast.dispatcher, closed)
    with pytest.raises(TransitionNotAllowed, match="closed"), translation.override("en"):
        services.case_mediate(case=closed, actor=cast.dispatcher, point=world.point)
    api = Client()
    api.force_login(cast.dispatcher)
    refused = api.post(
        f"/api/v1/cases/{closed.number}/mediate/", {"point": world.point.code}, content_type="application/json"
    )
    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == "transition_not_allowed" and refused.json()["detail"]
    # A resolved case: its lead unit hears the same (409), not that the case is not its own.
    resolved = dispute_case(world)
    mediation = services.case_mediate(case=resolved, actor=cast.community_clerk, point=world.point)
    to_state(world, mediation, "agreement")
    resolved.refresh_from_db()
    assert resolved.status == "resolved" and not may_send_to_mediation(cast.community_clerk, resolved)
    for actor in (cast.community_clerk, cast.dispatcher):
        with pytest.raises(TransitionNotAllowed):
            services.case_mediate(case=resolved, actor=actor, point=world.point)
    assert Mediation.objects.filter(case__in=[closed, resolved]).count() == 1


def test_a_registered_case_sent_by_a_dispatcher_is_dispatched_signed_and_resolved_by_the_agreement(world):
    """Nobody led it: the system dispatches it to the point's host unit (金山社区's committee) and
    signs for it, then the agreement resolves it, and the callback closes it as usual."""
    cast = world.cast
    case = open_case(cast, category_code="1104")
    mediation = services.case_mediate(case=case, actor=cast.dispatcher, point=world.point, note="邻里纠纷")
    case.refresh_from_db()
    assert case.status == "registered" and actions(case)[-1] == "mediate"
    to_state(world, mediation, "agreement")
    case.refresh_from_db()
    assert case.status == "resolved"
    assert actions(case)[-4:] == ["mediate", "dispatch", "sign", "resolve"]
    dispatched, signed, resolve = case.events.filter(action__in=["dispatch", "sign", "resolve"]).order_by("at", "id")
    assert (dispatched.actor, dispatched.data["unit"], world.point.name in dispatched.note) == (
        None,
        cast.committee.code,
        True,
    )
    assert (signed.actor, signed.data["unit"], signed.data["mediation"]) == (None, cast.committee.code, mediation.pk)
    assert (resolve.actor, resolve.note, resolve.data["mediation"], resolve.data["unit"]) == (
        None,
        TERMS,
        mediation.pk,
        cast.committee.code,
    )
    lead = Assignment.objects.get(case=case, role="lead")
    assert (lead.unit, lead.state, lead.dispatched_by) == (cast.committee, "done", None)
    assert lead.signed_at is not None and lead.callback_due is not None
    case_callback(case=case, actor=cast.dispatcher, reached=True, resolved=True, satisfaction="satisfied")
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_a_dispatched_case_is_signed_for_by_the_system_for_the_unit_holding_it(world):
    cast = world.cast
    case = open_case(cast, category_code="1104")
    dispatch.case_dispatch(case=case, unit=cast.street_office, actor=cast.dispatcher)
    mediation = services.case_mediate(case=case, actor=cast.dispatcher, point=world.point)
    to_state(world, mediation, "agreement")
    case.refresh_from_db()
    assert case.status == "resolved"
    assert actions(case)[-3:] == ["mediate", "sign", "resolve"]
    lead = Assignment.objects.get(case=case, role="lead")
    assert (lead.unit, lead.state) == (cast.street_office, "done")  # the unit holding it, not the point's


def test_a_returned_case_goes_to_the_rules_unit_when_the_points_host_cannot_lead_it(world):
    """民主村's committee (the point's host) does not serve 金山社区: the routing rules' unit (the
    grid's committee, for 0201) leads the case the agreement resolves. A case no unit may lead is
    left with the dispatchers, the agreement on its timeline."""
    cast = world.cast
    case = open_case(cast, category_code="0201")
    dispatch.case_dispatch(case=case, unit=cast.committee, actor=cast.dispatcher)
    dispatch.case_sign(case=case, actor=cast.community_clerk)
    dispatch.case_return(case=case, actor=cast.community_clerk, reason="other", note="不是我们的事")
    case.refresh_from_db()
    assert case.status == "returned"
    mediation = services.case_mediate(case=case, actor=cast.dispatcher, point=world.village_point)
    _agree(world, mediation, world.village_mediator)
    case.refresh_from_db()
    assert case.status == "resolved" and lead_assignment(case) is None
    assert Assignment.objects.get(case=case, role="lead", state="done").unit == cast.committee

    lost = open_case(cast, category_code="1104")  # no rule for disputes: nobody to lead it
    mediation = services.case_mediate(case=lost, actor=cast.dispatcher, point=world.village_point)
    _agree(world, mediation, world.village_mediator)
    lost.refresh_from_db()
    assert lost.status == "registered" and actions(lost)[-1] == "mediation_end"
    assert lost.events.get(action="mediation_end").data["outcome"] == "agreement"


def _agree(world, mediation, actor):
    from datetime import timedelta

    from django.utils import timezone

    mediators = world.mediators[mediation.point.code]
    at = timezone.now() + timedelta(hours=2)
    services.mediation_schedule(mediation=mediation, actor=actor, at=at, place="村委会", mediators=mediators)
    services.mediation_session(
        mediation=mediation,
        actor=actor,
        present=list(mediation.parties.all()),
        mediators=mediators,
        statements="双方陈述",
        reasoning=["feeling"],
        record="达成一致",
    )
    services.mediation_agreement(mediation=mediation, actor=actor, terms=TERMS, follow_up=[])
