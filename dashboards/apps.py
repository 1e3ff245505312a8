from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("dashboards")

    def ready(self):
        # A reclassified case moves its figures to its new category and grid: the days it counts
        # on are recomputed after the move commits (dashboards.services.on_case_moved).
        from cases.lifecycle import case_moved
        from dashboards.services import on_case_moved

        case_moved.connect(on_case_moved, dispatch_uid="dashboards.on_case_moved")
