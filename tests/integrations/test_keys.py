"""API keys: issued once (only a hash kept), limited to their scopes, refused when revoked or of
another jurisdiction, issued and revoked by `manage.py integration_key`."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from integrations.models import ApiCall, ApiKey, System
from integrations.services import KeyRefused, key_check, key_issue, key_revoke, system_ensure

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("integration_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_creates_the_system_and_prints_a_working_key_on_its_last_line():
    lines = run("--system", "city12345", "--scope", "orders")
    key = key_check(lines[-1], ApiKey.Scope.ORDERS)
    assert key.system.name == "city12345"
    # Only the hash is stored: the printed key appears in no column.
    assert not ApiKey.objects.filter(key_hash=lines[-1]).exists()
    assert ApiKey.objects.get().prefix == lines[-1][:10]


def test_the_default_scope_is_what_an_open311_client_needs_and_nothing_more():
    raw = run("--system", "app311")[-1]
    assert key_check(raw, ApiKey.Scope.CREATE) and key_check(raw, ApiKey.Scope.READ_OWN)
    with translation.override("en"), pytest.raises(KeyRefused, match="may not read all public requests"):
        key_check(raw, ApiKey.Scope.READ_ALL)
    with pytest.raises(KeyRefused):
        key_check(raw, ApiKey.Scope.ORDERS)


def test_a_key_revoked_by_the_command_is_refused_and_the_others_still_work():
    first = run("--system", "city12345", "--scope", "orders")[-1]
    second = run("--system", "city12345", "--scope", "orders")[-1]
    assert "revoked" in run("--system", "city12345", "--revoke", first)[-1]
    with translation.override("en"), pytest.raises(KeyRefused, match="revoked"):
        key_check(first, ApiKey.Scope.ORDERS)
    assert key_check(second, ApiKey.Scope.ORDERS)
    assert System.objects.count() == 1


def test_revoking_by_prefix_and_twice_changes_nothing_more():
    system = system_ensure(name="city12345")
    key, raw = key_issue(system=system, scopes=["orders"])
    first = key_revoke(key=key.prefix).revoked_at
    assert key_revoke(key=raw).revoked_at == first


def test_the_command_refuses_a_key_of_another_system_and_an_unknown_one():
    raw = run("--system", "city12345", "--scope", "orders")[-1]
    run("--system", "other", "--scope", "orders")
    with pytest.raises(CommandError, match="belongs to city12345"):
        run("--system", "other", "--revoke", raw)
    with pytest.raises(CommandError):
        run("--system", "city12345", "--revoke", "sq_nonsense")
    assert key_check(raw, ApiKey.Scope.ORDERS)


def test_unknown_keys_inactive_systems_and_other_jurisdictions_are_refused():
    system = system_ensure(name="city12345")
    _key, raw = key_issue(system=system, scopes=["orders"])
    with pytest.raises(KeyRefused):
        key_check("sq_" + "x" * 40, ApiKey.Scope.ORDERS)
    with pytest.raises(KeyRefused):
        key_check("", ApiKey.Scope.ORDERS)
    with translation.override("en"), pytest.raises(KeyRefused, match="jurisdiction 210111"):
        key_check(raw, ApiKey.Scope.ORDERS, jurisdiction_id="210112")
    System.objects.filter(pk=system.pk).update(jurisdiction_id="210112")
    with pytest.raises(KeyRefused):
        key_check(raw, ApiKey.Scope.ORDERS)
    System.objects.filter(pk=system.pk).update(jurisdiction_id="210111", is_active=False)
    with pytest.raises(KeyRefused):
        key_check(raw, ApiKey.Scope.ORDERS)


def test_a_system_has_its_own_account_which_cannot_sign_in(client):
    system = system_ensure(name="city12345", title="沈阳市12345平台")
    assert system_ensure(name="city12345").pk == system.pk
    assert not system.user.has_usable_password()
    assert str(system.user) == "沈阳市12345平台"
    response = client.post("/accounts/login/", {"username": system.user.username, "password": ""})
    assert "_auth_user_id" not in client.session and response.status_code == 200


def test_no_api_call_is_recorded_by_the_services_alone():
    # The doors record calls (integrations.doors.recorded); a key check from a command does not.
    raw = run("--system", "city12345", "--scope", "orders")[-1]
    key_check(raw, ApiKey.Scope.ORDERS)
    assert ApiCall.objects.count() == 0
