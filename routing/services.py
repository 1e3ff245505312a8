"""Writes about handling units, memberships and pairings.

The district's units come from `routing/data/units.csv` (code, name, kind, parent, paired):
the centre, the leadership, 32 district departments and 10 public utilities (parent
LEADERSHIP), 46 paired agencies (organs, mass organisations, banks, state enterprises, schools
and hospitals that handle no cases themselves) and 10 social forces (the charities and volunteer
teams of the source article and the district's volunteer association). `paired` marks the 86
organisations that take part in 结邻共建: 30 departments (all but the fire brigade and the
traffic police, duty forces under vertical command that pair through the emergency bureau and the
police branch), the 10 utilities and the 46 agencies. Every district-level unit serves the whole
district (region 210111); the territorial units come from the regions already loaded.
"""

import csv
import zlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from accounts.models import User
from accounts.services import DemoDataRefused, demo_user_ensure
from cases.models import Category
from deadlines.models import SlaPolicy
from grids.models import GridPosting, Region
from routing.models import RoutingRule
from units.models import Membership, Pairing, Unit

DISTRICT_CODE = "210111"
UNITS_CSV = Path(__file__).resolve().parent / "data" / "units.csv"

# progress(stage, done, total), as in grids.services: called once at the end of each stage.
Progress = Callable[[str, int, int], None] | None


class RegionsNotLoaded(Exception):
    """The units hang off the district's streets and communities, which must be loaded first."""


class UnitsNotLoaded(Exception):
    """The demo people are posted to units that must be loaded first."""


def _say(progress: Progress, stage: str, count: int) -> None:
    if progress is not None:
        progress(stage, count, count)


def _take_turns(name: str) -> None:
    # Two loads at once would both see a row missing and both insert it; the second would end in
    # an IntegrityError. A transaction-scoped advisory lock makes them take turns.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def _unit_rows() -> list[dict]:
    with UNITS_CSV.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def paired_agency_codes() -> list[str]:
    """The codes of the organisations that take part in 结邻共建, sorted (the pairing order)."""
    return sorted(row["code"] for row in _unit_rows() if row["paired"] == "1")


def street_office_name(street: Region) -> str:
    return f"{street.name}办事处"


def committee_name(community: Region) -> str:
    """金山社区 → 金山社区居委会; 民主村 → 民主村村委会; 高楼子社区村民委员会 → 高楼子社区村委会.

    Villages in the statistics bureau's table carry their committee's full name; the short form
    used in daily work drops it and says 村委会 or 居委会 after the place.
    """
    name, kind = community.name, community.community_kind
    if name.endswith("村民委员会"):
        name, kind = name.removesuffix("村民委员会"), kind or Region.CommunityKind.VILLAGERS
    elif name.endswith("居民委员会"):
        name, kind = name.removesuffix("居民委员会"), kind or Region.CommunityKind.RESIDENTS
    if not kind:
        kind = Region.CommunityKind.VILLAGERS if name.endswith("村") else Region.CommunityKind.RESIDENTS
    villagers = kind == Region.CommunityKind.VILLAGERS
    return f"{name}{'村委会' if villagers else '居委会'}"


