import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from integrations.models import CategoryMapping, System

pytestmark = pytest.mark.django_db


def test_the_demo_loader_creates_the_admin_with_the_demo_password(settings):
    settings.DEBUG = True
    call_command("load_demo")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("suqu-demo")


def test_a_second_run_keeps_what_the_first_made(settings):
    settings.DEBUG = True
    call_command("load_demo")
    admin = User.objects.get(username="admin")
    admin.real_name = "改过的名字"
    admin.save()
    call_command("load_demo")
    assert User.objects.filter(username="admin").count() == 1
    admin.refresh_from_db()
    assert admin.real_name == "改过的名字"
    # The demo's integrating systems are there once, the 12345 platform with its category table.
    assert sorted(System.objects.values_list("name", flat=True)) == ["app311", "city12345"]
    assert CategoryMapping.objects.filter(system__name="city12345").count() == 5


def test_the_demo_loader_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo")
    assert not User.objects.filter(username="admin").exists()
