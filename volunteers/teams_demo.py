"""The demo's social forces (`load_demo`'s "volunteer teams" step): the seed's 261 party-member
volunteer teams (党员志愿服务队) and about ten thousand generated volunteers.

- 62 district-level teams (区直), sponsored by the district departments: one each, and a second
  team (…党员志愿服务二队) for the 30 departments that take part in 结邻共建 (sorted first); the
  fire brigade and the traffic police, duty forces under vertical command, have one.
- 12 street teams, one per street, sponsored by the street office.
- 178 community and village teams: every community but the last 8 by code (in 白清姚千街道),
  whose volunteers join their street's team; sponsored by the committee. 葵花社区's team is the
  seed's 向阳先锋志愿服务队 (the unit N-XIANGYANG, already a social force of the demo).
- 9 special squads (特色分队) serving the whole district: the seed names 最美声音、卫爱同行、
  极速帮办 and 爱心食堂 (already social forces of the demo: their units get a Team row); 红色物业、
  邻里调解、银龄互助、应急救援 and 文明实践 are invented (plausible for the district, not from
  the seed).

Volunteers are generated from a fixed seed, each from their own index, so the first N of a larger
demo are the N of a smaller one: a name, a mobile number 13xxxxxxxxx (a bijection of the index,
so never twice), their community, skills, when they are free, and their teams (mostly their
community's). The first volunteer of each team leads it. Their accounts cannot sign in (unusable
passwords); the demo login `volunteer` (the demo password) is a member of 金山社区's team.

Safe to run again: what exists is kept, what is missing is added (by unit code and account name).
"""

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from accounts.models import User
from accounts.services import DemoDataRefused, demo_user_ensure
from grids.models import Region
from routing.services import GIVEN_NAMES, SURNAMES, UnitsNotLoaded
from units.models import Membership, Pairing, Unit
from volunteers.models import Team, TeamMember, Volunteer

Progress = Callable[[str, int, int], None] | None

DISTRICT_CODE = "210111"
SEED = 20  # issue 20
DISTRICT_TEAMS = 62
# The communities without a team of their own: the last ones by code (186 - 178).
COMMUNITIES_WITHOUT_TEAM = 8
TEAM_NAME = "党员志愿服务队"
ORDINALS = "一二三四五六七八九"
BATCH = 2000

# The short names the district uses for its departments (区住房和城乡建设局 → 区住建局).
SHORT_NAMES = {
    "D-AUDIT": "区审计局",
    "D-AGRI": "区农业农村局",
    "D-BUSINESS": "区营商局",
    "D-CIVIL": "区民政局",
    "D-CIVILDEF": "区人防办",
    "D-COMMERCE": "区商务局",
    "D-CULTURE": "区文旅局",
    "D-DATA": "区数据局",
    "D-DEVREFORM": "区发改局",
    "D-ECOENV": "区生态环境分局",
    "D-EDUCATION": "区教育局",
    "D-EMERGENCY": "区应急局",
    "D-FINANCE": "区财政局",
    "D-FIRE": "区消防救援大队",
    "D-HEALTH": "区卫健局",
    "D-HOUSING": "区住建局",
    "D-HOUSINGFUND": "区公积金管理部",
    "D-HRSS": "区人社局",
    "D-INDUSTRY": "区工信局",
    "D-JUSTICE": "区司法局",
    "D-MARKET": "区市场监管局",
    "D-MEDINS": "区医保局",
    "D-NATRES": "区自然资源分局",
    "D-PETITION": "区信访局",
    "D-POLICE": "区公安分局",
    "D-SCITECH": "区科技局",
    "D-STATS": "区统计局",
    "D-TRAFFIC": "区交警大队",
    "D-TRANSPORT": "区交通局",
    "D-URBAN": "区城管执法局",
    "D-VETERANS": "区退役军人事务局",
    "D-WATER": "区水利局",
}
# What a department's volunteers are good at, where its work says so.
DEPARTMENT_SKILLS = {
    "D-CIVIL": ["助老助残", "政策宣传"],
    "D-CULTURE": ["文艺演出", "政策宣传"],
    "D-EDUCATION": ["教育辅导", "心理疏导"],
    "D-EMERGENCY": ["应急救援", "防汛抗灾"],
    "D-FIRE": ["应急救援", "消防宣传"],
    "D-HEALTH": ["医疗保健", "防疫消杀"],
    "D-HOUSING": ["维修服务", "环境整治"],
    "D-HRSS": ["就业帮扶", "政策宣传"],
    "D-JUSTICE": ["法律咨询", "矛盾调解"],
    "D-MARKET": ["食品安全", "政策宣传"],
    "D-MEDINS": ["医保咨询", "政策宣传"],
    "D-POLICE": ["治安巡逻", "交通引导"],
    "D-TRAFFIC": ["交通引导", "文明劝导"],
    "D-URBAN": ["环境整治", "垃圾分类"],
    "D-VETERANS": ["应急救援", "政策宣传"],
    "D-WATER": ["防汛抗灾", "应急救援"],
}
DEFAULT_DEPARTMENT_SKILLS = ["政策宣传", "环境整治"]
STREET_SKILLS = ["环境整治", "政策宣传", "应急救援", "治安巡逻"]
COMMUNITY_SKILLS = ["环境整治", "助老助残", "政策宣传", "邻里互助"]