@transaction.atomic
def units_load_sujiatun(*, progress: Progress = None) -> dict:
    """Create the district's units, one office per street, one committee per community, and a
    结邻共建 pairing for every community that has none.

    Keeps what exists: a unit whose code is taken, or a region that already has its street office
    or committee, is left alone (an admin may have renamed or re-coded it), and a community that
    already has a pairing keeps it. The pairing of community i (communities sorted by code) is
    paired agency i mod 86 (agencies sorted by code), so a fresh load always pairs the same way and
    every agency gets 2 or 3 communities.
    """
    _take_turns("routing.units_load_sujiatun")
    district = Region.objects.filter(code=DISTRICT_CODE, level=Region.Level.DISTRICT).first()
    streets = list(Region.objects.filter(level=Region.Level.STREET, code__startswith=DISTRICT_CODE).order_by("code"))
    communities = list(
        Region.objects.filter(level=Region.Level.COMMUNITY, code__startswith=DISTRICT_CODE).order_by("code")
    )
    if district is None or not streets or not communities:
        raise RegionsNotLoaded(
            f"the district {DISTRICT_CODE} and its streets and communities must be loaded first "
            "(grids.services.regions_load_sujiatun)"
        )

    rows = _unit_rows()
    taken = set(Unit.objects.values_list("code", flat=True))
    # Parents first: a row may name a parent created in the same run.
    created_district = 0
    for with_parent in (False, True):
        batch = [row for row in rows if bool(row["parent"]) == with_parent and row["code"] not in taken]
        parents = Unit.objects.in_bulk({row["parent"] for row in batch if row["parent"]}, field_name="code")
        Unit.objects.bulk_create(
            [
                Unit(
                    code=row["code"],
                    name=row["name"],
                    kind=row["kind"],
                    region=district,
                    parent=parents[row["parent"]] if row["parent"] else None,
                )
                for row in batch
            ]
        )
        created_district += len(batch)
        taken.update(row["code"] for row in batch)
    _say(progress, "district units", created_district)

    leadership = Unit.objects.get(code="LEADERSHIP")
    served = set(Unit.objects.filter(kind__in=Unit.TERRITORIAL).values_list("region_id", flat=True))
    offices = [
        Unit(
            code=f"S{street.code}",
            name=street_office_name(street),
            kind=Unit.Kind.STREET_OFFICE,
            region=street,
            parent=leadership,
        )
        for street in streets
        if street.pk not in served and f"S{street.code}" not in taken
    ]
    Unit.objects.bulk_create(offices)
    _say(progress, "street offices", len(offices))

    office_by_street = {
        unit.region_id: unit
        for unit in Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE, region__in=streets).order_by("code")
    }
    committees = [
        Unit(
            code=f"C{community.code}",
            name=committee_name(community),
            kind=Unit.Kind.COMMITTEE,
            region=community,
            parent=office_by_street.get(community.parent_id),
        )
        for community in communities
        if community.pk not in served and f"C{community.code}" not in taken
    ]
    Unit.objects.bulk_create(committees)
    _say(progress, "committees", len(committees))

    agencies = list(Unit.objects.filter(code__in=paired_agency_codes()).order_by("code"))
    already_paired = set(Pairing.objects.filter(community__in=communities).values_list("community_id", flat=True))
    pairings = [
        Pairing(agency=agencies[index % len(agencies)], community=community)
        for index, community in enumerate(communities)
        if community.pk not in already_paired
    ]
    Pairing.objects.bulk_create(pairings)
    _say(progress, "pairings", len(pairings))

    return {
        "district_units": created_district,
        "street_offices": len(offices),
        "committees": len(committees),
        "pairings": len(pairings),
    }


# The named demo accounts: username, real name, and where they work. Territorial units are found by
# their region (one office per region), district units by code.
DEMO_PEOPLE = [
    ("dispatcher", "刘晓燕", {"code": "CENTRE"}),
    ("official", "陈建国", {"code": "LEADERSHIP"}),
    ("gridworker", "王秀英", {"grid": "210111001015001"}),  # 金山社区第1网格
    ("community", "赵丽华", {"kind": Unit.Kind.COMMITTEE, "region__code": "210111001015"}),  # 金山社区
    ("street", "孙志强", {"kind": Unit.Kind.STREET_OFFICE, "region__code": "210111001"}),  # 解放街道
    ("dept", "李明", {"code": "D-HOUSING"}),  # 区住房和城乡建设局: housing and property complaints
]

# Common surnames and given names, for the generated workers and heads.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# fmt: off
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "玉兰", "文", "华", "红", "玲",
    "斌", "宇", "浩", "凯", "鹏", "海燕", "建国", "志强", "秀英", "淑珍", "晓东", "丽华", "春梅", "国庆",
    "红梅", "建军", "玉珍", "凤英", "秀云", "志刚", "桂兰", "德明", "振华", "海波", "亚楠", "晓光", "丹", "雪",
    "婷", "颖", "欣", "佳", "鑫", "宁", "博", "亮", "立新", "永刚", "子涵", "雨轩", "思远", "俊杰",
    "欣怡", "梓涵", "浩然", "一鸣", "晨曦", "嘉怡", "文博", "天宇", "佳琪", "明轩", "玉梅", "金凤",
)
# fmt: on


