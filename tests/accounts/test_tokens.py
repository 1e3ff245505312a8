"""API tokens end with the password, the account, an administrator's word, or their age (issue 15,
finding 3); sessions end with "log out everywhere"."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import user_sign_out_everywhere

pytestmark = pytest.mark.django_db

PASSWORD = "suqu-demo"


def token_for(username, password=PASSWORD):
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def me_with(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/me/")


def test_a_token_stops_working_when_the_password_changes(cast):
    token = token_for("t_dispatcher")["token"]
    assert me_with(token).status_code == 200

    cast.dispatcher.set_password("a-new-password-for-zhou")
    cast.dispatcher.save()

    response = me_with(token)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    # The new password gets a new token.
    assert token_for("t_dispatcher", "a-new-password-for-zhou")["token"] != token


def test_a_password_changed_in_the_admin_ends_the_token(cast, admin_client):
    token = token_for("t_dispatcher")["token"]
    url = reverse("admin:auth_user_password_change", args=[cast.dispatcher.pk])
    response = admin_client.post(url, {"password1": "Another-pass-2026", "password2": "Another-pass-2026"})
    assert response.status_code == 302
    assert me_with(token).status_code == 401


def test_a_deactivated_user_loses_the_token(cast):
    token = token_for("t_dispatcher")["token"]
    cast.dispatcher.is_active = False
    cast.dispatcher.save()
    assert me_with(token).status_code == 401
    assert not Token.objects.filter(user=cast.dispatcher).exists()


def test_saving_a_user_for_another_reason_keeps_the_token(cast):
    token = token_for("t_dispatcher")["token"]
    cast.dispatcher.real_name = "周派单员"
    cast.dispatcher.save()
    assert me_with(token).status_code == 200


def test_a_token_expires_after_the_configured_days_and_a_new_one_is_issued(cast, settings):
    settings.API_TOKEN_DAYS = 30
    issued = token_for("t_dispatcher")
    assert (
        timezone.timedelta(days=29)
        < (timezone.datetime.fromisoformat(issued["expires"]) - timezone.now())
        <= timedelta(days=30)
    )

    with time_machine.travel(timezone.now() + timedelta(days=30, minutes=1)):
        response = me_with(issued["token"])
        assert response.status_code == 401
        assert "已过期" in response.json()["detail"]  # "Token expired; ask for a new one …"
        renewed = token_for("t_dispatcher")
    assert renewed["token"] != issued["token"]
    assert me_with(renewed["token"]).status_code == 200


def test_the_same_token_is_returned_while_it_lasts(cast):
    assert token_for("t_dispatcher")["token"] == token_for("t_dispatcher")["token"]


def test_an_administrator_revokes_a_token_by_deleting_it(cast, admin_client):
    token = token_for("t_dispatcher")["token"]
    listing = admin_client.get(reverse("admin:authtoken_tokenproxy_changelist"))
    assert listing.status_code == 200
    assert token[:10] in listing.content.decode()
    response = admin_client.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[cast.dispatcher.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert me_with(token).status_code == 401


def test_log_out_everywhere_ends_sessions_and_tokens(cast, client):
    token = token_for("t_dispatcher")["token"]
    client.force_login(cast.dispatcher)
    assert client.get("/api/v1/me/").status_code == 200

    user_sign_out_everywhere(user=cast.dispatcher)

    assert client.get("/api/v1/me/").status_code == 401  # the session is gone: not authenticated
    assert me_with(token).status_code == 401
    # Signing in again works, on a page and through the API.
    response = client.post(reverse("accounts:login"), {"username": "t_dispatcher", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me/").status_code == 200
    assert me_with(token_for("t_dispatcher")["token"]).status_code == 200


def test_the_admin_action_logs_the_chosen_users_out_everywhere(cast, client, admin_client):
    client.force_login(cast.gridworker)
    token = token_for("t_gridworker")["token"]
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [cast.gridworker.pk]},
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me/").status_code == 401
    assert me_with(token).status_code == 401


def test_a_session_survives_when_nothing_was_rotated(cast, client):
    client.force_login(cast.dispatcher)
    cast.dispatcher.refresh_from_db()
    cast.dispatcher.real_name = "周"
    cast.dispatcher.save()
    assert client.get("/api/v1/me/").status_code == 200
