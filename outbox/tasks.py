from celery import shared_task

from outbox.services import message_deliver, messages_deliver_due


@shared_task(name="outbox.deliver_message")
def deliver_message(message_id):
    """Send one message now. Safe to run twice: a sent row is skipped."""
    return message_deliver(message_id=message_id)


@shared_task(name="outbox.deliver_due")
def deliver_due():
    """Send whatever is due: messages whose first request was lost (Redis down), retries after a
    gateway failure, and night-time SMS in the morning. Safe to run beside itself."""
    return messages_deliver_due()
