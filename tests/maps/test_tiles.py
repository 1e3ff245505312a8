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
    # CSP allows * only as a whole leftmost label.
    assert _tile_origin(settings.MAP_TILE_URL) == ["https://*.tiles.example.gov.cn"]
    assert _tile_origin("http://10.1.2.3:8080/{z}/{x}/{y}.png") == ["http://10.1.2.3:8080"]
    assert _tile_origin("") == []


def test_the_policy_of_a_process_started_with_a_tile_service_allows_its_hosts():
    """Settings are read when a process starts, so the real header is checked in a new one."""
    import os
    import subprocess
    import sys

    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(' '.join(settings.SECURE_CSP['img-src']))"
    )
    environment = {**os.environ, "MAP_TILE_URL": "https://t{s}.tiles.example.gov.cn/vec_w/{z}/{x}/{y}.png"}
    environment.setdefault("DJANGO_SETTINGS_MODULE", "suqu.settings")
    printed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    ).stdout
    assert printed.split()[-1] == "https://*.tiles.example.gov.cn"
