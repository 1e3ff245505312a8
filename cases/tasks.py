from celery import shared_task

from cases.partitions import partitions_ensure


@shared_task(name="cases.ensure_partitions")
def ensure_partitions():
    """This month's partition and the next ones of every partitioned table, and the rows the
    default partition caught moved to a month of their own (daily is plenty)."""
    return partitions_ensure()
