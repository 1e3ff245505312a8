import pytest

from tests.outbox.backends import Provider


@pytest.fixture
def provider(settings):
    """SMS go to the idempotent test gateway, which starts empty and up."""
    settings.SMS_BACKEND = "tests.outbox.backends.IdempotentGateway"
    Provider.accepted, Provider.handed_over, Provider.down, Provider.crash_after_accepting = {}, 0, False, False
    return Provider
