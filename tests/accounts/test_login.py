import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_the_login_page_is_in_chinese_by_default(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "登录" in response.text
    assert '<html lang="zh-hans">' in response.text


def test_a_right_password_logs_in_and_lands_on_home(client):
    UserFactory(username="clerk")
    response = attempt(client, "clerk", "suqu-demo")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get("/").status_code == 200


def test_a_wrong_password_shows_a_chinese_error(client):
    UserFactory(username="clerk")
    response = attempt(client, "clerk", "wrong")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.text


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, settings):
    UserFactory(username="clerk")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", "wrong")
    response = attempt(client, "clerk", "suqu-demo")
    assert response.status_code == 429
    assert "账号已锁定" in response.text
    assert "_auth_user_id" not in client.session


def test_the_lock_out_does_not_touch_other_accounts(client, settings):
    UserFactory(username="clerk")
    UserFactory(username="colleague")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "colleague", "suqu-demo").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, settings):
    UserFactory(username="clerk")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", "suqu-demo").status_code == 302
    client.post("/accounts/logout/")
    attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", "suqu-demo").status_code == 302


def test_logout_ends_the_session(client):
    client.force_login(UserFactory())
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_navigation_shows_administration_only_to_staff(client):
    client.force_login(UserFactory(username="clerk"))
    assert "/admin/" not in client.get("/").text
    client.force_login(User.objects.create_superuser("boss", password="x"))
    assert "/admin/" in client.get("/").text
