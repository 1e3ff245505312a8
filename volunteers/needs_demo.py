"""The demo's 需求对接 and 结邻共建 (`manage.py load_demo`, after the demo people): three needs of
金山社区 (one open with offers, one taken up by its paired agency, one done with its result) and
last week's joint meeting with its paired agencies and two problems taken up. Through the
services, as the clerks would; a second run adds nothing."""

import datetime

from django.db import transaction
from django.utils import timezone

from grids.models import Region
from routing.services import UnitsNotLoaded
from units.models import Membership, Unit
from volunteers import meetings, needs
from volunteers.models import Meeting, Need

COMMUNITY = "210111001015"  # 金山社区
DEPARTMENT = "D-HOUSING"  # 区住房和城乡建设局
NEEDS = (
    ("service", "独居老人周末助餐志愿者", "社区有12位独居老人，周末需要志愿者送餐上门。"),
    ("resource", "老年课堂需要桌椅20套", "社区活动室开设老年课堂，缺少桌椅。"),
    ("service", "法律咨询进社区", "居民对物业合同、继承等问题咨询较多，希望每月一次法律咨询。"),
)
PROBLEMS = ("3号楼加装电梯邻里意见不一，需要调解", "东门外人行道破损，雨天积水")


def _member(unit):
    membership = Membership.objects.filter(unit=unit, user__is_active=True).order_by("-role", "pk").first()
    return membership.user if membership else None


@transaction.atomic
def demo_needs_load(*, progress=None) -> dict:
    community = Region.objects.filter(code=COMMUNITY).first()
    committee = Unit.objects.filter(kind=Unit.Kind.COMMITTEE, region=community).first() if community else None
    clerk = _member(committee) if committee else None
    if clerk is None:
        raise UnitsNotLoaded("金山社区's committee and its staff must be loaded first (load_reference, demo people)")
    if Need.objects.filter(community=community, title=NEEDS[0][1]).exists():
        return {"needs": 0, "meetings": 0}
    agencies = list(meetings.paired_agencies(community))
    helpers = [(unit, _member(unit)) for unit in [*agencies, Unit.objects.filter(code=DEPARTMENT).first()] if unit]
    helpers = [(unit, person) for unit, person in helpers if person is not None]
    posted = [needs.need_post(actor=clerk, kind=kind, title=title, description=text) for kind, title, text in NEEDS]
    for need in posted:
        for unit, person in helpers:
            needs.offer_make(need=need, actor=person, unit=unit, note="可以承接")
    if helpers:
        taken, done = posted[1], posted[2]
        for need in (taken, done):
            needs.offer_accept(offer=need.offers.order_by("id").first(), actor=clerk)
        needs.need_done(need=done, actor=clerk, result="每月第一个周六上午，法官在社区活动室坐班咨询。")
    held_on = timezone.localdate() - datetime.timedelta(days=7)
    made = 0
    if agencies and not Meeting.objects.filter(community=community, held_on=held_on).exists():
        meetings.meeting_record(
            actor=clerk,
            held_on=held_on,
            attendees=agencies,
            notes="通报上月需求对接情况，研究老旧小区改造中的矛盾纠纷。",
            problems=[(text, agencies[index % len(agencies)]) for index, text in enumerate(PROBLEMS)],
        )
        made = 1
    return {"needs": len(posted), "meetings": made}
