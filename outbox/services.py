"""Writing messages to the outbox and delivering them.

Exactly once, in four steps:

1. `message_queue` writes the row in the caller's transaction: the message exists if and only if
   the event that caused it committed. Its unique `key` makes a repeated event write nothing new.
2. After commit, a Celery task is asked to deliver it. If Redis is down that request is lost, which
   is harmless: `outbox.deliver_due` (beat, every minute) delivers every pending row that is due.
3. `message_deliver` claims the row (pending → sending, committed, skipping a row another process
   holds), hands it to the gateway outside any transaction, and records the answer: sent (with the
   gateway's id), retry later, or failed for good. Two deliverers never both send a row: only one
   claim succeeds. A retry first asks the gateway whether the failed attempt reached it after all
   (a timeout can come after the gateway took the message), and sends only if it did not.
4. A deliverer that dies between the claim and the answer leaves the row `sending`. After
   `RECOVER_AFTER`, `messages_recover` asks the gateway whether it accepted the message (vendors do
   not honour idempotency keys, so a blind resend could text a resident twice): found → sent;
   not found → pending again, sent once more.

Messages of one `group` (an integrating system's webhook events of one order) go out in the order
they were written: a grouped message is not handed over while an older message of its group is
pending or being sent, so a retry holds back what came after it; once it is sent (or failed for
good) the next one of its group is asked for at once. A webhook event is not looked up before a
resend: the receiver drops a repeat by the event id the message carries.
"""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from outbox.backends import DeliveryFailed, DeliveryRejected, mainland_mobile, sms_backend, webhook_backend
from outbox.models import Message

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
# No SMS at night unless the recipient or the message says otherwise (22:00–07:00 in Shanghai by
# default; the notices app passes each person's own hours). Emergencies go out at once.
QUIET_DEFAULT = (time(22), time(7))
# Retries of a failing gateway: 1, 2, 4, ... minutes, at most an hour apart; after the last attempt
# (about seven hours in all) the message is marked failed and stays for an administrator to see.
MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 3600
DUE_BATCH = 200
# A claim older than this belongs to a deliverer that died (a send takes seconds, the adapters
# time out after SMS_TIMEOUT); vendors show an accepted message within it.
RECOVER_AFTER = timedelta(minutes=10)
# Delivery reports are asked for during three days after sending; later, nobody is waiting.
REPORTS_FOR = timedelta(days=3)


def quiet_until(moment: datetime, quiet=QUIET_DEFAULT) -> datetime | None:
    """The end of the quiet hours `moment` falls in, or None outside them (or with no quiet hours).
    `quiet` is (from, until); a window that crosses midnight (22:00–07:00) is the usual one."""
    if not quiet or quiet[0] is None or quiet[1] is None or quiet[0] == quiet[1]:
        return None
    start, end = quiet
    local = moment.astimezone(TZ)
    now = local.time()
    if start > end:  # crosses midnight
        if end <= now < start:
            return None
        day = local.date() if now < end else local.date() + timedelta(days=1)
    else:
        if not start <= now < end:
            return None
        day = local.date()
    return datetime.combine(day, end, tzinfo=TZ)


def _earliest_send(message, moment):
    if message.channel == Message.Channel.SMS and not message.emergency:
        return quiet_until(moment, (message.quiet_from, message.quiet_until)) or moment
    return moment


def message_queue(**fields) -> Message:
    """Put one SMS, email or webhook event in the outbox, in the caller's transaction (`messages_queue`)."""
    return messages_queue([fields])[0]


