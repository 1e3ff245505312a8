"""What a mediation does to the case it came from: sent → a `mediate` event, the case stays with its
lead unit; an agreement → the case resolved with the terms as its result, then called back and
closed as usual; no agreement → the record on the case's timeline, the lead unit keeps it; referral
up → the higher point's mediation takes the case and the lead deadline is extended, recorded as an
approved extension."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, CaseEvent
from feedback.services import case_callback
from mediation import services
from mediation.models import Mediation
from mediation.selectors import may_send_to_mediation
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


def test_only_a_case_in_progress_is_sent_and_only_by_its_lead_unit_or_a_dispatcher(world):
    cast = world.cast
    case = dispute_case(world)
    for outsider in (cast.dept_clerk, cast.street_clerk, world.mediator):
        assert not may_send_to_mediation(outsider, case)
        with pytest.raises(NotPermitted):
            services.case_mediate(case=case, actor=outsider, point=world.point)
    registered = open_case(cast, category_code="1104")
    assert not may_send_to_mediation(cast.dispatcher, registered)
    with pytest.raises(TransitionNotAllowed):
        services.case_mediate(case=registered, actor=cast.dispatcher, point=world.point)
    assert not Mediation.objects.filter(case__in=[case, registered]).exists()
    # Once in mediation, not twice.
    services.case_mediate(case=case, actor=cast.dispatcher, point=world.point)
    with pytest.raises(InvalidInput, match="already in mediation"), translation.override("en"):
        services.case_mediate(case=case, actor=cast.dispatcher, point=world.point)
    assert Mediation.objects.filter(case=case).count() == 1
