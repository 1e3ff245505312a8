"""Two dispatchers reclassifying one case at the same moment, on two real connections: one wins,
the other is refused (409) having seen the case as it was, and the case is re-routed once.
(A module of its own: these threads must see committed rows, so it runs outside a transaction.)"""

import threading
import time

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases.lifecycle import TransitionNotAllowed
from cases.models import CaseEvent
from routing import dispatch
from routing.models import Assignment
from routing.reclassify import case_reclassify
from routing.tasks import dispatch_case
from tests.factories import UserFactory, member, open_case, routing_setup


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_reclassifying_at_once_one_wins_and_the_other_is_409(cast, categories):
    routing_setup(cast)
    colleague = member(UserFactory(username="t_dispatcher2"), cast.centre)
    case = open_case(cast)
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=cast.community_clerk)
    barrier = threading.Barrier(2)
    results = []
    lock = threading.Lock()

    def reclassify(actor, category):
        try:
            barrier.wait(timeout=10)
            # Both saw the case as it was registered: 环境卫生 in grid A.
            case_reclassify(
                case=case, actor=actor, category=category, reason="改", seen_category="0201", seen_grid=case.grid_id
            )
            result = "reclassified"
        except TransitionNotAllowed:
            result = "refused"
        except Exception as error:  # noqa: BLE001 (reported by the assertion below, not lost in the thread)
            result = repr(error)
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [
        threading.Thread(target=reclassify, args=(cast.dispatcher, "0103")),
        threading.Thread(target=reclassify, args=(colleague, "1301")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["reclassified", "refused"]
    assert CaseEvent.objects.filter(case=case, action="reclassify").count() == 1
    case.refresh_from_db()
    leads = Assignment.objects.filter(case=case, role="lead", state__in=Assignment.ACTIVE_STATES)
    if case.category.code == "0103":  # the re-route won: one new lead, the old one withdrawn
        assert [a.unit.code for a in leads] == ["D-HOUSING"] and case.status == "dispatched"
    else:  # 1301 has no rule: the committee keeps it
        assert (case.category.code, [a.unit.code for a in leads]) == ("1301", ["C210111001015"])


@pytest.mark.django_db(transaction=True)
def test_two_api_requests_at_once_without_seen_fields_one_wins_and_the_other_is_409(cast, categories):
    """Neither request says what it saw: each is held on the case's row lock after reading the case
    (the test holds the lock until both wait), so the second to get it finds the case changed."""
    routing_setup(cast)
    colleague = member(UserFactory(username="t_dispatcher2"), cast.centre)
    case = open_case(cast)
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=cast.community_clerk)
    url = f"/api/v1/cases/{case.number}/reclassify/"
    results, lock = [], threading.Lock()

    def post(actor, category):
        client = APIClient()
        client.force_authenticate(actor)
        try:
            response = client.post(url, {"category": category, "reason": "改"}, format="json")
            result = (response.status_code, response.json().get("code"))
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            result = repr(error)
        finally:
            connection.close()
        with lock:
            results.append(result)

    holder = psycopg.connect(**connection.get_connection_params(), autocommit=False)
    try:
        holder.execute("SELECT 1 FROM cases_case WHERE id = %s FOR UPDATE", [case.pk])
        threads = [
            threading.Thread(target=post, args=(cast.dispatcher, "0103")),
            threading.Thread(target=post, args=(colleague, "1301")),
        ]
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(200):  # both requests blocked on the row: they have read the case
            (waiting,) = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
            ).fetchone()
            if waiting >= 2:
                break
            time.sleep(0.05)
        assert waiting >= 2, "both requests should wait on the case's lock"
    finally:
        holder.rollback()
        holder.close()
    for thread in threads:
        thread.join(30)
    assert sorted(results, key=str) == [(200, None), (409, "transition_not_allowed")], results
    assert CaseEvent.objects.filter(case=case, action="reclassify").count() == 1