def messages_queue(messages: list[dict]) -> list[Message]:
    """Put SMS, emails and webhook events in the outbox, in the caller's transaction, in two
    queries however many.
    Each is a dict of `_message_row`'s keywords.

    Idempotent on `key`: when a message with that key exists, nothing is written and that row is
    returned. Delivery is requested after commit; a non-emergency SMS written in the recipient's
    quiet hours (`quiet`: (from, until), or None) waits for their end. Keeps: one row per key,
    written if and only if the caller's transaction commits.
    """
    now = timezone.now()
    rows = [_message_row(now, **fields) for fields in messages]
    # Without a savepoint inside the caller's transaction (two statements fewer): the rows are
    # the caller's, written or rolled back with it.
    with transaction.atomic(savepoint=False):
        # ON CONFLICT DO NOTHING: a concurrent writer of the same key waits for the first one's
        # commit and then writes nothing, instead of failing the caller's whole transaction.
        Message.objects.bulk_create(rows, ignore_conflicts=True)
        by_key = Message.objects.in_bulk([row.key for row in rows], field_name="key")
    written = [by_key[row.key] for row in rows]
    due = [
        message.pk for message in written if message.state == Message.State.PENDING and message.next_attempt_at <= now
    ]
    if due:
        # Asking twice for a pending row is harmless: delivery skips what is claimed or sent.
        transaction.on_commit(lambda: [_publish(message_id) for message_id in due])
    return written


def _message_row(
    now, *, channel, to, text, key, emergency=False, user=None, template="", params=(), quiet=QUIET_DEFAULT, group=""
) -> Message:
    if channel not in Message.Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    quiet_from, quiet_until_ = quiet if quiet and not emergency else (None, None)
    row = Message(
        channel=channel,
        to=to,
        text=text,
        key=key,
        emergency=emergency,
        user=user,
        template=template,
        params=[[name, str(value)] for name, value in params],
        quiet_from=quiet_from,
        quiet_until=quiet_until_,
        group=group,
    )
    row.next_attempt_at = _earliest_send(row, now)
    return row


def _publish(message_id):
    from outbox.tasks import deliver_message

    try:
        deliver_message.delay(message_id)
    except Exception:
        logger.warning("could not queue message %s; outbox.deliver_due will send it", message_id, exc_info=True)


def _retry_delay(attempts):
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS))


class ClaimLost(Exception):
    """The recovery sweep took the row back while this deliverer was slow: another sends it."""


def _still_claimed(message, claim) -> bool:
    return Message.objects.filter(pk=message.pk, state=Message.State.SENDING, claimed_at=claim).exists()


def _send(message, claim):
    """Hand the message to its gateway; answers the gateway's receipt. `message` is the row as it
    was before this attempt's claim, `claim` the moment of the claim."""
    if message.channel == Message.Channel.WEBHOOK:
        # No lookup before a resend: the receiver drops a repeated event by its id.
        return webhook_backend().send(message)
    if message.channel == Message.Channel.SMS:
        if mainland_mobile(message.to) is None:
            raise DeliveryRejected("not a mainland China mobile number", code="not_mobile")
        backend = sms_backend()
        if message.attempts:
            # An earlier attempt failed, perhaps only after the gateway had taken the message (its
            # answer timed out). Vendors do not drop a repeat, so ask before texting again.
            receipt = backend.lookup(message)
            if receipt is not None:
                return receipt
        if not _still_claimed(message, claim):
            # The lookup took long enough for the recovery sweep to hand the row to another
            # deliverer: sending now could text the resident twice.
            raise ClaimLost
        return backend.send(message)
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
    return None


M = Message.State
# A message's moves, `cases.moves`' pattern (outbox sits below `cases`, so it keeps its own
# lines). Nothing else writes `state`; a new message starts pending.
MESSAGE_MOVES = {
    "claim": (frozenset({M.PENDING}), M.SENDING),
    "sent": (frozenset({M.SENDING}), M.SENT),
    "retry": (frozenset({M.SENDING}), M.PENDING),
    "give_up": (frozenset({M.SENDING}), M.FAILED),
    "reject": (frozenset({M.SENDING}), M.FAILED),
    # A deliverer died mid-send and the gateway does not know the message: send it again.
    "recover": (frozenset({M.SENDING}), M.PENDING),
    "delivered": (frozenset({M.SENT}), M.DELIVERED),
    "undelivered": (frozenset({M.SENT}), M.UNDELIVERED),
    # An administrator sends a failed message again (the receiver was fixed).
    "resend": (frozenset({M.FAILED}), M.PENDING),
}


