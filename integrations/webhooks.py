"""Telling a work order's sender what became of it (docs/integrations.md, "Webhook events").

Every status change of an order's case, an approved extension and a callback, and the order
opened or refused by a dispatcher, is one event: a row of the outbox written in the transaction of
the move (the case's `case_moved`, or the inbound request's own move), so an event exists if and
only if its move committed. The outbox POSTs it to the system's webhook URL, signed at send time
with the system's secret, retries it with back-off while the receiver is down, and sends the
events of one order in the order they happened (their `group`). A retry is the same event again:
the receiver drops a repeat by its `event_id`.

The signature: `X-Suqu-Signature: sha256=<hex>`, the HMAC-SHA256 with the system's secret of
`<X-Suqu-Timestamp>.<body>` (the Unix seconds of this attempt, a dot, the raw body's bytes).
"""

import hashlib
import hmac
import http.client
import json
import logging
from datetime import datetime
from urllib.error import HTTPError, URLError
from urllib.request import HTTPRedirectHandler, Request, build_opener
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from integrations.models import Inbound, System
from outbox.backends import DeliveryFailed, DeliveryRejected, Receipt
from outbox.models import Message
from outbox.services import message_queue
from routing.models import Assignment, ReturnReason
from units.models import Unit

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
USER_AGENT = "suqu-webhook/1"
# Answers that sending again may change: the receiver timed out or is throttling.
RETRIED_CLIENT_ERRORS = frozenset({408, 429})

# The case's moves a sender hears about, by the event's action: every change of status, an
# approved extension (a new deadline) and a callback (the resident's verdict). The rest (notes,
# contacts, alerts, supervision) are the district's own business.
EVENT_TYPES = {
    "dispatch": "dispatched",
    "redispatch": "dispatched",
    "sign": "signed",
    "return": "returned",
    "extend": "extended",
    "resolve": "resolved",
    "callback": "callback",
    "reopen": "reopened",
    "close": "closed",
    "merge": "closed",
    "answer": "closed",
}


def _local(moment):
    return timezone.localtime(moment, CHINA).isoformat(timespec="seconds") if moment else None


def _group(inbound) -> str:
    return f"webhook:{inbound.system_id}:{inbound.pk}"


def _system_of(message):
    """The system a webhook message is for, from its group (`webhook:<system id>:<order id>`)."""
    _kind, system_id, _order = [*message.group.split(":"), "", ""][:3]
    return System.objects.filter(pk=int(system_id)).first() if system_id.isdigit() else None


def _tells(inbound) -> bool:
    """Whether `inbound`'s sender hears about it: a work order of a system with a webhook URL."""
    return inbound.kind == Inbound.Kind.ORDER and bool(inbound.system.webhook_url)


def order_event_queue(*, inbound, kind, status, at, data, event_key) -> Message | None:
    """Write one event of the order `inbound` to the outbox, in the caller's transaction; none
    when its system has no webhook URL. `event_key` makes it once only: the same event written
    again is the first row. The caller holds the lock that orders the order's events (the case
    row, or the inbound row), so `sequence` counts up without gaps."""
    system = inbound.system
    if not _tells(inbound):
        return None
    group = _group(inbound)
    key = f"webhook:{system.pk}:{event_key}"
    body = {
        "event_id": key,
        "sequence": Message.objects.filter(group=group).count() + 1,
        "type": kind,
        "order_id": inbound.external_id,
        "number": inbound.case.number if inbound.case_id else None,
        "status": status,
        "at": _local(at),
        "data": data,
    }
    return message_queue(
        channel=Message.Channel.WEBHOOK,
        to=system.webhook_url,
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        key=key,
        group=group,
    )


def order_opened(inbound):
    """The order became a case (at once, or placed by a dispatcher): the `opened` event."""
    if not _tells(inbound):
        return
    case = inbound.case
    data = {
        "category": {"code": case.category.code, "name": case.category.name},
        "grid": {"code": case.grid_id, "name": case.grid.name},
    }
    order_event_queue(
        inbound=inbound,
        kind="opened",
        status=case.status,
        at=inbound.decided_at or timezone.now(),
        data=data,
        event_key=f"order:{inbound.pk}:opened",
    )


def order_refused(inbound):
    """A dispatcher refused the held order: the `refused` event, with the reason."""
    if not _tells(inbound):
        return
    order_event_queue(
        inbound=inbound,
        kind="refused",
        status="refused",
        at=inbound.decided_at or timezone.now(),
        data={"reason": inbound.reason},
        event_key=f"order:{inbound.pk}:refused",
    )


