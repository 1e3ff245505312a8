"""An SMS vendor for the fault tests, behind SMS_BACKEND in a Celery worker process the test
starts (the process then dies by SIGKILL, so the vendor's side must live outside it).

The folder named by SUQU_TEST_GATEWAY_DIR is the vendor. `texted` gets a line for every message
handed to it: like the real vendors (docs/configuration.md, "SMS gateway") it keeps no idempotency
key, so a message handed over twice is texted to the handset twice and is in `texted` twice. It
knows each message by our id (Alibaba Cloud's OutId), which is what `lookup` asks by. While the
file `hang` exists the vendor takes a message and then never answers, so the worker stays inside
`send`, after its claim committed and before it can record the answer, until it is killed.
"""

import json
import os
import time
from pathlib import Path

from outbox.backends import Receipt, Report


class Provider:
    """The vendor's side, read by the test."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def texted(self) -> list[tuple[int, str, str]]:
        """(message id, to, text) for every SMS the vendor sent to a handset, in order."""
        path = self.folder / "texted"
        if not path.exists():
            return []
        return [tuple(json.loads(line)) for line in path.read_text().splitlines()]

    def hang(self, on: bool):
        flag = self.folder / "hang"
        if on:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)


def _provider() -> Provider:
    return Provider(os.environ["SUQU_TEST_GATEWAY_DIR"])


def _receipt(message_id) -> Receipt:
    return Receipt(provider_id=f"file-{message_id}")


class FileGateway:
    def send(self, message) -> Receipt:
        provider = _provider()
        # One short append is atomic, and is on disk before the process can be killed.
        with open(provider.folder / "texted", "a") as log:
            log.write(json.dumps([message.pk, message.to, message.text], ensure_ascii=False) + "\n")
        while (provider.folder / "hang").exists():
            time.sleep(0.05)
        return _receipt(message.pk)

    def lookup(self, message) -> Receipt | None:
        texted = [message_id for message_id, _to, _text in _provider().texted()]
        return _receipt(message.pk) if message.pk in texted else None

    def reports(self, messages) -> list[Report]:
        texted = {message_id for message_id, _to, _text in _provider().texted()}
        return [Report(provider_id=m.provider_id, delivered=True, code="DELIVRD") for m in messages if m.pk in texted]
