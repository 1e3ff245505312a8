"""The same work order sent twice at once (the city's platform retrying before the first answer
came back): one order, one case, and both answers name it."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases.models import Case, Category, Channel
from intake.models import Call
from integrations.models import ApiKey, CategoryMapping, Inbound
from integrations.services import key_issue, system_ensure
from tests.factories import make_cast
from tests.integrations.orders_world import ORDERS, order_body


@pytest.mark.django_db(transaction=True)
def test_the_same_order_sent_four_times_at_once_opens_one_case(categories):
    make_cast()
    system = system_ensure(name="city12345", title="沈阳市12345平台", channel=Channel.HOTLINE)
    CategoryMapping.objects.create(system=system, code="HJWS-01", category=Category.objects.get(code="0201"))
    _key, raw = key_issue(system=system, scopes=[ApiKey.Scope.ORDERS])
    start = threading.Barrier(4)
    answers = []
    lock = threading.Lock()

    def send():
        try:
            api = APIClient(headers={"Authorization": f"Bearer {raw}"})
            start.wait(timeout=10)
            answer = api.post(ORDERS, order_body(), format="json")
            with lock:
                answers.append((answer.status_code, answer.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(status for status, _body in answers) == [200, 200, 200, 201], answers
    assert {body["number"] for _status, body in answers} == {Case.objects.get().number}
    assert [body["duplicate"] for status, body in answers if status == 200] == [True, True, True]
    assert Inbound.objects.count() == 1 and Call.objects.count() == 1
