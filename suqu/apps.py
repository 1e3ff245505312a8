from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuquConfig(AppConfig):
    name = "suqu"
    verbose_name = _("Platform")

    def ready(self):
        from suqu import forking

        forking.install()
