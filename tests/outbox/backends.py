"""SMS gateways for the outbox tests: adapters behind SMS_BACKEND, as a real provider would be.

`Provider` stands for the provider's side: what it has accepted, keyed by the idempotency key it
was given (the outbox message id), as a provider that honours idempotency keys keeps it.
"""

from outbox.backends import DeliveryFailed


class Provider:
    accepted: dict[int, tuple[str, str]] = {}
    handed_over = 0
    down = False
    crash_after_accepting = False


class ProcessKilled(BaseException):
    """The worker process dies (not an error any code would catch)."""


class IdempotentGateway:
    def send(self, *, message_id, to, text):
        if Provider.down:
            raise DeliveryFailed("gateway unreachable")
        Provider.handed_over += 1
        Provider.accepted.setdefault(message_id, (to, text))
        if Provider.crash_after_accepting:
            Provider.crash_after_accepting = False
            raise ProcessKilled