def _message_move(message_id, action, claim=None, **changes) -> int:
    """Move one message if it is in a state the move starts from (and, with `claim`, still under
    that claim: a slow deliverer's answer never lands on a claim that is not its own)."""
    sources, target = MESSAGE_MOVES[action]
    rows = Message.objects.filter(pk=message_id, state__in=sources)
    if claim is not None:
        rows = rows.filter(claimed_at=claim)
    return rows.update(state=target, **changes)


def _record_answer(message, attempts, now, send):
    """Call `send()` and record what the gateway answered on the row claimed at `now`; a
    grouped message that is done (sent, or failed for good) lets the next of its group go."""
    outcome = _answer(message, attempts, now, send)
    if message.group and outcome in ("sent", "rejected", "failed"):
        _publish_next_of(message.group)
    return outcome


def _answer(message, attempts, now, send):
    try:
        receipt = send()
    except ClaimLost:
        logger.warning("message %s: taken back by the recovery sweep before it was sent", message.pk)
        return "skipped"
    except DeliveryRejected as error:
        logger.warning("message %s rejected: %s (%s)", message.pk, error, error.code)
        _message_move(message.pk, "reject", claim=now, gateway_code=error.code[:64], last_error=str(error)[:1000])
        return "rejected"
    except Exception as error:
        # A gateway error, or an adapter failing in a way we do not know: try again later, with
        # back-off; the row keeps the error for whoever looks at a failed message.
        failed = attempts >= MAX_ATTEMPTS
        logger.warning("message %s attempt %s failed: %s", message.pk, attempts, error, exc_info=True)
        _message_move(
            message.pk,
            "give_up" if failed else "retry",
            claim=now,
            next_attempt_at=now + _retry_delay(attempts),
            gateway_code=getattr(error, "code", "")[:64],
            last_error=f"{type(error).__name__}: {error}"[:1000],
        )
        return "failed" if failed else "retry"
    _message_move(
        message.pk,
        "sent",
        claim=now,
        sent_at=timezone.now(),
        provider_id=(receipt.provider_id if receipt else "")[:64],
        gateway_code=(receipt.code if receipt else "")[:64],
        last_error="",
    )
    return "sent"


def _earlier_of_group():
    """Messages of the outer row's group, older than it, still to be sent."""
    return Message.objects.filter(
        group=OuterRef("group"), id__lt=OuterRef("id"), state__in=[Message.State.PENDING, Message.State.SENDING]
    ).exclude(group="")


def _behind(message) -> bool:
    return Message.objects.filter(
        group=message.group, id__lt=message.pk, state__in=[Message.State.PENDING, Message.State.SENDING]
    ).exists()