def person_name(key: str) -> str:
    """A common Chinese name picked deterministically from a key (a grid or unit code)."""
    digest = zlib.crc32(key.encode())
    return SURNAMES[digest % len(SURNAMES)] + GIVEN_NAMES[(digest // len(SURNAMES)) % len(GIVEN_NAMES)]


def _users_ensure(names: dict[str, str]) -> tuple[dict[str, int], int]:
    """User ids by username, creating the missing ones with an unusable password (no hashing)."""
    ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    new = [
        User(username=username, real_name=real_name, password=make_password(None))
        for username, real_name in names.items()
        if username not in ids
    ]
    User.objects.bulk_create(new, batch_size=1000)
    ids.update((user.username, user.pk) for user in new)
    return ids, len(new)


@transaction.atomic
def demo_people_load(*, progress: Progress = None) -> dict:
    """Create the named demo accounts at their posts, a worker for every grid that has none, and a
    head for every active unit that has none.

    DEBUG only: the named accounts share a known password. The generated workers and heads cannot
    sign in (unusable passwords). Keeps what exists, so a second run creates nothing.
    """
    if not settings.DEBUG:
        raise DemoDataRefused("demo accounts are only created when DEBUG is on")
    _take_turns("routing.demo_people_load")

    posts = []
    for username, real_name, where in DEMO_PEOPLE:
        if "grid" in where:
            post = Region.objects.filter(code=where["grid"], level=Region.Level.GRID).first()
        else:
            post = Unit.objects.filter(**where).first()
        if post is None:
            raise UnitsNotLoaded(
                f"no post for the demo account {username!r} ({where}): load the regions and the units first"
            )
        posts.append((username, real_name, post))

    existing = set(
        User.objects.filter(username__in=[username for username, *_ in DEMO_PEOPLE]).values_list("username", flat=True)
    )
    accounts = postings = memberships = 0
    for username, real_name, post in posts:
        user = demo_user_ensure(username=username, real_name=real_name)
        accounts += username not in existing
        if isinstance(post, Region):
            postings += GridPosting.objects.get_or_create(user=user, grid=post)[1]
        else:
            memberships += Membership.objects.get_or_create(user=user, unit=post)[1]
    _say(progress, "named accounts", accounts)

    unstaffed = list(
        Region.objects.filter(level=Region.Level.GRID)
        .filter(~Exists(GridPosting.objects.filter(grid=OuterRef("pk"))))
        .order_by("code")
        .values_list("pk", "code")
    )
    worker_ids, workers = _users_ensure({f"gw{code}": person_name(code) for _pk, code in unstaffed})
    GridPosting.objects.bulk_create(
        [GridPosting(user_id=worker_ids[f"gw{code}"], grid_id=pk) for pk, code in unstaffed], batch_size=1000
    )
    postings += len(unstaffed)
    _say(progress, "grid workers", workers)

    headless = list(
        Unit.objects.filter(is_active=True)
        .filter(~Exists(Membership.objects.filter(unit=OuterRef("pk"), role=Membership.Role.HEAD)))
        .order_by("code")
        .values_list("pk", "code")
    )
    head_ids, heads = _users_ensure({f"head_{code.lower()}": person_name(code) for _pk, code in headless})
    # A generated head who is already a clerk of the unit (an admin's change) stays a clerk.
    taken = set(
        Membership.objects.filter(
            unit_id__in=[pk for pk, _code in headless], user_id__in=head_ids.values()
        ).values_list("user_id", "unit_id")
    )
    new_heads = [
        Membership(user_id=head_ids[f"head_{code.lower()}"], unit_id=pk, role=Membership.Role.HEAD)
        for pk, code in headless
        if (head_ids[f"head_{code.lower()}"], pk) not in taken
    ]
    Membership.objects.bulk_create(new_heads)
    memberships += len(new_heads)
    _say(progress, "unit heads", heads)

    return {
        "accounts": accounts,
        "grid_workers": workers,
        "heads": heads,
        "grid_postings": postings,
        "memberships": memberships,
    }


# --- Routing rules and SLA policies -------------------------------------------------------------

RULES_CSV = Path(__file__).resolve().parent / "data" / "routing_rules.csv"
SLA_POLICIES_CSV = Path(__file__).resolve().parent / "data" / "sla_policies.csv"


class CategoriesNotLoaded(Exception):
    """Rules and SLA policies name categories that must be loaded first."""


def _csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def _categories_by_code(codes: set[str], what: str) -> dict:
    found = Category.objects.in_bulk(codes, field_name="code")
    missing = sorted(codes - set(found))
    if missing:
        raise CategoriesNotLoaded(
            f"{what} name categories that do not exist: {', '.join(missing)} "
            "(load them first with cases.services.categories_load)"
        )
    return found


@transaction.atomic
def rules_load_sujiatun(*, progress: Progress = None) -> dict:
    """Create the district's routing rules from `routing/data/routing_rules.csv` (category_code,
    region_code, level, unit_code, note): one district-wide rule per category kind, class rules
    where one unit owns the whole class, and one local exception (环境卫生 in 沈水街道).

    Keeps what exists: a rule for the same category and region (the one rule the database allows)
    is left as it is, so an admin's change or deactivation survives a second run. Refuses, writing
    nothing, when a category, region or unit the file names is missing.
    """
    _take_turns("routing.rules_load_sujiatun")
    rows = _csv_rows(RULES_CSV)
    categories = _categories_by_code({row["category_code"] for row in rows}, "routing rules")
    region_codes = {row["region_code"] for row in rows if row["region_code"]}
    regions = Region.objects.in_bulk(region_codes, field_name="code")
    if missing := sorted(region_codes - set(regions)):
        raise RegionsNotLoaded(
            f"routing rules name places that do not exist: {', '.join(missing)} "
            "(load them first with grids.services.regions_load_sujiatun)"
        )
    unit_codes = {row["unit_code"] for row in rows if row["unit_code"]}
    units = Unit.objects.in_bulk(unit_codes, field_name="code")
    if missing := sorted(unit_codes - set(units)):
        raise UnitsNotLoaded(
            f"routing rules name units that do not exist: {', '.join(missing)} "
            "(load them first with routing.services.units_load_sujiatun)"
        )

    taken = set(RoutingRule.objects.values_list("category_id", "region_id"))
    new = []
    for row in rows:
        category = categories[row["category_code"]]
        region = regions[row["region_code"]] if row["region_code"] else None
        if (category.pk, region.pk if region else None) in taken:
            continue
        new.append(
            RoutingRule(
                category=category,
                region=region,
                level=row["level"],
                unit=units[row["unit_code"]] if row["unit_code"] else None,
                note=row["note"],
            )
        )
    RoutingRule.objects.bulk_create(new)
    _say(progress, "routing rules", len(new))
    return {"rules": len(new)}


@transaction.atomic
def sla_policies_load(*, progress: Progress = None) -> dict:
    """Create the SLA policies of `routing/data/sla_policies.csv`: the default (no category, any
    priority), the emergency default, 24 calendar hours for class 03 (water, power, gas, heating)
    and 15 working days for the complex kinds.

    Keeps what exists: a policy for the same category and priority is left as it is, so limits an
    admin has changed survive a second run. Refuses, writing nothing, when a category is missing.
    """
    _take_turns("routing.sla_policies_load")
    rows = _csv_rows(SLA_POLICIES_CSV)
    categories = _categories_by_code({row["category_code"] for row in rows if row["category_code"]}, "SLA policies")
    taken = set(SlaPolicy.objects.values_list("category_id", "priority"))
    new = []
    for row in rows:
        category = categories[row["category_code"]] if row["category_code"] else None
        if (category.pk if category else None, row["priority"]) in taken:
            continue
        limits = {
            f"{kind}_{part}": Decimal(row[f"{kind}_value"]) if part == "value" else row[f"{kind}_unit"]
            for kind in ("sign", "contact", "resolve", "callback", "return_window")
            for part in ("value", "unit")
        }
        new.append(
            SlaPolicy(
                category=category,
                priority=row["priority"],
                extension_max_days=int(row["extension_max_days"]),
                **limits,
            )
        )
    SlaPolicy.objects.bulk_create(new)
    _say(progress, "SLA policies", len(new))
    return {"sla_policies": len(new)}
