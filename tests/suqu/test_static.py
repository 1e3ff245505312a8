"""The vendored front-end files: every one a page names is found (so collectstatic collects it and
the manifest knows it), nothing else of the npm packages is, and the image copies each package."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

BASE_DIR = Path(settings.BASE_DIR)


def named_by_templates():
    names = set()
    for template in [*BASE_DIR.glob("templates/**/*.html"), *BASE_DIR.glob("*/templates/**/*.html")]:
        names.update(re.findall(r"""\{% static ['"](vendor/[^'"]+)['"] %\}""", template.read_text(encoding="utf-8")))
    return names


def test_every_vendored_file_a_page_names_is_found():
    names = named_by_templates()
    assert {"vendor/leaflet/leaflet.js", "vendor/echarts/echarts.min.js", "vendor/htmx/htmx.min.js"} <= names
    assert [name for name in sorted(names) if not finders.find(name)] == []
    # And what those files name in turn: leaflet's marker images, the source maps.
    assert finders.find("vendor/leaflet/images/marker-icon.png")
    assert finders.find("vendor/bootstrap/css/bootstrap.min.css.map")


def test_the_rest_of_the_packages_is_not_served():
    assert not finders.find("vendor/echarts/echarts.js")
    assert not finders.find("vendor/leaflet/leaflet-src.js")
    assert not finders.find("vendor/bootstrap/css/bootstrap.css")


def test_the_image_copies_every_vendored_package():
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    for root, _patterns in settings.VENDOR_FILES.values():
        folder = Path(root).relative_to(BASE_DIR).as_posix()
        assert f"COPY --from=assets /build/{folder} {folder}" in dockerfile, folder
