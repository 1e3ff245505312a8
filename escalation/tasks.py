from celery import shared_task

from escalation.services import deadlines_sweep, digests_send

# The names stay those the tasks had in routing, so the beat schedule and any queued message
# still find them.


@shared_task(name="routing.sweep_deadlines")
def sweep_deadlines():
    """Warnings, overdue alerts, chase notices, notices and supervision that have fallen due
    (一呼百应). Safe to run twice, beside itself and after a crash: every stage happens once."""
    return deadlines_sweep()


@shared_task(name="routing.send_digests")
def send_digests():
    """The daily digest to unit heads, at the time set in the admin (08:30 at first). Does nothing
    on days off or before its time; once per head and day however often it runs."""
    return digests_send()
