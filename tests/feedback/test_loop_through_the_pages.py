"""The whole loop through the pages, as the people do it: a grid worker logs a patrol finding, the
rules dispatch it, the committee signs, contacts and resolves it in its workspace, and the
dispatcher's callback closes it; the month's figures count it."""

from django.contrib.messages import get_messages

from cases.models import Case
from feedback import metrics
from routing.tasks import dispatch_case
from tests.handling.helpers import photo


def ok(client, url, data):
    response = client.post(url, data, HTTP_REFERER=url)
    assert response.status_code == 302, response.content[:500]
    levels = [message.level_tag for message in get_messages(response.wsgi_request)]
    # Messages of earlier steps may still wait to be shown; none may be an error.
    assert levels and set(levels) == {"success"}, (url, [str(m) for m in get_messages(response.wsgi_request)])


def test_a_patrol_finding_goes_round_the_loop_to_closure(client, world, clock):
    client.force_login(world.gridworker)
    response = client.post(
        "/intake/new/",
        {
            "channel": "hotline",
            "caller_name": "张三",
            "caller_phone": "13800138000",
            "description": "金山路3号门口垃圾堆放多日无人清理",
            "category": "0201",
            "grid": world.grid_a.code,
            "address": "金山路3号",
            "priority": "",
            "attach_to": "",
            "answer": "",
            "submission": "loop-1",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    dispatch_case(case.pk)

    client.force_login(world.community_clerk)
    workspace = f"/handling/cases/{case.number}/"
    ok(client, workspace + "sign/", {})
    clock.shift(1800)
    ok(client, workspace + "contact/", {"method": "phone", "contacted_at": "2026-03-10 10:20", "agreed": "今天清运"})
    clock.shift(3600)
    ok(client, workspace + "resolve/", {"result_kind": "solved", "result": "已清运完毕", "photos": [photo()]})
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED

    client.force_login(world.dispatcher)
    assert case.number in client.get("/feedback/callbacks/").text
    answer = {"reached": "1", "resolved": "1", "satisfaction": "satisfied", "comment": "很满意", "outcome": "reopen"}
    ok(client, f"/feedback/callbacks/{case.number}/", answer)
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == (Case.Status.CLOSED, Case.ClosureReason.SATISFIED)
    assert [e.action for e in case.events.order_by("id")] == [
        "open",
        "dispatch",
        "sign",
        "contact",
        "resolve",
        "callback",
        "close",
    ]

    (street,) = [r for r in metrics.rows_for("street", period=metrics.Period.month("2026-03")) if r.code == "210111001"]
    assert (street.figures.received, street.figures.callbacks, street.figures.satisfaction_rate) == (1, 1, 1)
    assert street.figures.response_rate == 1
