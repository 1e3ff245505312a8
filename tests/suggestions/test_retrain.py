"""Retraining: nightly by beat, on demand from the admin."""

import pytest
from celery.schedules import crontab
from django.conf import settings

from suggestions.models import SuggesterVersion
from suggestions.tasks import retrain
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/suggestions/suggesterversion/"


def test_beat_retrains_every_night_at_half_past_two():
    from suqu.celery import app

    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "suggestions.retrain"]
    assert len(entries) == 1
    assert entries[0]["schedule"] == crontab(hour=2, minute=30)
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"
    app.loader.import_default_modules()
    assert "suggestions.retrain" in app.tasks


@pytest.mark.parametrize("value", ["25:00", "soon"])
def test_a_bad_retrain_time_stops_the_start_naming_it(value):
    from tests.suqu.test_settings import _load_settings

    result = _load_settings(SUGGESTER_RETRAIN_AT=value)
    assert result.returncode != 0
    assert "SUGGESTER_RETRAIN_AT: expected HH:MM" in result.stderr


def test_the_nightly_task_trains_a_version_or_says_why_not(history, settings):
    assert retrain() == {"reason": "trained", "version": 1, "cases": 90, "categories": 3}
    assert SuggesterVersion.objects.get().trigger == "nightly"
    settings.SUGGESTER_MIN_CASES = 1000
    assert retrain()["reason"] == "too_little_history"
    assert SuggesterVersion.objects.count() == 1


@pytest.fixture
def superuser(db):
    return UserFactory(username="t_admin", is_staff=True, is_superuser=True)


def test_retrain_now_in_the_admin_queues_a_training_that_names_who_asked(
    client, history, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    page = client.get(ADMIN)
    assert 'id="suggester-retrain"' in page.text  # works before there is any version to tick
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"{ADMIN}retrain/", follow=True)
    assert response.redirect_chain[-1][0] == ADMIN
    assert len(queued) == 1
    assert not SuggesterVersion.objects.exists()  # until a worker runs it

    # What the worker runs, with what was queued:
    retrain(trigger="admin", actor_id=superuser.pk)
    version = SuggesterVersion.objects.get()
    assert (version.trigger, version.triggered_by) == ("admin", superuser)

    listed = client.get(ADMIN)
    assert listed.status_code == 200
    assert "90" in listed.text and "field-top1" in listed.text
    assert "icon-yes.svg" in listed.text  # its model is kept
    assert bytes(version.model)[:20].hex() not in listed.text


def test_the_retrain_action_queues_a_training_too(client, trained, superuser, django_capture_on_commit_callbacks):
    client.force_login(superuser)
    with django_capture_on_commit_callbacks() as queued:
        client.post(ADMIN, {"action": "retrain_now", "_selected_action": [trained.pk]})
    assert len(queued) == 1


def test_staff_without_the_permission_cannot_retrain(client, history, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    staff = UserFactory(username="t_staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_suggesterversion"))
    client.force_login(staff)
    assert 'id="suggester-retrain"' not in client.get(ADMIN).text
    with django_capture_on_commit_callbacks() as queued:
        assert client.post(f"{ADMIN}retrain/").status_code == 403
    assert queued == []
