import pytest

from suggestions.selectors import model_cache_clear
from suggestions.services import suggester_train
from tests.factories import routing_setup
from tests.suggestions import history as fixed


@pytest.fixture(autouse=True)
def no_model_from_another_test():
    """The process keeps its model for a minute; the database of each test starts without one."""
    model_cache_clear()
    yield
    model_cache_clear()


@pytest.fixture
def world(cast, categories, settings):
    routing_setup(cast)
    settings.SUGGESTER_MIN_CASES = 30
    return cast


@pytest.fixture
def history(world):
    """The fixed history of tests/suggestions/history.py, closed."""
    return fixed.closed_cases(world, fixed.history())


@pytest.fixture
def trained(history):
    """A first version, trained on the history."""
    result = suggester_train(trigger="command")
    assert result.trained, result.message
    return result.version