@dataclass(frozen=True)
class Squad:
    code: str
    name: str
    skills: tuple
    sponsor: str = ""  # a unit code
    invented: bool = False


# The nine special squads: the seed's four (their units exist in the demo: routing/data/units.csv)
# and five invented ones.
SQUADS = (
    Squad("N-VOICE", "最美声音志愿服务分队", ("政策宣传", "文艺演出")),
    Squad("N-WEIAI", "卫爱同行志愿服务分队", ("医疗保健", "健康体检"), sponsor="D-HEALTH"),
    Squad("N-FASTHELP", "极速帮办志愿服务分队", ("代办跑腿", "政策咨询"), sponsor="D-BUSINESS"),
    Squad("N-CANTEEN", "爱心食堂志愿服务分队", ("送餐", "助老助残"), sponsor="N-HUISA"),
    Squad("VT-X-PROPERTY", "红色物业志愿服务分队", ("维修服务", "物业协调"), sponsor="D-HOUSING", invented=True),
    Squad("VT-X-MEDIATION", "邻里调解志愿服务分队", ("矛盾调解", "法律咨询"), sponsor="D-JUSTICE", invented=True),
    Squad("VT-X-ELDERLY", "银龄互助志愿服务分队", ("助老助残", "陪伴聊天"), sponsor="D-CIVIL", invented=True),
    Squad("VT-X-RESCUE", "应急救援志愿服务分队", ("应急救援", "防汛抗灾"), sponsor="D-EMERGENCY", invented=True),
    Squad("VT-X-CIVILITY", "文明实践志愿服务分队", ("文明劝导", "垃圾分类"), sponsor="D-CULTURE", invented=True),
)
# Communities whose team is a social force the demo already has.
COMMUNITY_TEAM_UNITS = {"210111001018": ("N-XIANGYANG", "葵花社区向阳先锋志愿服务队")}

SKILLS = sorted(
    {
        *COMMUNITY_SKILLS,
        *STREET_SKILLS,
        *DEFAULT_DEPARTMENT_SKILLS,
        *(skill for skills in DEPARTMENT_SKILLS.values() for skill in skills),
        *(skill for squad in SQUADS for skill in squad.skills),
        "理发",
        "摄影摄像",
        "信息技术",
        "家政服务",
    }
)
AVAILABILITY = ("工作日白天", "工作日晚上", "周末", "节假日", "周末、节假日", "工作日晚上、周末", "随时")

# The demo login: a volunteer of 金山社区 (解放街道), where the demo's community clerk works too.
DEMO_LOGIN = "volunteer"
DEMO_LOGIN_NAME = "周晓雯"
DEMO_LOGIN_PHONE = "13000000000"  # outside the generated numbers (index → 13 + 1..10⁹-1)
DEMO_COMMUNITY = "210111001015"  # 金山社区

# Generated phones: 13 + a 9-digit number, index → (index × A + B) mod 10⁹, a bijection (A is odd
# and not a multiple of 5) that never gives 0 (the demo login's), for index < 10⁹ - 1.
_PHONE_A, _PHONE_B, _PHONE_SPACE = 376_591_243, 1, 10**9


@dataclass
class TeamPlan:
    code: str
    name: str
    level: str
    home: str  # region code
    area: str
    skills: list
    sponsor: str = ""  # unit code


@dataclass
class VolunteerPlan:
    index: int
    name: str
    phone: str
    home: str  # community code
    skills: list
    availability: str
    teams: list = field(default_factory=list)  # team unit codes, the first their main team

    @property
    def username(self):
        return f"v{self.phone}"


def _is_village(community_code):
    # National rule: a village-level code of 200 and up is a villagers' committee.
    return int(community_code[9:12]) >= 200


def _short(department_code, name):
    return SHORT_NAMES.get(department_code, name)


