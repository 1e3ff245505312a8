from django import forms
from django.utils.translation import gettext_lazy as _


class UrgeForm(forms.Form):
    note = forms.CharField(
        label=_("What you ask of the unit"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    unit = forms.CharField(label=_("Give the case to"), max_length=32)
    reason = forms.CharField(label=_("Why"), max_length=2000)


class DeadlineForm(forms.Form):
    until = forms.DateTimeField(label=_("New deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("Why"), max_length=2000)


class ConsoleReasonForm(forms.Form):
    """The reason typed in the dispatch console, held to the API's limit (DispatchSerializer): the
    console reads its other fields itself."""

    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False, strip=False)
