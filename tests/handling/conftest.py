"""What the handling tests share: a frozen Tuesday morning and photos kept in a temporary folder."""

import pytest
import time_machine

from tests.handling.helpers import TUESDAY


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock():
    """Tuesday 2026-03-10 10:00 in Shanghai, no holiday near it; `clock.shift()` moves it."""
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller
