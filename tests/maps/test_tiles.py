"""Maps fetch nothing from outside unless a tile service on the intranet is configured."""

import pytest
from django.template import Context, Template

from suqu.settings import _tile_origin

pytestmark = pytest.mark.django_db


def test_without_a_tile_service_a_map_page_names_no_host_and_the_policy_allows_none(client, mapped):
    client.force_login(mapped.gridworker)
    response = client.get("/intake/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '"tiles": ""' in page  # the map draws the boundaries alone
    assert "vendor/leaflet/leaflet.js" in page
    policy = response["Content-Security-Policy"]
    img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert img_src.split()[1:] == ["'self'", "data:", "blob:"]


def test_a_tile_service_is_drawn_beneath_and_allowed_by_the_policy(settings, mapped):
    settings.MAP_TILE_URL = "https://t{s}.tiles.example.gov.cn/vec_w/{z}/{x}/{y}.png"
    html = Template('{% include "maps/_assets.html" %}').render(Context({}))
    assert "t{s}.tiles.example.gov.cn" in html
    assert _tile_origin(settings.MAP_TILE_URL) == ["https://t*.tiles.example.gov.cn"]
    assert _tile_origin("") == []
