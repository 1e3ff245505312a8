from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("dashboards")

    def ready(self):
        # A reclassified case moves its figures to its new category and grid: the days it counts
        # on are recomputed after the move commits (dashboards.services.on_case_moved).
        from cases.lifecycle import case_moved, cases_moved
        from dashboards.services import on_case_moved, on_cases_moved

        case_moved.connect(on_case_moved, dispatch_uid="dashboards.on_case_moved")
        cases_moved.connect(on_cases_moved, dispatch_uid="dashboards.on_cases_moved")

        # The rollups are the dashboards' source once a month of events is archived: a month is
        # archived only when the rollups of every day of it have been computed.
        from cases.partitions import archive_check

        archive_check("cases_caseevent")(days_without_rollups)


def days_without_rollups(cursor, partition, month):
    """The days of the month's events whose rollups were never computed (none covers the day)."""
    from django.conf import settings

    cursor.execute(
        f'SELECT count(*) FROM (SELECT DISTINCT (at AT TIME ZONE %s)::date AS day FROM "{partition}") AS d '
        "WHERE NOT EXISTS (SELECT FROM dashboards_rolluprun r WHERE r.first <= d.day AND r.last >= d.day)",
        [settings.TIME_ZONE],
    )
    count = cursor.fetchone()[0]
    return f"{count} day(s) of events whose rollups were never computed (manage.py rollups_refresh)" if count else None
