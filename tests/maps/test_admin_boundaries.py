"""The admin's page for importing real boundaries: a report of what was imported, or of every
place refused and why, nothing written."""

import json

import pytest
import shapely
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from shapely.geometry import mapping

from grids import geometry
from grids.models import Region

pytestmark = pytest.mark.django_db
URL = reverse("admin:grids_region_import_boundaries")


@pytest.fixture
def english_admin(admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return admin_client


def streets(west_edge):
    outline = geometry.district_outline()
    minx, miny, maxx, maxy = outline.bounds
    west = outline.intersection(shapely.box(minx - 1, miny - 1, west_edge, maxy + 1))
    east = outline.intersection(shapely.box(123.45, miny - 1, maxx + 1, maxy + 1))
    features = [
        {"type": "Feature", "properties": {"code": code}, "geometry": mapping(geometry.polygonal(shape))}
        for code, shape in (("210111001", west), ("210111003", east))
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def post(client, content, **fields):
    upload = SimpleUploadedFile("streets.geojson", content, content_type="application/geo+json")
    return client.post(URL, {"file": upload, "code_field": "code", "tolerance": "0.01", **fields})


def test_the_region_list_links_to_the_page(mapped, english_admin):
    assert URL in english_admin.get(reverse("admin:grids_region_changelist")).text


def test_an_admin_imports_real_streets_and_sees_the_report(mapped, english_admin):
    response = post(english_admin, streets(123.45))
    assert response.status_code == 200
    assert "Imported." in response.text
    assert Region.objects.get(code="210111001").boundary_generated is False


def test_overlapping_streets_are_refused_with_each_code_and_nothing_is_written(mapped, english_admin):
    response = post(english_admin, streets(123.55))  # the west overlaps the east by 0.1°
    assert response.status_code == 200
    assert "nothing was written" in response.text
    assert "overlaps 210111003" in response.text
    assert Region.objects.get(code="210111001").boundary_generated is True


def test_a_clerk_without_the_right_cannot_open_it(mapped, client):
    client.force_login(mapped.dispatcher)
    assert client.get(URL).status_code in (302, 403)
