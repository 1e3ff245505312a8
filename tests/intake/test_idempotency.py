"""Idempotency-Key (issue 15, finding 6): the same key and call replays the first answer, the same
key with another call is refused with 422, and a key longer than the limit is refused whole."""

import pytest
from rest_framework.test import APIClient

from cases.models import Case
from intake.models import Call
from tests.factories import call_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cast, categories):
    client = APIClient()
    client.force_authenticate(cast.dispatcher)
    return client


def post(api, data, key, **kwargs):
    return api.post("/api/v1/calls/", data, format=kwargs.pop("format", "json"), HTTP_IDEMPOTENCY_KEY=key, **kwargs)


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(api):
    first = post(api, call_body(), "retry-1")
    again = post(api, call_body(), "retry-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["case"]["number"] == first.json()["case"]["number"]
    assert Case.objects.count() == 1


def test_the_same_body_in_another_key_order_is_the_same_request(api):
    first = post(api, call_body(), "order-1")
    reordered = dict(reversed(list(call_body().items())))
    assert post(api, reordered, "order-1").json()["case"]["number"] == first.json()["case"]["number"]


def test_a_reused_key_with_a_different_body_is_refused_with_422_and_nothing_is_created(api):
    first = post(api, call_body(), "reuse-1")
    response = post(api, call_body(description="楼道灯坏了一周"), "reuse-1")
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "idempotency_key_reused"
    assert first.json()["case"]["number"] in payload["detail"]
    assert Case.objects.count() == 1
    assert not Case.objects.filter(description="楼道灯坏了一周").exists()


def test_a_key_longer_than_the_limit_is_refused_not_cut(api):
    long_key = "k" * 100
    assert post(api, call_body(), long_key).status_code == 201
    # Before: keys were cut at 100 characters, so these two counted as the first one.
    for key in (long_key + "A", long_key + "B"):
        response = post(api, call_body(description="另一件事"), key)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["errors"]
    assert Case.objects.count() == 1


def test_a_replay_of_a_multipart_call_with_the_same_photo_is_the_same_request(api):
    from tests.intake.test_api_calls import jpeg  # a tiny real image

    first = post(api, {**call_body(), "photos": [jpeg()]}, "photo-1", format="multipart")
    assert first.status_code == 201, first.json()
    again = post(api, {**call_body(), "photos": [jpeg()]}, "photo-1", format="multipart")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Call.objects.count() == 1