def teams_plan(*, district: str, departments: list, streets: list, communities: list) -> list[TeamPlan]:
    """The 261 teams of the demo over the given places and departments (the real district: 62 /
    12 / 178 / 9). `departments`: (code, name, paired) with the paired ones first in the order
    they get second teams; `streets`: (code, name, office code); `communities`: (code, name,
    street code, committee code), sorted by code."""
    plans = []
    for index in range(DISTRICT_TEAMS if departments else 0):
        code, name, _paired = departments[index % len(departments)]
        round_ = index // len(departments)
        suffix = TEAM_NAME if round_ == 0 else f"{TEAM_NAME[:-1]}{ORDINALS[round_]}队"
        plans.append(
            TeamPlan(
                code=f"VT-{code}" if round_ == 0 else f"VT-{code}-{round_ + 1}",
                name=f"{_short(code, name)}{suffix}",
                level=Team.Level.DISTRICT,
                home=district,
                area=district,
                skills=list(DEPARTMENT_SKILLS.get(code, DEFAULT_DEPARTMENT_SKILLS)),
                sponsor=code,
            )
        )
    for code, name, office in streets:
        plans.append(
            TeamPlan(
                code=f"VT-{code}",
                name=f"{name}{TEAM_NAME}",
                level=Team.Level.STREET,
                home=code,
                area=code,
                skills=list(STREET_SKILLS),
                sponsor=office or "",
            )
        )
    with_team = communities[: max(0, len(communities) - COMMUNITIES_WITHOUT_TEAM)]
    # Two places may share a name (十里河社区 the residents' and the village): the village's team says so.
    repeated = {name for name, count in Counter(name for _c, name, *_r in communities).items() if count > 1}
    for code, name, _street, committee in with_team:
        place = f"{name}（村）" if name in repeated and _is_village(code) else name
        team_code, team_name = COMMUNITY_TEAM_UNITS.get(code, (f"VT-{code}", f"{place}{TEAM_NAME}"))
        plans.append(
            TeamPlan(
                code=team_code,
                name=team_name,
                level=Team.Level.COMMUNITY,
                home=code,
                area=code,
                skills=list(COMMUNITY_SKILLS),
                sponsor=committee or "",
            )
        )
    for squad in SQUADS:
        plans.append(
            TeamPlan(
                code=squad.code,
                name=squad.name,
                level=Team.Level.SPECIAL,
                home=district,
                area=district,
                skills=list(squad.skills),
                sponsor=squad.sponsor,
            )
        )
    return plans


def _weight(community_code):
    # Residents' committees are urban and dense: three times a village's volunteers.
    return 1 if _is_village(community_code) else 3


def volunteers_plan(*, teams: list[TeamPlan], communities: list, size: int, seed: int = SEED) -> list[VolunteerPlan]:
    """`size` volunteers, each generated from its own index (so a smaller demo is the start of a
    larger one). The first one of each team is in that team (and will lead it); the others are
    in their community's team (their street's where the community has none) or, one in seven, in
    a department's; one in twelve also in their street's team, one in twenty in a special squad."""
    community_codes = [code for code, *_rest in communities]
    if not community_codes:
        return []
    weights = [_weight(code) for code in community_codes]
    by_level = defaultdict(list)
    for team in teams:
        by_level[team.level].append(team)
    own_team = {team.home: team.code for team in by_level[Team.Level.COMMUNITY]}
    street_team = {team.home: team.code for team in by_level[Team.Level.STREET]}
    departments = [team.code for team in by_level[Team.Level.DISTRICT]]
    squads = [team.code for team in by_level[Team.Level.SPECIAL]]
    in_street = defaultdict(list)
    for code in community_codes:
        in_street[code[:9]].append(code)

    def community_team(community):
        return own_team.get(community) or street_team.get(community[:9])

    plans = []
    for index in range(size):
        rng = random.Random(seed * 1_000_003 + index)
        if index < len(teams):
            # A leader: lives where their team is.
            team = teams[index]
            if team.level == Team.Level.COMMUNITY:
                home = team.home
            elif team.level == Team.Level.STREET and in_street[team.home]:
                home = rng.choice(in_street[team.home])
            else:
                home = rng.choices(community_codes, weights)[0]
            memberships = [team.code]
        else:
            home = rng.choices(community_codes, weights)[0]
            main = rng.choice(departments) if departments and rng.random() < 1 / 7 else community_team(home)
            memberships = [main] if main else []
        if rng.random() < 1 / 12 and street_team.get(home[:9]):
            memberships.append(street_team[home[:9]])
        if squads and rng.random() < 1 / 20:
            memberships.append(rng.choice(squads))
        plans.append(
            VolunteerPlan(
                index=index,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                phone=f"13{(index * _PHONE_A + _PHONE_B) % _PHONE_SPACE:09d}",
                home=home,
                skills=rng.sample(SKILLS, rng.choice((1, 1, 2, 2, 3))),
                availability=rng.choice(AVAILABILITY),
                teams=list(dict.fromkeys(code for code in memberships if code)),
            )
        )
    return plans


