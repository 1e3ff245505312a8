"""The demo's 议事会 (mediation/councils_demo.py): the seed's 88 councils on the real district, the
`council` login on 金山社区's, its meeting of last week; a second run adds nothing."""

import pytest
from django.test import override_settings

from mediation.models import AgendaItem, Council, CouncilMember


@pytest.mark.django_db
def test_the_demo_has_the_seeds_88_councils_and_the_council_logins_meeting():
    from grids.services import regions_load_sujiatun
    from mediation.councils_demo import demo_councils_load
    from routing.services import units_load_sujiatun

    with override_settings(DEBUG=True):
        regions_load_sujiatun()
        units_load_sujiatun()
        assert demo_councils_load() == {"councils": 88, "meetings": 1}
        assert demo_councils_load() == {"councils": 88, "meetings": 0}
    assert Council.objects.filter(kind=Council.Kind.HEARING).count() == 12
    assert CouncilMember.objects.count() == 88 * 7
    seat = CouncilMember.objects.get(user__username="council")
    assert seat.council.region.name == "金山社区"
    decided = AgendaItem.objects.get(council=seat.council, decided=True)
    assert "停车" in decided.title and decided.meeting.published
    assert AgendaItem.objects.get(council=seat.council, decided=False).title == "3号楼加装电梯"
