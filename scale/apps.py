from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScaleConfig(AppConfig):
    """The data generator and the benchmarks (`make bench`). Sits above every other app: it
    writes their tables in bulk and times their pages. Nothing imports it."""

    name = "scale"
    verbose_name = _("scale")
