"""SMS backends, and the webhook backend. `SMS_BACKEND` names the SMS class; each vendor is an
adapter with the same three methods (see `docs/configuration.md` for choosing and configuring one):

- `send(message) -> Receipt`: hand one outbox message to the gateway. Raise `DeliveryFailed` for a
  failure worth retrying (the gateway is down, a timeout, throttling) and `DeliveryRejected` for
  one that will not change by trying again (a bad number, a template the vendor has not approved,
  an account without credit); the outbox retries the first and marks the message failed on the
  second.
- `lookup(message) -> Receipt | None`: did the gateway accept this message? Asked after a
  deliverer died between handing a message over and recording the answer, and before a message
  whose earlier attempt failed is sent again (a timeout may come after the gateway took it), so
  that the message is neither lost nor sent twice. Raise `DeliveryFailed` when the gateway cannot
  say now.
- `reports(messages) -> list[Report]`: the delivery reports (delivered to the handset or not) the
  gateway has for accepted messages; polled by `outbox.poll_reports`.

Real vendors are given the template id registered with them and the variables (`message.params`,
a list of [name, value] pairs in the template's order); the message's `text` is the same words
rendered here, for the record and for backends that send plain text.

`WEBHOOK_BACKEND` names the class that POSTs an integrating system's events (the message's `to` is
its URL, `text` the JSON body): `send(message) -> Receipt` with the same two exceptions, and
`lookup(message) -> None`, since a resend is harmless (the receiver drops a repeated event by its
id). It is a setting, not an import, because the outbox sits below the app that signs the events
(integrations.webhooks.WebhookBackend).
"""

import logging
import re
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

_MOBILE = re.compile(r"1[3-9]\d{9}")


def mainland_mobile(number: str) -> str | None:
    """The 11 digits of a mainland China mobile number (spaces, dashes and a +86 / 0086 / 86
    prefix allowed), or None for anything else: a landline, a short number, a foreign number."""
    digits = re.sub(r"[\s-]", "", number or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if _MOBILE.fullmatch(digits) else None


class DeliveryFailed(Exception):
    """The gateway did not take the message this time; the outbox tries again later."""

    def __init__(self, reason, code=""):
        super().__init__(reason)
        self.code = code


class DeliveryRejected(Exception):
    """The gateway refused the message for good (its code says why); it is not retried."""

    def __init__(self, reason, code=""):
        super().__init__(reason)
        self.code = code


class Receipt(NamedTuple):
    """The gateway's acceptance: its id for the message and its answer code."""

    provider_id: str
    code: str = "OK"


class Report(NamedTuple):
    """A delivery report: whether the handset got the message, the vendor's code, when.

    Matched to its message by `message_id` when the gateway gives it (Alibaba Cloud finds reports
    by our OutId, and a message recovered after a crash has no BizId), else by `provider_id`."""

    provider_id: str
    delivered: bool
    code: str
    at: datetime | None = None
    message_id: int | None = None


class RecordingSmsBackend:
    """The default, for `make run` and the tests: no provider. Records the message in `SentSms`
    (once per message id) and logs it; every recorded message counts as delivered."""

    def send(self, message) -> Receipt:
        from outbox.models import SentSms

        _row, created = SentSms.objects.get_or_create(
            message_id=message.pk, defaults={"to": message.to, "text": message.text}
        )
        if created:
            logger.info("SMS %s to %s: %s", message.pk, message.to, message.text)
        return Receipt(provider_id=f"recorded-{message.pk}")

    def lookup(self, message) -> Receipt | None:
        from outbox.models import SentSms

        if SentSms.objects.filter(message_id=message.pk).exists():
            return Receipt(provider_id=f"recorded-{message.pk}")
        return None

    def reports(self, messages) -> list[Report]:
        return [Report(provider_id=message.provider_id, delivered=True, code="DELIVRD") for message in messages]


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def webhook_backend():
    return import_string(settings.WEBHOOK_BACKEND)()
