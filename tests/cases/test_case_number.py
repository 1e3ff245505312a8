import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from cases.services import case_number_next

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_numbers_carry_the_shanghai_day_and_count_up_within_it():
    late = datetime(2026, 11, 27, 23, 59, tzinfo=SHANGHAI)
    assert case_number_next(now=late) == "SJT-20261127-00001"
    assert case_number_next(now=late) == "SJT-20261127-00002"
    # 16:30 UTC is already the next day in Shanghai: a new day, a new count.
    assert case_number_next(now=datetime(2026, 11, 27, 16, 30, tzinfo=ZoneInfo("UTC"))) == "SJT-20261128-00001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_never_share_a_number():
    numbers = []
    lock = threading.Lock()

    def take(count):
        try:
            for _ in range(count):
                number = case_number_next()
                with lock:
                    numbers.append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 100
    assert len(set(numbers)) == 100
    assert all(re.fullmatch(r"SJT-\d{8}-\d{5}", n) for n in numbers)
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 101))
