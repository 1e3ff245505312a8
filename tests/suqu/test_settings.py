import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from suqu.env import env_bool, env_choice, env_int, env_list, env_url
from tests.accounts.test_demo_password import deploy_check

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (env_bool, "maybe", "SUQU_TEST_VAR: expected a boolean"),
        (env_int, "ten", "SUQU_TEST_VAR: expected a whole number"),
        (lambda name: env_url(name, schemes=("postgres",)), "mysql://db/x", "SUQU_TEST_VAR: expected a URL"),
        (lambda name: env_url(name, schemes=("redis",)), "redis://host:port/0", "SUQU_TEST_VAR: the port"),
        (lambda name: env_choice(name, choices=("INFO", "DEBUG")), "LOUD", "SUQU_TEST_VAR: expected one of"),
    ],
)
def test_a_malformed_value_fails_with_the_variable_name(monkeypatch, reader, value, message):
    monkeypatch.setenv("SUQU_TEST_VAR", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        reader("SUQU_TEST_VAR")


def test_a_missing_required_value_names_the_variable(monkeypatch):
    monkeypatch.delenv("SUQU_TEST_VAR", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SUQU_TEST_VAR: required but not set"):
        env_url("SUQU_TEST_VAR", schemes=("redis",))


def test_well_formed_values_are_typed(monkeypatch):
    monkeypatch.setenv("A_BOOL", "Yes")
    monkeypatch.setenv("A_INT", " 42 ")
    monkeypatch.setenv("A_LIST", "a.example, b.example,,")
    assert env_bool("A_BOOL") is True
    assert env_int("A_INT") == 42
    assert env_list("A_LIST") == ["a.example", "b.example"]


def test_an_empty_value_keeps_the_safe_default(monkeypatch):
    monkeypatch.setenv("SUQU_TEST_VAR", "  ")
    assert env_bool("SUQU_TEST_VAR", True) is True


def test_a_heartbeat_age_below_the_beat_is_refused():
    result = _load_settings(HEARTBEAT_SECONDS="30", HEARTBEAT_MAX_AGE_SECONDS="20")
    assert result.returncode != 0
    assert "HEARTBEAT_MAX_AGE_SECONDS: must be more than HEARTBEAT_SECONDS" in result.stderr


def test_a_password_in_a_bad_url_is_not_printed(monkeypatch):
    monkeypatch.setenv("SUQU_TEST_VAR", "mysql://suqu:hunter2@db/x")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_url("SUQU_TEST_VAR", schemes=("postgres",))
    assert "hunter2" not in str(excinfo.value)


def _load_settings(**env):
    """Import the settings in a fresh interpreter, as a process starting up would."""
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
    )


def test_starting_with_a_bad_setting_names_it():
    result = _load_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG: expected a boolean" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY: required when DEBUG is off" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_deploy_check_is_clean_with_a_production_environment():
    # Against the test database: its accounts are what `accounts.W001` looks at.
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
