from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SuggesterVersion(models.Model):
    """One trained suggester: the model fitted on the closed cases of its day, with what it was
    trained on and how well it did on the tenth held out. The newest row is the one in use.

    A row is written only once training has finished (a failed or refused training writes none),
    so there is no state to move. The fitted model is kept here, in PostgreSQL, so that every web
    process on every machine reads the same bytes; an older version's bytes are emptied once
    `KEPT_MODELS` newer ones exist (a version's row, its figures and the calls it helped stay).
    """

    KEPT_MODELS = 3

    number = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    trained_on = models.PositiveIntegerField(_("closed cases"))
    categories = models.PositiveIntegerField(_("categories"))
    held_out = models.PositiveIntegerField(_("cases held out"))
    # Measured on the held-out cases by a model fitted on the others, before the final fit on all.
    top1 = models.FloatField(_("top-1 accuracy (held out)"))
    top3 = models.FloatField(_("top-3 accuracy (held out)"))
    seconds = models.FloatField(_("training time (s)"))
    trigger = models.CharField(_("triggered by"), max_length=50, help_text=_("nightly, admin or command"))
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("triggered by (person)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    model = models.BinaryField(_("fitted model"), editable=False)
    model_size = models.PositiveIntegerField(_("model size (bytes)"))

    class Meta:
        verbose_name = _("suggester version")
        verbose_name_plural = _("suggester versions")
        ordering = ["-number"]

    def __str__(self):
        return f"v{self.number}"
