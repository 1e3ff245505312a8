"""Cases in the states the handling tests start from."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import UnitFactory, UserFactory, member, open_case, routing_setup

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it; four working hours from it end at 15:00.
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


def photo(name="work.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def dispatched_case(world, **fields):
    """A case dispatched by the rules: rubbish (0201) to 金山社区's committee, 物业管理 (0103) to
    区住房和城乡建设局."""
    case = open_case(world, **fields)
    dispatch_case(case.pk)
    case.refresh_from_db()
    return case


def signed_case(world, **fields):
    case = dispatched_case(world, **fields)
    clerk = world.community_clerk if lead(case).unit == world.committee else world.dept_clerk
    dispatch.case_sign(case=case, actor=clerk)
    case.refresh_from_db()
    return case


def lead(case):
    """The case's latest lead assignment."""
    return Assignment.objects.filter(case=case, role="lead").latest("id")


def helping(world, case):
    """The committee calls the volunteers in; returns their assignment."""
    return dispatch.case_assist(case=case, unit=world.volunteers, actor=world.community_clerk, note="请协助清运")


def with_volunteers(cast):
    """The cast with the routing set up, and a social force the community may call in, with one
    clerk (`cast.volunteers`, `cast.volunteer`)."""
    routing_setup(cast)
    cast.volunteers = UnitFactory(code="SOC-VOLUNTEERS", name="志愿者协会", kind="social")
    cast.volunteer = member(UserFactory(username="t_volunteer", real_name="郑志愿"), cast.volunteers)
    return cast
