from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a periodic job ran, one row per job.

    Beat schedules `suqu.heartbeat` and a worker runs it, so a fresh `celery` row proves both are
    alive; `/healthz` reads its age.
    """

    name = models.CharField(_("name"), max_length=50, primary_key=True)
    at = models.DateTimeField(_("last beat"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
