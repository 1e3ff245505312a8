from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self):
        # Every move of a case is offered to the notice table (notices/table.py), in the move's
        # transaction: the table, not each service, decides who hears about it.
        from cases.lifecycle import case_moved, cases_moved
        from notices.services import on_case_moved, on_cases_moved

        case_moved.connect(on_case_moved, dispatch_uid="notices.on_case_moved")
        cases_moved.connect(on_cases_moved, dispatch_uid="notices.on_cases_moved")
