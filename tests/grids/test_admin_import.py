import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from grids.models import Region
from tests.factories import UserFactory

IMPORT_URL = reverse("admin:grids_region_import")


@pytest.fixture
def english_admin(admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return admin_client


def upload(client, text, name="grids.csv", **options):
    file = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return client.post(IMPORT_URL, {"file": file, **{key: "on" for key, on in options.items() if on}})


def test_the_region_list_has_an_import_button(cast, english_admin):
    response = english_admin.get(reverse("admin:grids_region_changelist"))
    assert response.status_code == 200
    assert IMPORT_URL in response.text
    page = english_admin.get(IMPORT_URL)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="dry_run"' in page.text
    assert 'name="replace"' in page.text


def test_a_superuser_uploading_a_bad_file_sees_every_error_with_its_line(cast, english_admin):
    before = Region.objects.count()
    response = upload(
        english_admin,
        "code,name,parent_code\n210111001015003,金山社区第3网格,210111001015\n"
        "210111001099001,某网格,210111001099\n210111001015004,,210111001015\n",
    )
    assert response.status_code == 200
    assert response.context["errors"] == [
        (3, "parent_code", "unknown parent 210111001099"),
        (4, "name", "name is empty"),
    ]
    assert "<td>3</td><td>parent_code</td><td>unknown parent 210111001099</td>" in response.text
    assert "The file has 2 problems; nothing was written." in response.text
    assert Region.objects.count() == before


def test_a_superuser_imports_a_good_file(cast, english_admin):
    response = upload(english_admin, "code,name,parent_code\n210111001015003,金山社区第3网格,210111001015\n")
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    assert "Imported." in response.text
    assert Region.objects.get(code="210111001015003").parent == cast.community


def test_a_dry_run_in_the_admin_writes_nothing(cast, english_admin):
    response = upload(
        english_admin, "code,name,parent_code\n210111001015003,金山社区第3网格,210111001015\n", dry_run=True
    )
    assert response.context["result"].created == 1
    assert "Dry run: nothing was written." in response.text
    assert not Region.objects.filter(code="210111001015003").exists()


def test_a_txt_upload_is_refused_with_a_clear_message(cast, english_admin):
    response = upload(english_admin, "code,name,parent_code\n", name="grids.txt")
    assert response.context["form"].errors == {"file": ["grids.txt: only .csv and .xlsx files are supported"]}


def test_a_user_who_is_not_staff_cannot_reach_the_import_page(cast, client):
    client.force_login(cast.gridworker)
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_permission_to_change_regions_gets_403(cast, client):
    client.force_login(UserFactory(username="t_staff", is_staff=True))
    assert client.get(IMPORT_URL).status_code == 403


def test_the_export_action_sends_the_selected_regions_as_xlsx(cast, admin_client):
    response = admin_client.post(
        reverse("admin:grids_region_changelist"),
        {"action": "export_xlsx", "_selected_action": [cast.grid_a.pk, cast.grid_b.pk]},
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["code", "210111001015001", "210111001015002"]


def test_the_export_action_sends_csv_with_a_byte_order_mark(cast, admin_client):
    response = admin_client.post(
        reverse("admin:grids_region_changelist"), {"action": "export_csv", "_selected_action": [cast.grid_a.pk]}
    )
    assert response.content.startswith(b"\xef\xbb\xbfcode,name,parent_code")
    assert "210111001015001,金山社区第1网格,210111001015" in response.content.decode("utf-8-sig")


def test_a_search_of_digits_finds_regions_by_code_prefix(cast, admin_client):
    response = admin_client.get(reverse("admin:grids_region_changelist"), {"q": "210111003"})
    assert {region.code for region in response.context["cl"].result_list} == {
        "210111003",
        "210111003201",
        "210111003201001",
    }


def test_grid_postings_can_be_filtered_by_street_and_searched_by_name(cast, admin_client):
    url = reverse("admin:grids_gridposting_changelist")
    by_street = admin_client.get(url, {"street": "210111001"})
    assert {posting.user.username for posting in by_street.context["cl"].result_list} == {"t_gridworker", "t_outsider"}
    assert not admin_client.get(url, {"street": "210111003"}).context["cl"].result_list
    by_name = admin_client.get(url, {"q": "王网格"})
    assert [posting.user.username for posting in by_name.context["cl"].result_list] == ["t_gridworker"]
