from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = _("Escalation")

    def ready(self):
        from cases.partitions import archive_check

        archive_check("routing_alert")(alerts_of_running_assignments)


def alerts_of_running_assignments(cursor, partition, month):
    """The sweep reads an active assignment's alerts to know which stages have happened: archived,
    they would happen again. A month is archived once its alerts' assignments have all ended."""
    from routing.models import Assignment

    cursor.execute(
        f'SELECT count(DISTINCT a.assignment_id) FROM "{partition}" a '
        "JOIN routing_assignment s ON s.id = a.assignment_id WHERE s.state = ANY(%s)",
        [list(Assignment.ACTIVE_STATES)],
    )
    count = cursor.fetchone()[0]
    return f"alerts of {count} assignment(s) still running" if count else None