# --- Loading --------------------------------------------------------------------------------------


def _say(progress, stage, done, total):
    if progress is not None:
        progress(stage, done, total)


def _take_turns():
    # Two loads at once would both find a team missing and both insert it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('volunteers.demo_teams_load'))")


def _places():
    district = Region.objects.filter(code=DISTRICT_CODE, level=Region.Level.DISTRICT).first()
    if district is None:
        raise UnitsNotLoaded("the district's places and units must be loaded first (load_reference)")
    offices = dict(
        Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE, region__isnull=False).values_list("region__code", "code")
    )
    committees = dict(
        Unit.objects.filter(kind=Unit.Kind.COMMITTEE, region__isnull=False).values_list("region__code", "code")
    )
    streets = [
        (code, name, offices.get(code))
        for code, name in Region.objects.filter(level=Region.Level.STREET, code__startswith=DISTRICT_CODE)
        .order_by("code")
        .values_list("code", "name")
    ]
    communities = [
        (code, name, code[:9], committees.get(code))
        for code, name in Region.objects.filter(level=Region.Level.COMMUNITY, code__startswith=DISTRICT_CODE)
        .order_by("code")
        .values_list("code", "name")
    ]
    paired = Exists(Pairing.objects.filter(agency=OuterRef("pk")))
    departments = [
        (code, name, is_paired)
        for code, name, is_paired in Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, is_active=True)
        .annotate(is_paired=paired)
        .order_by("-is_paired", "code")
        .values_list("code", "name", "is_paired")
    ]
    if not departments or not communities:
        raise UnitsNotLoaded(
            "the district's departments, streets and communities must be loaded first (load_reference)"
        )
    return district, departments, streets, communities


def _teams_ensure(plans: list[TeamPlan]) -> tuple[dict[str, Team], int]:
    """Teams by unit code; the missing ones created (their unit too, unless a social unit of that
    code exists: it gets its Team row). A street or community that already has a team of its level
    keeps it, under whatever code."""
    regions = dict(
        Region.objects.filter(code__in={p.home for p in plans} | {p.area for p in plans}).values_list("code", "pk")
    )
    units = {
        unit.code: unit
        for unit in Unit.objects.filter(code__in=[p.code for p in plans] + [p.sponsor for p in plans if p.sponsor])
    }
    existing = {team.unit.code: team for team in Team.objects.select_related("unit", "home")}
    homes_with_team = {
        (team.level, team.home.code): team for team in existing.values() if team.level != Team.Level.DISTRICT
    }
    new_units, new_teams = [], []
    for plan in plans:
        if plan.code in existing or (
            plan.level in (Team.Level.STREET, Team.Level.COMMUNITY) and (plan.level, plan.home) in homes_with_team
        ):
            continue
        unit = units.get(plan.code)
        if unit is not None and unit.kind != Unit.Kind.SOCIAL:
            continue  # an administrator gave the code to another kind of unit: leave it alone
        if unit is None:
            unit = Unit(code=plan.code, name=plan.name, kind=Unit.Kind.SOCIAL, region_id=regions[plan.home])
            new_units.append(unit)
        sponsor = units.get(plan.sponsor)
        new_teams.append(
            Team(
                unit=unit,
                level=plan.level,
                home_id=regions[plan.home],
                area_id=regions[plan.area],
                skills=plan.skills,
                sponsor=sponsor,
            )
        )
    Unit.objects.bulk_create(new_units)
    for team in new_teams:
        team.unit_id = team.unit.pk  # the units created just above have their ids now
    Team.objects.bulk_create(new_teams)
    teams = {team.unit.code: team for team in Team.objects.select_related("unit", "home")}
    # A plan whose street or community kept another team: its volunteers join that one.
    for plan in plans:
        if plan.code not in teams and (plan.level, plan.home) in homes_with_team:
            teams[plan.code] = homes_with_team[(plan.level, plan.home)]
    return teams, len(new_teams)


