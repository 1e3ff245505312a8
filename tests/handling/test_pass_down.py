"""分级办理: a street office passes its case down to the community where it happened."""

import pytest

from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_case(cast, categories):
    routing_setup(cast)
    case = open_case(cast, category_code="0101")  # 违章建筑: the street office leads
    dispatch_case(case.pk)
    return case


def test_the_street_office_passes_its_case_down_from_the_workspace(client, cast, street_case):
    dispatch.case_sign(case=street_case, actor=cast.street_clerk)
    client.force_login(cast.street_clerk)
    page = client.get(f"/handling/cases/{street_case.number}/")
    assert [unit.code for unit in page.context["communities"]] == ["C210111001015"]
    response = client.post(
        f"/handling/cases/{street_case.number}/pass-down/", {"unit": "C210111001015", "reason": "社区先行劝导"}
    )
    assert response.status_code == 302
    street_case.refresh_from_db()
    assert street_case.status == "dispatched"
    lead = Assignment.objects.get(case=street_case, state="waiting")
    assert lead.unit == cast.committee
    assert street_case.events.filter(action="redispatch").get().note == "社区先行劝导"


def test_a_community_of_another_place_is_refused_and_nothing_changes(client, cast, street_case):
    client.force_login(cast.street_clerk)
    client.post(f"/handling/cases/{street_case.number}/pass-down/", {"unit": "C210111003201"}, follow=True)
    assert Assignment.objects.get(case=street_case, state="waiting").unit == cast.street_office


def test_a_community_lead_has_no_pass_down(client, cast, categories):
    routing_setup(cast)
    case = open_case(cast)  # 环境卫生: the committee leads
    dispatch_case(case.pk)
    client.force_login(cast.community_clerk)
    assert list(client.get(f"/handling/cases/{case.number}/").context["communities"]) == []