def _publish_next_of(group):
    """Ask for the oldest pending message of `group` now that the one before it is done."""
    following = (
        Message.objects.filter(group=group, state=Message.State.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        _publish(following)


def message_deliver(*, message_id) -> str:
    """Send one message if it is pending and due; answers what happened (sent, retry, failed,
    rejected, waits, behind, skipped).

    Keeps: a row is handed to the gateway only by the deliverer whose claim (pending → sending)
    committed, so no two deliverers send it; no transaction is held open while the gateway answers.
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
        if message.group and _behind(message):
            # An older message of its group is still to be sent: this one goes after it (it is
            # asked for when that one is done, and the due sweep leaves it alone until then).
            return "behind"
        later = _earliest_send(message, now)
        if later > now:
            # A retry that fell into the quiet hours waits for their end like a new message.
            Message.objects.filter(pk=message.pk).update(next_attempt_at=later)
            return "waits"
        attempts = message.attempts + 1
        _message_move(message.pk, "claim", attempts=attempts, claimed_at=now)
    return _record_answer(message, attempts, now, lambda: _send(message, now))


def messages_recover(*, now=None) -> dict:
    """Settle the messages a deliverer claimed and never answered for (it died mid-send): the
    gateway is asked whether it accepted each one. Accepted → sent, unknown → pending again (sent
    once more), the gateway cannot say → asked again on the next run."""
    now = now or timezone.now()
    outcomes = {}
    stale = Message.objects.filter(state=Message.State.SENDING, claimed_at__lt=now - RECOVER_AFTER)
    for message in stale.order_by("claimed_at", "id")[:DUE_BATCH]:
        try:
            receipt = sms_backend().lookup(message) if message.channel == Message.Channel.SMS else None
        except DeliveryFailed as error:
            logger.warning("message %s: the gateway cannot say whether it was sent: %s", message.pk, error)
            outcome = "unknown"
        else:
            if receipt is not None:
                _message_move(
                    message.pk,
                    "sent",
                    claim=message.claimed_at,
                    sent_at=now,
                    provider_id=receipt.provider_id[:64],
                    gateway_code=receipt.code[:64],
                    last_error="",
                )
                outcome = "found"
            else:
                # An email relay drops the repeat by its Message-ID; an SMS the gateway never took.
                _message_move(message.pk, "recover", claim=message.claimed_at, next_attempt_at=now)
                outcome = "resend"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def messages_poll_reports(*, now=None) -> dict:
    """Ask the SMS gateway for the delivery reports of the messages it accepted in the last
    `REPORTS_FOR`, and mark each delivered or undelivered."""
    now = now or timezone.now()
    waiting = list(
        Message.objects.filter(
            state=Message.State.SENT, channel=Message.Channel.SMS, sent_at__gte=now - REPORTS_FOR
        ).order_by("sent_at", "id")[:DUE_BATCH]
    )
    if not waiting:
        return {}
    try:
        reports = sms_backend().reports(waiting)
    except DeliveryFailed as error:
        logger.warning("the SMS gateway's delivery reports are not available now: %s", error)
        return {}
    by_id = {message.pk: message for message in waiting}
    by_provider_id = {message.provider_id: message for message in waiting if message.provider_id}
    # A gateway whose reports are a queue (Tencent Cloud) hands each report out once, whichever
    # message it is for: match those of sent messages outside this batch too, or they are lost.
    others = {r.provider_id for r in reports if r.message_id is None and r.provider_id not in by_provider_id}
    others.discard("")
    if others:
        by_provider_id.update(
            (message.provider_id, message)
            for message in Message.objects.filter(
                state=Message.State.SENT, channel=Message.Channel.SMS, provider_id__in=others
            )
        )
    outcomes = {}
    for report in reports:
        if report.message_id is not None:
            message = by_id.get(report.message_id)
        else:
            message = by_provider_id.get(report.provider_id)
        if message is None:
            continue
        action = "delivered" if report.delivered else "undelivered"
        moved = _message_move(message.pk, action, gateway_code=report.code[:64], reported_at=report.at or now)
        if moved:
            outcomes[action] = outcomes.get(action, 0) + 1
    return outcomes


def messages_deliver_due(*, limit=DUE_BATCH) -> dict:
    """Deliver the pending messages that are due, the oldest first. Reads the partial index of
    pending rows, so its cost follows the number due, not the size of the outbox. A grouped
    message behind an older one of its group is left out: a receiver down for hours holds back
    its own events, never the batch of everyone else's."""
    ids = list(
        Message.objects.filter(state=Message.State.PENDING, next_attempt_at__lte=timezone.now())
        .exclude(Exists(_earlier_of_group()))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    outcomes = {}
    for message_id in ids:
        outcome = message_deliver(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def messages_resend(*, ids) -> int:
    """Send failed messages again (an administrator, once the receiver is fixed): each is pending
    at once, with its attempts counted afresh. Answers how many were failed and now wait."""
    now = timezone.now()
    moved = []
    for message_id in ids:
        if _message_move(message_id, "resend", attempts=0, next_attempt_at=now):
            moved.append(message_id)
    if moved:
        transaction.on_commit(lambda: [_publish(message_id) for message_id in moved])
    return len(moved)
