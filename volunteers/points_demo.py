"""The demo's points and bookings (`load_demo`'s "demo points and bookings" step): the default
points rules, the seed's standing services of the special squads (爱心食堂: "到食堂就餐的老人已有110
余人...为40名行动不便的老人提供送餐上门服务"; 卫爱同行's health checks; 极速帮办's errands), a few
rewards of 金山社区, a first line on the `volunteer` login's ledger and a few bookings for tomorrow
by the `community` login. Safe to run again: what exists is kept (rules changed in the admin too)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from grids.models import Region
from volunteers import bookings, points
from volunteers.models import Booking, PointEntry, PointRule, Reward, Service, Team, Volunteer

DEMO_COMMUNITY = "210111001015"  # 金山社区
DEMO_CLERK = "community"  # 金山社区's committee (routing.services.demo_people_load)
DEMO_VOLUNTEER = "volunteer"  # a member of 金山社区's team (volunteers.teams_demo)

# (the squad's unit code, name, description, residents a day)
SERVICES = (
    ("N-CANTEEN", "爱心午餐", "金山社区爱心食堂的午餐，七十岁以上低收入老人优先", 110),
    ("N-CANTEEN", "送餐上门", "为行动不便的老人把午餐送到家", 40),
    ("N-WEIAI", "健康体检", "测血压、血糖，家庭医生健康咨询", 30),
    ("N-FASTHELP", "代办跑腿", "代办证件、代缴费用、代购药品", 20),
)
# 金山社区's rewards: (name, points, in stock)
REWARDS = (("理发券", 50, 50), ("洗衣液", 80, 40), ("食用油1.8升", 150, 30), ("大米5斤", 200, 20))
# Tomorrow's bookings by the committee's clerk: (service, resident, phone, address)
BOOKINGS = (
    ("爱心午餐", "王淑芬", "13800000101", ""),
    ("爱心午餐", "李德胜", "13800000102", ""),
    ("送餐上门", "张桂兰", "13800000103", "金山社区12号楼3单元502"),
)
FIRST_LINE = "平台上线前的志愿服务时长补记"


@transaction.atomic
def demo_points_load(*, progress=None) -> dict:
    created = {"rules": 0, "services": 0, "rewards": 0, "ledger lines": 0, "bookings": 0}
    for kind, value in points.DEFAULT_RULES.items():
        created["rules"] += PointRule.objects.get_or_create(kind=kind, defaults={"points": value})[1]
    squads = {team.unit.code: team for team in Team.objects.filter(unit__code__in={s[0] for s in SERVICES})}
    services = {}
    for code, name, description, capacity in SERVICES:
        if code in squads:
            service, made = Service.objects.get_or_create(
                team=squads[code], name=name, defaults={"description": description, "capacity": capacity}
            )
            services[name] = service
            created["services"] += made
    community = Region.objects.filter(code=DEMO_COMMUNITY).first()
    if community is not None:
        for name, cost, stock in REWARDS:
            made = Reward.objects.get_or_create(community=community, name=name, defaults={"cost": cost, "stock": stock})
            created["rewards"] += made[1]
    clerk = User.objects.filter(username=DEMO_CLERK).first()
    volunteer = Volunteer.objects.filter(user__username=DEMO_VOLUNTEER).first()
    if clerk is not None and volunteer is not None and not PointEntry.objects.filter(volunteer=volunteer).exists():
        points.points_correct(volunteer=volunteer, points=160, reason=FIRST_LINE, actor=clerk)
        created["ledger lines"] += 1
    if clerk is not None and not Booking.objects.filter(booked_by=clerk).exists():
        tomorrow = timezone.localdate() + timedelta(days=1)
        for name, resident, phone, address in BOOKINGS:
            if name in services:
                bookings.booking_book(
                    service=services[name],
                    day=tomorrow,
                    resident_name=resident,
                    resident_phone=phone,
                    address=address,
                    actor=clerk,
                )
                created["bookings"] += 1
    return created
