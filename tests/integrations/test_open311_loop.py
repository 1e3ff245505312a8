"""The whole loop for a request sent through Open311: created by the client, dispatched by the
routing rules, signed for and resolved by the committee, closed by the resident's verdict, and read
back by the client closed, with the result as its status notes, in both formats."""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from feedback.services import case_callback
from handling.services import case_resolve
from routing.dispatch import case_route_auto, case_sign

pytestmark = pytest.mark.django_db


def read(client, systems, case, fmt="json"):
    url = reverse("open311:request", kwargs={"format": fmt, "service_request_id": case.number})
    response = client.get(url, {"api_key": systems.key})
    assert response.status_code == 200
    return response


def test_an_open311_request_goes_round_the_whole_loop_and_reads_back_closed_with_the_result(systems):
    cast, client = systems.cast, Client()
    body = {
        "api_key": systems.key,
        "service_code": "0201",
        "lat": f"{cast.grid_a.latitude:.6f}",
        "long": f"{cast.grid_a.longitude:.6f}",
        "description": "小区门口垃圾堆放多日无人清理",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800138000",
    }
    created = client.post(
        reverse("open311:requests", kwargs={"format": "json"}),
        urlencode(body),
        content_type="application/x-www-form-urlencoded",
    )
    case = Case.objects.get(number=created.json()[0]["service_request_id"])
    [request] = read(client, systems, case).json()
    assert (request["status"], request["agency_responsible"], request["expected_datetime"]) == ("open", None, None)

    # Routed by the rules as the worker would: 环境卫生 goes to the grid's committee.
    lead = case_route_auto(case_id=case.pk)
    assert lead.unit == cast.committee
    [request] = read(client, systems, case).json()
    assert request["status"] == "open"
    assert request["agency_responsible"] == "金山社区居委会"
    assert request["expected_datetime"] == timezone.localtime(lead.resolve_due).isoformat(timespec="seconds")

    case_sign(case=case, actor=cast.community_clerk)
    case_resolve(case=case, actor=cast.community_clerk, result_kind="solved", result="已清运完毕，并增设垃圾箱")
    [request] = read(client, systems, case).json()
    # Resolved is not closed: the resident's verdict is still to come.
    assert (request["status"], request["status_notes"]) == ("open", "已清运完毕，并增设垃圾箱")

    case_callback(case=case, actor=cast.dispatcher, reached=True, resolved=True, satisfaction="satisfied")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    [request] = read(client, systems, case).json()
    assert request["status"] == "closed"
    assert request["status_notes"] == "已清运完毕，并增设垃圾箱"
    assert request["agency_responsible"] == "金山社区居委会"
    assert request["updated_datetime"] == timezone.localtime(case.closed_at).isoformat(timespec="seconds")
    xml = read(client, systems, case, "xml").content.decode()
    assert "<status>closed</status>" in xml and "<status_notes>已清运完毕，并增设垃圾箱</status_notes>" in xml
    closed = client.get(
        reverse("open311:requests", kwargs={"format": "json"}), {"api_key": systems.key, "status": "closed"}
    ).json()
    assert [r["service_request_id"] for r in closed] == [case.number]
