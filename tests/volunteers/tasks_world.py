"""The world of the tasks' tests (任务发布): the cast with routing rules, two more communities of
解放街道 (for a campaign), volunteer teams of 金山社区, of 解放街道, of 民主村 and a special squad,
a paired agency with a team it sponsors, and a volunteer in each; built once per module in a
transaction rolled back at its end (each test runs in a savepoint of it)."""

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from tests.factories import Cast

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it.
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
# The task most tests publish: Tuesday 14:00–17:00, sign up by 13:00.
STARTS = TUESDAY + timedelta(hours=5)
ENDS = STARTS + timedelta(hours=3)


@dataclass
class Tasks:
    cast: Cast
    community2: object  # 金山社区's neighbours under 解放街道, for a campaign
    community3: object
    team: object  # 金山社区's team (area: the community)
    street_team: object  # 解放街道's team (area: the street)
    village_team: object  # 民主村's team
    squad: object  # a special squad: the whole district
    agency: object  # 区人民法院, paired with 金山社区
    agency_team: object  # the court's own volunteers (sponsored by it)
    alice: object  # a user, volunteer of 金山社区's team
    bob: object  # a user, volunteer of 金山社区's team
    carol: object  # a user, volunteer of 民主村's team
    dan: object  # a user, volunteer of the special squad
    erin: object  # a user, volunteer of the court's team


def team(code, name, level, home, area, *, sponsor=None):
    from tests.factories import UnitFactory
    from units.models import Unit
    from volunteers.models import Team

    unit = UnitFactory(code=code, name=name, kind=Unit.Kind.SOCIAL, region=home)
    return Team.objects.create(unit=unit, level=level, home=home, area=area, sponsor=sponsor)


def volunteer(username, name, *teams):
    from tests.factories import UserFactory
    from volunteers.models import TeamMember, Volunteer

    user = UserFactory(username=username, real_name=name)
    person = Volunteer.objects.create(user=user, name=name, phone="13900000000")
    for each in teams:
        TeamMember.objects.create(team=each, volunteer=person)
    return user


def build_tasks() -> Tasks:
    from cases.services import categories_load
    from tests.factories import UnitFactory, make_cast, region, routing_setup
    from units.models import Pairing, Unit
    from volunteers.models import Team

    cast = make_cast()
    categories_load()
    routing_setup(cast)
    community2 = region("210111001016", "金水社区", cast.street)
    community3 = region("210111001017", "金河社区", cast.street)
    agency = UnitFactory(
        code="A-COURT", name="区人民法院", kind=Unit.Kind.AGENCY, region=cast.district, parent=cast.leadership
    )
    Pairing.objects.create(agency=agency, community=cast.community)
    L = Team.Level
    teams = {
        "team": team("V-C210111001015", "金山社区志愿服务队", L.COMMUNITY, cast.community, cast.community),
        "street_team": team("V-S210111001", "解放街道志愿服务队", L.STREET, cast.street, cast.street),
        "village_team": team(
            "V-C210111003201", "民主村志愿服务队", L.COMMUNITY, cast.other_community, cast.other_community
        ),
        "squad": team("V-SQ-HELP", "极速帮办志愿分队", L.SPECIAL, cast.district, cast.district),
        "agency_team": team(
            "V-A-COURT", "区人民法院志愿服务队", L.DISTRICT, cast.district, cast.community, sponsor=agency
        ),
    }
    return Tasks(
        cast=cast,
        community2=community2,
        community3=community3,
        agency=agency,
        alice=volunteer("t_alice", "马志愿", teams["team"]),
        bob=volunteer("t_bob", "牛志愿", teams["team"]),
        carol=volunteer("t_carol", "羊志愿", teams["village_team"]),
        dan=volunteer("t_dan", "鹿志愿", teams["squad"]),
        erin=volunteer("t_erin", "鹤志愿", teams["agency_team"]),
        **teams,
    )


def module_world(django_db_setup, django_db_blocker):
    """`Tasks`, built once for the module (tests that use it also ask for `db`). A module makes it
    its fixture with `pytest.fixture(scope="module", name="world")(module_world)`."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_tasks()
        transaction.set_rollback(True)


def publish(world, **fields):
    """A task of 金山社区's committee in the community, Tuesday 14:00–17:00, two people wanted."""
    from volunteers.tasks import task_publish

    values = {
        "actor": world.cast.community_clerk,
        "title": "清理12号楼楼道杂物",
        "description": "楼道堆放杂物堵塞消防通道，需要人手搬运",
        "region": world.cast.community,
        "address": "金山社区12号楼",
        "starts": STARTS,
        "ends": ENDS,
        "skills": ["环境整治"],
        "wanted": 2,
        **fields,
    }
    return task_publish(**values)


def photo(name="work.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def not_a_photo(name="work.jpg"):
    return SimpleUploadedFile(name, b"%PDF-1.4 not an image", content_type="image/jpeg")
