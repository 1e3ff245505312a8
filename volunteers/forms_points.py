"""The forms of the points pages: a redemption, a correction, a community's rewards, the month of
the rankings. They parse; the services in volunteers/points.py decide."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from volunteers.points import MAX_CORRECTION, MAX_REASON

MAX_STOCK = 100_000
MAX_COST = 100_000
MONTH = re.compile(r"^\d{4}-\d{2}$")
REGION = re.compile(r"^\d{6}(\d{3}){0,3}$")


def _number(label, low, high, **extra):
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        error_messages={
            "required": _("Enter a number."),
            "invalid": _("Enter a whole number."),
            "min_value": _("At least %(limit_value)s."),
            "max_value": _("At most %(limit_value)s."),
        },
        **extra,
    )


class RedeemForm(forms.Form):
    """The reward tapped, and the balance the page showed (a double tap is one redemption)."""

    reward = _number(_("Reward"), 1, 2**31 - 1)
    balance = _number(_("Balance shown"), -(2**31), 2**31 - 1)


class CorrectionForm(forms.Form):
    points = _number(
        _("Points"),
        -MAX_CORRECTION,
        MAX_CORRECTION,
        help_text=_("Negative to take points away, e.g. -10."),
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=MAX_REASON,
        error_messages={"required": _("Say why the points are corrected.")},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    balance = _number(_("Balance shown"), -(2**31), 2**31 - 1, widget=forms.HiddenInput)

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("A correction of 0 points changes nothing."))
        return points


class RewardForm(forms.Form):
    community = forms.ChoiceField(label=_("Community"))
    name = forms.CharField(
        label=_("Reward"),
        max_length=100,
        error_messages={"required": _("Name the reward.")},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    cost = _number(_("Points"), 1, MAX_COST, widget=forms.NumberInput(attrs={"class": "form-control"}))
    stock = _number(_("In stock"), 0, MAX_STOCK, widget=forms.NumberInput(attrs={"class": "form-control"}))

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [(region.code, region.name) for region in communities]
        self.fields["community"].widget.attrs["class"] = "form-select"


class RestockForm(forms.Form):
    """A reward's stock set to a figure, if it still holds the one the page showed (`was`)."""

    reward = _number(_("Reward"), 1, 2**31 - 1)
    stock = _number(_("In stock"), 0, MAX_STOCK)
    was = _number(_("Stock shown"), 0, 2**31 - 1)
    is_active = forms.BooleanField(label=_("Offered"), required=False)


class RankingForm(forms.Form):
    month = forms.CharField(label=_("Month"), max_length=7, required=False)
    region = forms.CharField(label=_("Area"), max_length=15, required=False)

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month and not MONTH.match(month):
            raise forms.ValidationError(_("Write the month as YYYY-MM, for example 2026-03."))
        return month

    def clean_region(self):
        region = self.cleaned_data["region"]
        if region and not REGION.match(region):
            raise forms.ValidationError(_("A region code has 6, 9, 12 or 15 digits."))
        return region


class VolunteerSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or phone"), max_length=50, required=False)
