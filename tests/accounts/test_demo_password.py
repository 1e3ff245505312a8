"""Production refuses the published demo password, and `check --deploy` names the accounts that
still have it (issue 15, finding 4: the demo accounts signed in with DEBUG=0)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import DEMO_PASSWORD
from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def production(settings):
    settings.DEMO_PASSWORD_ALLOWED = False


@pytest.mark.django_db
def test_the_login_page_refuses_the_demo_password_in_production(production, client):
    UserFactory(username="dispatcher")  # a demo account left behind, password suqu-demo
    response = client.post(reverse("accounts:login"), {"username": "dispatcher", "password": DEMO_PASSWORD})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_token_endpoint_refuses_the_demo_password_in_production(production):
    UserFactory(username="admin")
    response = APIClient().post("/api/v1/auth/token/", {"username": "admin", "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


@pytest.mark.django_db
def test_any_other_password_still_signs_in_in_production(production, client):
    user = UserFactory(username="zhou")
    user.set_password("a-real-password-2026")
    user.save()
    response = client.post(reverse("accounts:login"), {"username": "zhou", "password": "a-real-password-2026"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_local_run_still_signs_in_with_the_demo_password(client, settings):
    settings.DEMO_PASSWORD_ALLOWED = True
    UserFactory(username="dispatcher")
    response = client.post(reverse("accounts:login"), {"username": "dispatcher", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def deploy_check():  # also used by tests/suqu/test_settings.py
    """`manage.py check --deploy` with a production environment, against the test database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "suqu.sujiatun.example",
        "DATABASE_URL": url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_check_deploy_warns_of_accounts_with_the_demo_password():
    # Hashed as production hashes (the tests hash with MD5 first, which production cannot read).
    demo_hash = make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256")
    UserFactory(username="dispatcher", password=demo_hash)
    UserFactory(username="official", password=demo_hash, is_active=False)  # deactivated: no longer a risk
    renamed = UserFactory(username="gridworker")
    renamed.set_password("changed-before-go-live")
    renamed.save()

    result = deploy_check()

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "accounts.W001" in output
    assert "dispatcher" in output
    assert "official" not in output
    assert "gridworker" not in output
