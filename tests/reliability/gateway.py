"""An SMS provider for the fault tests, behind SMS_BACKEND in a Celery worker process the test
starts (the process then dies by SIGKILL, so the provider's side must live outside it).

The folder named by SUQU_TEST_GATEWAY_DIR is the provider: `handed_over` gets a line for every
message handed to it, and `accepted/<message id>` is written once per idempotency key, as a
provider that honours the key (docs/escalation.md) keeps a message however often it is handed
over. While the file `hang` exists the provider accepts a message and then never answers, so the
worker stays inside `send`, holding the outbox row's lock, until it is killed.
"""

import os
import time
from pathlib import Path


class Provider:
    """The provider's side, read by the test."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def handed_over(self) -> list[int]:
        path = self.folder / "handed_over"
        return [int(line) for line in path.read_text().split()] if path.exists() else []

    def accepted(self) -> dict[int, tuple[str, str]]:
        folder = self.folder / "accepted"
        if not folder.exists():
            return {}
        return {int(path.name): tuple(path.read_text().split("\n", 1)) for path in folder.iterdir()}

    def hang(self, on: bool):
        flag = self.folder / "hang"
        if on:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)


class FileGateway:
    def send(self, *, message_id, to, text):
        folder = Path(os.environ["SUQU_TEST_GATEWAY_DIR"])
        # One short append is atomic, and is on disk before the process can be killed.
        with open(folder / "handed_over", "a") as log:
            log.write(f"{message_id}\n")
        accepted = folder / "accepted"
        accepted.mkdir(exist_ok=True)
        try:
            with open(accepted / str(message_id), "x") as kept:
                kept.write(f"{to}\n{text}")
        except FileExistsError:
            pass  # the same idempotency key again: the provider drops the repeat
        while (folder / "hang").exists():
            time.sleep(0.05)
