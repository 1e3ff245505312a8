"""The world of the needs and joint-meeting tests (需求对接, 结邻共建): the cast, the categories and
routing rules, two paired agencies (区人民法院 with 金山社区, 区税务局 with 民主村), a public utility, a
social force, and a clerk for each; built once per module in a transaction rolled back at its end
(each test runs in a savepoint of it)."""

from dataclasses import dataclass

from django.db import transaction

from tests.factories import Cast


@dataclass
class Paired:
    cast: Cast
    agency: object  # 区人民法院, paired with 金山社区
    agency_clerk: object
    other_agency: object  # 区税务局, paired with 民主村
    other_agency_clerk: object
    utility: object  # 国网苏家屯供电公司: paired with nobody, takes needs up
    utility_clerk: object
    social: object  # a social force: not one that takes needs up
    social_clerk: object
    other_community_clerk: object  # clerk of 民主村's committee


def build_paired() -> Paired:
    from cases.services import categories_load
    from tests.factories import UnitFactory, UserFactory, make_cast, member, routing_setup
    from units.models import Pairing, Unit

    cast = make_cast()
    categories_load()
    routing_setup(cast)

    def unit(code, name, kind):
        return UnitFactory(code=code, name=name, kind=kind, region=cast.district, parent=cast.leadership)

    agency = unit("A-COURT", "区人民法院", Unit.Kind.AGENCY)
    other_agency = unit("A-TAX", "区税务局", Unit.Kind.AGENCY)
    Pairing.objects.create(agency=agency, community=cast.community)
    Pairing.objects.create(agency=other_agency, community=cast.other_community)
    utility = unit("U-POWER", "国网苏家屯供电公司", Unit.Kind.UTILITY)
    social = unit("SOCIAL-VOL", "苏家屯区志愿者协会", Unit.Kind.SOCIAL)
    return Paired(
        cast=cast,
        agency=agency,
        agency_clerk=member(UserFactory(username="t_court", real_name="冯法院"), agency),
        other_agency=other_agency,
        other_agency_clerk=member(UserFactory(username="t_tax", real_name="陈税务"), other_agency),
        utility=utility,
        utility_clerk=member(UserFactory(username="t_power", real_name="褚供电"), utility),
        social=social,
        social_clerk=member(UserFactory(username="t_social", real_name="卫志愿"), social),
        other_community_clerk=member(UserFactory(username="t_village", real_name="蒋村委"), cast.other_committee),
    )


def module_world(django_db_setup, django_db_blocker):
    """`Paired`, built once for the module (tests that use it also ask for `db`). A module makes
    it its fixture with `pytest.fixture(scope="module", name="world")(module_world)`."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_paired()
        transaction.set_rollback(True)
