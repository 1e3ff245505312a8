import psycopg
import pytest
from django.db import connection

from suggestions.models import SuggesterVersion
from suggestions.services import LOCK, suggester_train
from tests.suggestions.history import closed_cases

pytestmark = pytest.mark.django_db


def test_training_on_the_closed_cases_writes_a_version_with_its_figures(world, history):
    # Neither merged duplicates nor invalid calls are learned from: their category says nothing.
    closed_cases(world, [("0205", "路灯不亮好几天了")] * 10, closure_reason="duplicate", start=500)
    closed_cases(world, [("0206", "打错电话了")] * 10, closure_reason="invalid", start=600)

    result = suggester_train(trigger="command", actor=world.dispatcher)

    assert result.trained and result.reason == "trained"
    version = SuggesterVersion.objects.get()
    assert version == result.version
    assert (version.number, version.trained_on, version.categories, version.held_out) == (1, 90, 3, 9)
    assert 0 <= version.top1 <= version.top3 <= 1
    assert version.top3 == 1.0  # three categories: the right one is always among the three
    assert (version.trigger, version.triggered_by) == ("command", world.dispatcher)
    assert version.model_size == len(bytes(version.model)) > 0
    assert version.seconds >= 0
    assert "90" in result.message


def test_the_next_training_is_the_next_version_and_old_models_are_let_go(world, history, settings):
    for _ in range(SuggesterVersion.KEPT_MODELS + 1):
        suggester_train(trigger="nightly")
    versions = list(SuggesterVersion.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3, 4]
    # The newest KEPT_MODELS keep their model; the oldest keeps its row and figures only.
    assert [len(bytes(v.model)) > 0 for v in versions] == [False, True, True, True]
    assert versions[0].trained_on == 90 and versions[0].model_size > 0


def test_too_little_history_writes_nothing_and_says_so(world, history, settings):
    settings.SUGGESTER_MIN_CASES = 200
    result = suggester_train(trigger="nightly")
    assert not result.trained and result.reason == "too_little_history"
    assert (result.cases, result.categories) == (90, 3)
    assert "90" in result.message and "200" in result.message
    assert not SuggesterVersion.objects.exists()


def test_one_category_is_too_little_history_however_many_cases(world):
    closed_cases(world, [("0201", f"第{n}号楼垃圾没人清运") for n in range(40)])
    result = suggester_train(trigger="nightly")
    assert result.reason == "too_little_history"
    assert not SuggesterVersion.objects.exists()


def test_a_training_while_another_runs_does_nothing(world, history):
    params = connection.get_connection_params()
    other = psycopg.connect(
        **{key: params[key] for key in ("dbname", "user", "host", "port", "password") if params.get(key)},
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [LOCK])
        result = suggester_train(trigger="nightly")
        assert result.reason == "already_running"
        assert not SuggesterVersion.objects.exists()
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [LOCK])
    finally:
        other.close()
    # Once the other is done, a training runs; the refused one left no lock behind.
    assert suggester_train(trigger="nightly").trained