def _volunteers_ensure(plans: list[VolunteerPlan], teams: dict[str, Team], progress) -> tuple[int, int]:
    """The planned volunteers missing (by account name) created with their accounts and their
    teams, in batches; answers (volunteers, memberships) created."""
    taken = set(User.objects.filter(username__startswith="v13").values_list("username", flat=True))
    missing = [plan for plan in plans if plan.username not in taken]
    homes = dict(Region.objects.filter(level=Region.Level.COMMUNITY).values_list("code", "pk"))
    created = members = 0
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        users = User.objects.bulk_create(
            [
                User(username=plan.username, real_name=plan.name, phone=plan.phone, password=make_password(None))
                for plan in batch
            ]
        )
        volunteers = Volunteer.objects.bulk_create(
            [
                Volunteer(
                    user=user,
                    name=plan.name,
                    phone=plan.phone,
                    home_id=homes.get(plan.home),
                    skills=plan.skills,
                    availability=plan.availability,
                )
                for user, plan in zip(users, batch, strict=True)
            ]
        )
        rows = [
            TeamMember(team=teams[code], volunteer=volunteer)
            for volunteer, plan in zip(volunteers, batch, strict=True)
            for code in plan.teams
            if code in teams
        ]
        TeamMember.objects.bulk_create(rows, ignore_conflicts=True)
        created, members = created + len(batch), members + len(rows)
        _say(progress, "volunteers", start + len(batch), len(missing))
    return created, members


def _leaders_ensure(team_plans: list[TeamPlan], plans: list[VolunteerPlan], teams: dict[str, Team]) -> int:
    """Each team without a leader led by its planned leader (the volunteer of its index), who also
    becomes the head of the team's unit."""
    leaderless = {code: team for code, team in teams.items() if team.leader_id is None}
    wanted = {team_plans[i].code: plans[i].username for i in range(min(len(team_plans), len(plans)))}
    wanted = {code: username for code, username in wanted.items() if code in leaderless}
    volunteers = {
        username: (pk, user_id)
        for username, pk, user_id in Volunteer.objects.filter(user__username__in=wanted.values()).values_list(
            "user__username", "pk", "user_id"
        )
    }
    led, heads = [], []
    for code, username in wanted.items():
        if username not in volunteers:
            continue
        team = leaderless[code]
        team.leader_id, user_id = volunteers[username]
        led.append(team)
        heads.append(Membership(user_id=user_id, unit_id=team.unit_id, role=Membership.Role.HEAD))
    # One UPDATE from two arrays (bulk_update's CASE of 261 branches costs a tenth of a second).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE volunteers_team SET leader_id = led.leader FROM unnest(%s::bigint[], %s::bigint[]) "
            "AS led(team, leader) WHERE volunteers_team.id = led.team AND volunteers_team.leader_id IS NULL",
            [[team.pk for team in led], [team.leader_id for team in led]],
        )
    Membership.objects.bulk_create(heads, ignore_conflicts=True)
    return len(led)


def _demo_login_ensure(teams: dict[str, Team]) -> int:
    """The `volunteer` login: a member of 金山社区's team. Answers 1 if the volunteer was created."""
    team = next((t for t in teams.values() if t.level == Team.Level.COMMUNITY and t.home.code == DEMO_COMMUNITY), None)
    user = demo_user_ensure(username=DEMO_LOGIN, real_name=DEMO_LOGIN_NAME)
    home = Region.objects.filter(code=DEMO_COMMUNITY).first()
    volunteer, created = Volunteer.objects.get_or_create(
        user=user,
        defaults={
            "name": DEMO_LOGIN_NAME,
            "phone": DEMO_LOGIN_PHONE,
            "home": home,
            "skills": ["助老助残", "环境整治"],
            "availability": "周末",
        },
    )
    if team is not None:
        TeamMember.objects.get_or_create(team=team, volunteer=volunteer)
    return int(created)


@transaction.atomic
def demo_teams_load(*, progress: Progress = None, size: int | None = None) -> dict:
    """The demo's 261 teams, `size` volunteers (settings.DEMO_VOLUNTEERS, 10,000 by default) and
    the `volunteer` login. DEBUG only (the login has the demo password). Keeps what exists."""
    if not settings.DEBUG:
        raise DemoDataRefused("demo accounts are only created when DEBUG is on")
    _take_turns()
    size = settings.DEMO_VOLUNTEERS if size is None else size
    district, departments, streets, communities = _places()
    team_plans = teams_plan(district=district.code, departments=departments, streets=streets, communities=communities)
    teams, teams_created = _teams_ensure(team_plans)
    _say(progress, "teams", teams_created, teams_created)
    plans = volunteers_plan(teams=team_plans, communities=communities, size=size)
    created, members = _volunteers_ensure(plans, teams, progress)
    leaders = _leaders_ensure(team_plans, plans, teams)
    login = _demo_login_ensure(teams)
    return {"teams": teams_created, "volunteers": created + login, "memberships": members, "leaders": leaders}
