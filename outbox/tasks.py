from celery import shared_task

from outbox.services import message_deliver, messages_deliver_due, messages_poll_reports, messages_recover


# Its result is kept (unlike `routing.dispatch_case`'s): it says what a redelivered task found
# ("skipped" for a message already sent), which tests/reliability/test_faults.py reads.
@shared_task(name="outbox.deliver_message")
def deliver_message(message_id):
    """Send one message now. Safe to run twice: a sent row is skipped."""
    return message_deliver(message_id=message_id)


@shared_task(name="outbox.deliver_due")
def deliver_due():
    """Send whatever is due: messages whose first request was lost (Redis down), retries after a
    gateway failure, and night-time SMS in the morning. Safe to run beside itself."""
    return messages_deliver_due()


@shared_task(name="outbox.recover")
def recover():
    """Settle messages a deliverer claimed and died with: ask the gateway, then mark them sent
    or send them again. Safe to run beside itself (each move is conditional)."""
    return messages_recover()


@shared_task(name="outbox.poll_reports")
def poll_reports():
    """Mark accepted SMS delivered or not, from the gateway's delivery reports."""
    return messages_poll_reports()
