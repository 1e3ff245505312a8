from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from cases.partitions import archive_check

        archive_check("cases_caseevent")(events_of_open_cases)


def events_of_open_cases(cursor, partition, month):
    """A month of events is archived only when every case it has events of is closed: an open
    case's page, and the moves still to come, read its whole timeline."""
    cursor.execute(
        f'SELECT count(DISTINCT e.case_id) FROM "{partition}" e JOIN cases_case c ON c.id = e.case_id '
        "WHERE c.status <> 'closed'"
    )
    count = cursor.fetchone()[0]
    return f"events of {count} case(s) not closed yet" if count else None
