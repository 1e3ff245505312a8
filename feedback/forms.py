"""The inputs of the end of the loop. They parse and shape; the services decide (a verdict that
needs an answer, an exemption that needs a note), and their refusals come back on these fields."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms import PhotosField
from cases.models import Case
from feedback.metrics import Period
from feedback.models import Exemption, Satisfaction

YES_NO = [("1", _("yes")), ("0", _("no"))]


def _yes(value):
    return value == "1"


def _yes_no(label, *, required=True):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=_yes,
        empty_value=None,
        required=required,
        widget=forms.RadioSelect,
    )


SATISFACTION_ERRORS = {"invalid_choice": _("Choose satisfied, basically satisfied or unsatisfied.")}


class CallbackForm(forms.Form):
    """One callback (回访). The verdict fields count only when the resident was reached, the
    outcome only when the verdict is negative: the page hides the others, the view drops them."""

    class Outcome:
        REOPEN = "reopen"
        EXEMPT = "exempt"

    reached = _yes_no(_("Was the resident reached?"))
    resolved = _yes_no(_("Does the resident consider the problem solved?"), required=False)
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"),
        choices=Satisfaction.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages=SATISFACTION_ERRORS,
    )
    comment = forms.CharField(
        label=_("What the resident said"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.ChoiceField(
        label=_("If the resident is not content"),
        choices=[
            (Outcome.REOPEN, _("reopen the case to the unit (redo)")),
            (Outcome.EXEMPT, _("close it with an exemption")),
        ],
        initial=Outcome.REOPEN,
        required=False,
        widget=forms.RadioSelect,
    )
    exemption = forms.ChoiceField(
        label=_("Exemption reason"), choices=[("", _("— choose —")), *Exemption.choices], required=False
    )
    note = forms.CharField(
        label=_("Why the case is exempted"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        # An exemption chosen without a reason would otherwise reopen the case instead.
        if self._exempting(data) and not data.get("exemption") and "exemption" not in self.errors:
            self.add_error("exemption", _("Choose a reason for the exemption from the list."))
        return data

    def _exempting(self, data):
        """Whether the dispatcher closes with an exemption: asked for, and the verdict is negative
        (for a content resident the outcome is hidden on the page and does not count)."""
        negative = data.get("resolved") is False or data.get("satisfaction") == Satisfaction.UNSATISFIED
        return bool(data.get("reached")) and negative and data.get("outcome") == self.Outcome.EXEMPT

    def answer(self) -> dict:
        """The keyword arguments of `services.case_callback` for what was entered."""
        data = self.cleaned_data
        if not data["reached"]:
            return {"reached": False, "comment": data["comment"]}
        answer = {
            "reached": True,
            "resolved": data["resolved"],
            "satisfaction": data["satisfaction"],
            "comment": data["comment"],
        }
        if self._exempting(data):
            answer.update(exemption=data["exemption"], note=data["note"])
        return answer


class VerifyForm(forms.Form):
    """On-site verification (核查) by the grid worker, on a phone."""

    confirmed = _yes_no(_("Is the problem solved on site?"))
    photos = PhotosField(label=_("Photos of the site"), required=False)
    note = forms.CharField(
        label=_("What you saw"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the case is reopened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=[(r.value, r.label) for r in Case.INVALID_CLOSURE_REASONS])
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ExemptCloseForm(forms.Form):
    """Closing a resolved case the resident is not content with (免责): a reason and a note."""

    reason = forms.ChoiceField(label=_("Exemption reason"), choices=Exemption.choices)
    note = forms.CharField(
        label=_("Why the case is exempted"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResidentAnswerForm(forms.Form):
    """The resident's own verdict through their link: two questions and a comment."""

    resolved = _yes_no(_("Is your problem solved?"))
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you with the handling?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": SATISFACTION_ERRORS["invalid_choice"], **SATISFACTION_ERRORS},
    )
    comment = forms.CharField(
        label=_("Anything you would like to add (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


LEVEL_CHOICES = [
    ("street", _("streets")),
    ("community", _("communities")),
    ("grid", _("grids")),
    ("unit", _("units")),
]


class MetricsForm(forms.Form):
    """Which table: a level and a month (YYYY-MM, the current month when empty)."""

    level = forms.ChoiceField(label=_("Level"), choices=LEVEL_CHOICES, required=False)
    month = forms.CharField(
        label=_("Month"), max_length=7, required=False, widget=forms.TextInput(attrs={"type": "month"})
    )

    def __init__(self, data=None, *, default_level="street"):
        super().__init__(data)
        self.default_level = default_level

    def clean_level(self):
        return self.cleaned_data["level"] or self.default_level

    def clean_month(self):
        return self.cleaned_data["month"].strip() or current_month()

    def period(self) -> Period:
        return Period.month(self.cleaned_data["month"])


def current_month(today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    return f"{today:%Y-%m}"
