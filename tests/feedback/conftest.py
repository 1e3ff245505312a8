"""What the feedback tests share: the handling tests' frozen Tuesday and cases resolved by the
lead unit, waiting for the resident's verdict."""

import pytest
import time_machine

from tests.factories import routing_setup
from tests.handling.helpers import TUESDAY


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(cast, categories, clock):
    routing_setup(cast)
    return cast
