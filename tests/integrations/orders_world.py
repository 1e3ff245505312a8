"""The world of the work-order and webhook tests: the cast's district with boundaries and routing
rules, the city's 12345 platform with its category table and keys, built once per module in a
transaction rolled back at its end (each test runs in a savepoint of it)."""

from dataclasses import dataclass

from django.db import transaction
from rest_framework.test import APIClient

from tests.factories import Cast, english

SECRET = "whsec-test-0123456789abcdef"  # the webhook secret shared with the city's platform
ORDERS = "/api/v1/integrations/city12345/orders/"


@dataclass
class City:
    cast: Cast
    system: object  # city12345: the city's 12345 platform, on the hotline channel
    key: str  # its work-order key
    open311_key: str  # its key for Open311 only (no orders scope)
    revoked: str  # its work-order key, revoked
    other_key: str  # another system's work-order key (the provincial platform's)
    foreign: str  # the work-order key of a system of another jurisdiction (和平区)

    def client(self, key=None):
        """An API client with `key` (the system's work-order key by default), reading English."""
        return english(APIClient(headers={"Authorization": f"Bearer {key or self.key}"}))


def order_body(**overrides):
    """A complete work order from the city's platform, for grid A."""
    return {
        "id": "SY2026031000123",
        "channel": "hotline",
        "caller": {"name": "张三", "phone": "13800138000"},
        "text": "金山社区3号楼门口垃圾堆放多日无人清理，气味很大",
        "category": "HJWS-01",
        "grid": "210111001015001",
        "address": "金山社区3号楼",
        "deadline": "2026-03-13T18:00:00+08:00",
        **overrides,
    }


def _build():
    from cases.models import Category, Channel
    from cases.services import categories_load
    from feedback.models import FeedbackSettings
    from grids.boundaries import boundaries_generate
    from integrations.models import ApiKey, CategoryMapping
    from integrations.services import key_issue, key_revoke, system_ensure
    from tests.factories import make_cast, routing_setup

    cast = make_cast()
    categories_load()
    routing_setup(cast)
    FeedbackSettings.load()
    boundaries_generate()
    for place in (cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b, cast.grid_c):
        place.refresh_from_db()
    orders = [ApiKey.Scope.ORDERS]
    system = system_ensure(name="city12345", title="沈阳市12345平台", channel=Channel.HOTLINE)
    for code, name, ours in (("HJWS-01", "环境卫生-垃圾", "0201"), ("WZJS-01", "违章建筑", "0101")):
        CategoryMapping.objects.create(system=system, code=code, name=name, category=Category.objects.get(code=ours))
    province = system_ensure(name="province12345", title="辽宁省12345平台", channel=Channel.HOTLINE)
    foreign = system_ensure(name="heping12345", title="和平区平台", channel=Channel.HOTLINE)
    foreign.jurisdiction_id = "210102"
    foreign.save(update_fields=["jurisdiction_id"])
    revoked = key_issue(system=system, scopes=orders)[1]
    key_revoke(key=revoked)
    return City(
        cast=cast,
        system=system,
        key=key_issue(system=system, scopes=orders)[1],
        open311_key=key_issue(system=system, scopes=[ApiKey.Scope.CREATE, ApiKey.Scope.READ_OWN])[1],
        revoked=revoked,
        other_key=key_issue(system=province, scopes=orders)[1],
        foreign=key_issue(system=foreign, scopes=orders)[1],
    )


def city_world(django_db_blocker):
    """For a module-scoped fixture: `yield from city_world(django_db_blocker)`."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)
