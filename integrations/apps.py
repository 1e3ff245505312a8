from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        # A move of a work order's case becomes an event for its sender, written to the outbox in
        # the move's transaction (integrations/webhooks.py).
        from cases.lifecycle import case_moved, cases_moved
        from integrations.webhooks import on_case_moved, on_cases_moved

        case_moved.connect(on_case_moved, dispatch_uid="integrations.on_case_moved")
        cases_moved.connect(on_cases_moved, dispatch_uid="integrations.on_cases_moved")
