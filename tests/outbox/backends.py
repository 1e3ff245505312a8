"""An SMS gateway for the outbox tests, behind SMS_BACKEND, standing for a vendor's API in this
process: fast, and able to die at the moments that matter.

`Provider` is the vendor's side. Like the real ones it keeps no idempotency key: the same message
handed over twice is texted twice, and `accepted` lists it twice.
"""

from outbox.backends import DeliveryFailed, Receipt, Report


class Provider:
    accepted: list[int] = []
    down = False
    # "before": the deliverer dies before the request leaves; "after": once the vendor took it,
    # before the answer is recorded.
    die: str | None = None
    # Run once inside the next lookup: what happens elsewhere while the vendor is slow to answer.
    while_looking_up = None

    @classmethod
    def reset(cls):
        cls.accepted, cls.down, cls.die, cls.while_looking_up = [], False, None, None


class ProcessKilled(BaseException):
    """The worker process dies (not an error any code would catch)."""


class ScriptedGateway:
    def send(self, message) -> Receipt:
        if Provider.die == "before":
            Provider.die = None
            raise ProcessKilled
        if Provider.down:
            raise DeliveryFailed("gateway unreachable", code="network")
        Provider.accepted.append(message.pk)
        if Provider.die == "after":
            Provider.die = None
            raise ProcessKilled
        return Receipt(provider_id=f"test-{message.pk}")

    def lookup(self, message) -> Receipt | None:
        if Provider.while_looking_up is not None:
            meanwhile, Provider.while_looking_up = Provider.while_looking_up, None
            meanwhile()
        if Provider.down:
            raise DeliveryFailed("gateway unreachable", code="network")
        return Receipt(provider_id=f"test-{message.pk}") if message.pk in Provider.accepted else None

    def reports(self, messages) -> list[Report]:
        return [Report(provider_id=m.provider_id, delivered=True, code="DELIVRD") for m in messages]
