"""Writing messages to the outbox and delivering them.

Exactly once, in three steps:

1. `message_queue` writes the row in the caller's transaction: the message exists if and only if
   the event that caused it committed. Its unique `key` makes a repeated event write nothing new.
2. After commit, a Celery task is asked to deliver it. If Redis is down that request is lost, which
   is harmless: `outbox.deliver_due` (beat, every minute) delivers every pending row that is due.
3. `message_deliver` locks the row (skipping one another process holds), sends it, and marks it
   sent in the same transaction. Two deliverers never both send a row: the second skips it while
   the first holds it, and finds it `sent` afterwards. A crash after the gateway accepted the
   message but before the commit leaves the row pending, so it is sent again later, with the same
   message id as the provider's idempotency key: a provider that honours it (and the recording
   backend, keyed on it) delivers it once.
"""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from outbox.backends import DeliveryFailed, sms_backend
from outbox.models import Message

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
# No SMS at night except emergencies (22:00–07:00 in Shanghai); they wait until 07:00.
QUIET_FROM = time(22)
QUIET_UNTIL = time(7)
# Retries of a failing gateway: 1, 2, 4, ... minutes, at most an hour apart; after the last attempt
# (about seven hours in all) the message is marked failed and stays for an administrator to see.
MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 3600
DUE_BATCH = 200


def quiet_until(moment: datetime) -> datetime | None:
    """07:00 of the morning that ends the quiet hours `moment` falls in, or None in the daytime."""
    local = moment.astimezone(TZ)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=TZ)


def _earliest_send(channel, emergency, moment):
    if channel == Message.Channel.SMS and not emergency:
        return quiet_until(moment) or moment
    return moment


def message_queue(*, channel, to, text, key, emergency=False, user=None) -> Message:
    """Put one SMS or email in the outbox, in the caller's transaction.

    Idempotent on `key`: when a message with that key exists, nothing is written and that row is
    returned. Delivery is requested after commit; a non-emergency SMS written at night waits for
    07:00. Keeps: one row per key, written if and only if the caller's transaction commits.
    """
    if channel not in Message.Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    now = timezone.now()
    with transaction.atomic():
        # ON CONFLICT DO NOTHING: a concurrent writer of the same key waits for the first one's
        # commit and then writes nothing, instead of failing the caller's whole transaction.
        Message.objects.bulk_create(
            [
                Message(
                    channel=channel,
                    to=to,
                    text=text,
                    key=key,
                    emergency=emergency,
                    user=user,
                    next_attempt_at=_earliest_send(channel, emergency, now),
                )
            ],
            ignore_conflicts=True,
        )
        message = Message.objects.get(key=key)
    if message.state == Message.State.PENDING and message.next_attempt_at <= now:
        # Asking twice for a pending row is harmless: delivery skips what is sent or locked.
        transaction.on_commit(lambda: _publish(message.pk))
    return message


def _publish(message_id):
    from outbox.tasks import deliver_message

    try:
        deliver_message.delay(message_id)
    except Exception:
        logger.warning("could not queue message %s; outbox.deliver_due will send it", message_id, exc_info=True)


def _retry_delay(attempts):
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS))


def _send(message):
    if message.channel == Message.Channel.SMS:
        sms_backend().send(message_id=message.pk, to=message.to, text=message.text)
        return
    subject, _newline, _rest = message.text.partition("\n")
    email = EmailMessage(
        subject=subject[:120],
        body=message.text,
        to=[message.to],
        # The id lets a mail relay or the recipient's client drop a repeated delivery.
        headers={"Message-ID": f"<outbox-{message.pk}@suqu>", "X-Suqu-Message": str(message.pk)},
    )
    try:
        email.send()
    except OSError as error:  # smtplib errors are OSErrors: the relay is down or refused
        raise DeliveryFailed(str(error)) from error


M = Message.State
# A message's moves, `cases.moves`' pattern (outbox sits below `cases`, so it keeps its own
# three lines): an attempt that failed stays pending or, at the cap, fails; a sent one is sent.
# Nothing else writes `state`; a new message starts pending.
MESSAGE_MOVES = {
    "retry": (frozenset({M.PENDING}), M.PENDING),
    "give_up": (frozenset({M.PENDING}), M.FAILED),
    "sent": (frozenset({M.PENDING}), M.SENT),
}


def _message_move(message, action, **changes) -> int:
    sources, target = MESSAGE_MOVES[action]
    return Message.objects.filter(pk=message.pk, state__in=sources).update(state=target, **changes)


def message_deliver(*, message_id) -> str:
    """Send one message if it is pending and due; answers what happened (sent, retry, failed,
    waits, skipped).

    Keeps: a row is handed to the gateway only while this transaction holds its lock, and marked
    sent in the same transaction, so no two deliverers send it at once and a sent row is never
    sent again.
    """
    with transaction.atomic():
        now = timezone.now()
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, state=Message.State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return "skipped"
        later = _earliest_send(message.channel, message.emergency, now)
        if later > now:
            # A retry that fell into the night waits for the morning like a new message.
            Message.objects.filter(pk=message.pk).update(next_attempt_at=later)
            return "waits"
        attempts = message.attempts + 1
        try:
            _send(message)
        except Exception as error:
            # A gateway error, or an adapter failing in a way we do not know: try again later, with
            # back-off; the row keeps the error for whoever looks at a failed message.
            failed = attempts >= MAX_ATTEMPTS
            logger.warning("message %s attempt %s failed: %s", message.pk, attempts, error, exc_info=True)
            _message_move(
                message,
                "give_up" if failed else "retry",
                attempts=attempts,
                next_attempt_at=now + _retry_delay(attempts),
                last_error=f"{type(error).__name__}: {error}"[:1000],
            )
            return "failed" if failed else "retry"
        _message_move(message, "sent", attempts=attempts, sent_at=now, last_error="")
    return "sent"


def messages_deliver_due(*, limit=DUE_BATCH) -> dict:
    """Deliver the pending messages that are due, the oldest first. Reads the partial index of
    pending rows, so its cost follows the number due, not the size of the outbox."""
    ids = list(
        Message.objects.filter(state=Message.State.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    outcomes = {}
    for message_id in ids:
        outcome = message_deliver(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