def _unit_name(code):
    if not code:
        return None
    return Unit.objects.filter(code=code).values_list("name", flat=True).first() or code


def _event_data(event, kind) -> dict:
    data = event.data or {}
    if kind in ("dispatched", "signed"):
        answer = {"unit": _unit_name(data.get("unit", ""))}
        if kind == "dispatched":
            lead = (
                Assignment.objects.filter(case_id=event.case_id, role=Assignment.Role.LEAD)
                .order_by("-id")
                .values_list("resolve_due", flat=True)
                .first()
            )
            answer["deadline"] = _local(lead)
        return answer
    if kind == "returned":
        reason = data.get("reason", "")
        return {"reason": reason, "reason_text": str(ReturnReason(reason).label) if reason else "", "note": event.note}
    if kind == "extended":
        return {"deadline": _local(datetime.fromisoformat(data["until"])) if data.get("until") else None}
    if kind == "resolved":
        return {"result": event.note, "result_kind": data.get("result_kind", "")}
    if kind == "callback":
        keys = ("reached", "resolved", "satisfaction")
        return {name: data[name] for name in keys if name in data}
    if kind == "reopened":
        return {"note": event.note}
    if kind == "closed":
        reason = event.case.closure_reason or ("duplicate" if event.action == "merge" else "")
        answer = {"reason": reason, "note": event.note}
        if event.action == "merge":
            answer["merged_into"] = data.get("into", "")
        return answer
    return {}


def on_case_moved(sender, *, event, **kwargs):
    """The receiver of `cases.lifecycle.case_moved`: a move a work order's sender hears about
    becomes its event, in the move's transaction (which holds the case's lock)."""
    kind = EVENT_TYPES.get(event.action)
    if kind is None:
        return
    if event.action == "extend" and (event.data or {}).get("step") != "approved":
        return  # asked or refused: the deadline stays, nothing for the sender
    inbound = (
        Inbound.objects.filter(case_id=event.case_id, kind=Inbound.Kind.ORDER)
        .exclude(system__webhook_url="")
        .select_related("system")
        .first()
    )
    if inbound is None:
        return
    inbound.case = event.case
    order_event_queue(
        inbound=inbound,
        kind=kind,
        status=event.to_status,
        at=event.at,
        data=_event_data(event, kind),
        event_key=f"event:{event.pk}",
    )


def on_cases_moved(sender, *, events, **kwargs):
    """The receiver of `cases.lifecycle.cases_moved` (many moves at once): `on_case_moved` for
    each move a sender hears about (the deadline sweep's stages are none of them)."""
    for event in events:
        if event.action in EVENT_TYPES:
            on_case_moved(sender, event=event)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` with the system's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirects(HTTPRedirectHandler):
    """A redirect is not followed (urllib would resend a POST as a GET without its body): the
    webhook URL is wrong, and the answer says so."""

    def redirect_request(self, *args, **kwargs):
        return None


class WebhookBackend:
    """POSTs a webhook event (the outbox's `WEBHOOK_BACKEND`). 2xx: sent. 408, 429, 5xx, no
    answer within WEBHOOK_TIMEOUT, no connection: tried again with the outbox's back-off. Any
    other answer (a 4xx, a redirect): failed for good, shown in the delivery log, sent again from
    there once the receiver is fixed."""

    def send(self, message) -> Receipt:
        system = _system_of(message)
        if system is None:
            raise DeliveryRejected("the integrating system no longer exists", code="no_system")
        if not system.webhook_secret:
            # An administrator may still set it: tried again, not dropped.
            raise DeliveryFailed("the system has no webhook secret to sign with", code="no_secret")
        body = message.text.encode()
        timestamp = str(int(timezone.now().timestamp()))
        request = Request(
            message.to,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-Suqu-Event": message.key,
                "X-Suqu-Timestamp": timestamp,
                "X-Suqu-Signature": signature(system.webhook_secret, timestamp, body),
            },
        )
        try:
            with build_opener(_NoRedirects).open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
                status = response.status
        except HTTPError as error:
            status = error.code
            error.close()
        except (URLError, OSError, http.client.HTTPException) as error:
            raise DeliveryFailed(f"no answer from {message.to}: {error}", code="network") from error
        if 200 <= status < 300:
            return Receipt(provider_id="", code=f"HTTP {status}")
        reason = f"the receiver answered HTTP {status}"
        if status >= 500 or status in RETRIED_CLIENT_ERRORS:
            raise DeliveryFailed(reason, code=f"HTTP {status}")
        raise DeliveryRejected(reason, code=f"HTTP {status}")

    def lookup(self, message) -> None:
        return None  # a resend is harmless: the receiver drops a repeated event id
