"""Holes a review found: each test would fail if the hole came back."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, CasePhoto, mask_phone
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def gif_named(name):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "GIF")
    return SimpleUploadedFile(name, buffer.getvalue() + b"<script>alert(1)</script>", content_type="image/gif")


def test_the_read_only_official_cannot_log_a_call_through_the_api(cast, categories):
    api = APIClient()
    api.force_authenticate(cast.official)
    response = api.post(
        "/api/v1/calls/",
        {
            "channel": "hotline",
            "caller_name": "张三",
            "caller_phone": "13800138000",
            "description": "垃圾没人清理",
            "category": "0201",
            "grid": "210111001015001",
        },
        format="json",
    )
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_caller_history_is_for_call_takers_and_hides_confidential_callers(client, cast, categories):
    open_case(cast, caller_phone="13700137000", caller_confidential=True)
    client.force_login(cast.dept_clerk)
    assert client.get("/intake/caller-history/", {"caller_phone": "13700137000"}).status_code == 404
    client.force_login(cast.community_clerk)
    assert client.get("/intake/caller-history/", {"caller_phone": "13700137000"}).context["cases"] == []
    client.force_login(cast.dispatcher)
    assert len(client.get("/intake/caller-history/", {"caller_phone": "13700137000"}).context["cases"]) == 1


def test_a_photo_is_stored_and_served_by_its_real_format_not_its_name(client, cast, categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cast.gridworker)
    case = open_case(cast, actor=cast.gridworker, photos=[gif_named("evil.html")])
    photo = CasePhoto.objects.get(case=case)
    assert photo.image.name.endswith(".gif")
    assert "evil" not in photo.image.name
    response = client.get(f"/cases/{case.number}/photos/{photo.pk}/")
    assert response["Content-Type"] == "image/gif"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("24123456", "****3456"),
        ("2412345", "****345"),
        ("024-12345678", "024*****5678"),
    ],
)
def test_every_phone_keeps_at_least_four_digits_hidden(phone, masked):
    assert mask_phone(phone) == masked
    assert sum(1 for a, b in zip(phone, masked, strict=True) if a != b) >= 4


def test_a_resolved_case_cannot_be_closed_as_invalid(cast, categories):
    """Once resolved, a case closes through the resident's verdict or with an exemption reason."""
    case = open_case(cast)
    Case.objects.filter(pk=case.pk).update(status="resolved")  # set-up only
    api = APIClient()
    api.force_authenticate(cast.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid", "note": "x"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    case.refresh_from_db()
    assert case.status == "resolved"


def test_a_refusal_never_redirects_to_another_site(client, cast, categories):
    case = open_case(cast, caller_confidential=True)
    client.force_login(cast.community_clerk)
    response = client.post(f"/cases/{case.number}/reveal-phone/", HTTP_REFERER="https://evil.example/x")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not CaseEvent.objects.filter(action="reveal_phone").exists()


def test_the_case_admin_is_for_superusers_and_shows_no_caller(client, cast, categories, admin_user):
    case = open_case(cast)
    cast.dispatcher.is_staff = True
    cast.dispatcher.save()
    client.force_login(cast.dispatcher)
    assert client.get("/admin/cases/case/").status_code == 403
    client.force_login(admin_user)
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200
    assert "13800138000" not in page.text
