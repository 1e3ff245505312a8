"""SMS backends. `SMS_BACKEND` names the class; a real provider is an adapter with the same `send`.

A backend sends one message and returns, or raises `DeliveryFailed` for a failure worth retrying
(the gateway is down, a timeout). It is given the outbox message id as an idempotency key: a
provider that honours it sends a message once however many times it is handed over, which is what
makes a crash between "the provider accepted it" and "we committed `sent`" harmless.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The gateway did not take the message; the outbox tries again later."""


class RecordingSmsBackend:
    """The default: no provider. Records the message in `SentSms` (once per message id) and logs it."""

    def send(self, *, message_id: int, to: str, text: str) -> None:
        from outbox.models import SentSms

        _row, created = SentSms.objects.get_or_create(message_id=message_id, defaults={"to": to, "text": text})
        if created:
            logger.info("SMS %s to %s: %s", message_id, to, text)


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
