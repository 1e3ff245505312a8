from celery import shared_task

from residents.services import records_prune


@shared_task(name="residents.prune")
def prune():
    """Delete the codes and attempts that no limit reads any more (daily is enough)."""
    return records_prune()
