"""结邻共建 and 督办: when the deadline sweep supervises a community committee's overdue case, the
agencies paired with that community hear of it in their inbox; a department's case, or a
community's case the agency is not paired with, tells them nothing."""

import pytest
import time_machine

from escalation.models import Supervision
from escalation.services import deadlines_sweep
from notices.models import Notification
from tests.escalation.test_escalation import at, handled_promptly, with_heads
from tests.factories import UnitFactory, UserFactory, member
from units.models import Pairing, Unit

pytestmark = pytest.mark.django_db

# Seven working days after the 19 March deadline of a case dispatched on 10 March: supervised.
SUPERVISED_AT = at(30, 3, 10)


@pytest.fixture
def world(cast, categories):
    world = with_heads(cast)
    court = UnitFactory(code="A-COURT", name="区人民法院", kind=Unit.Kind.AGENCY, region=cast.district)
    tax = UnitFactory(code="A-TAX", name="区税务局", kind=Unit.Kind.AGENCY, region=cast.district)
    Pairing.objects.create(agency=court, community=cast.community)
    Pairing.objects.create(agency=tax, community=cast.other_community)
    world.court_clerk = member(UserFactory(username="t_court"), court)
    world.tax_clerk = member(UserFactory(username="t_tax"), tax)
    return world


def supervise(case):
    with time_machine.travel(SUPERVISED_AT, tick=False):
        deadlines_sweep()
    assert Supervision.objects.filter(case=case).exists()


def test_a_supervised_community_case_tells_the_agency_paired_with_that_community(world):
    case = handled_promptly(world, "0201", world.community_clerk)
    supervise(case)
    (notice,) = Notification.objects.filter(user=world.court_clerk)
    assert (notice.kind, notice.case) == ("paired_supervise", case)
    assert case.number in notice.text and "金山社区居委会" in notice.text
    # The agency cannot open the community's case: the link leads to its 结邻共建 page.
    assert notice.url == "/volunteers/contributions/"
    assert not Notification.objects.filter(user=world.tax_clerk).exists()


def test_a_supervised_department_case_tells_no_paired_agency(world):
    case = handled_promptly(world, "0103", world.dept_clerk)
    supervise(case)
    assert Notification.objects.filter(case=case, kind="supervise").exists()
    assert not Notification.objects.filter(user__in=[world.court_clerk, world.tax_clerk]).exists()
