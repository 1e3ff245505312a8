"""The forms of the booking pages: a place booked for a resident, a team's services, the team's
confirmations and records of service. They parse; volunteers/bookings.py decides."""

import datetime
import re

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from accounts.models import phone_validator
from volunteers.bookings import MAX_CAPACITY, day_choices

INT_MAX = 2**31 - 1
DIGITS = re.compile(r"[0-9]{1,10}")


def _day_label(day: datetime.date) -> str:
    return f"{formats.date_format(day, 'SHORT_DATE_FORMAT')} {formats.date_format(day, 'l')}"


class BookingForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the services listed."), "required": _("Choose a service.")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    day = forms.TypedChoiceField(
        label=_("Day"),
        coerce=datetime.date.fromisoformat,
        error_messages={"invalid_choice": _("Choose one of the days listed.")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    resident_name = forms.CharField(
        label=_("Resident's name"),
        max_length=50,
        error_messages={"required": _("Give the resident's name.")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    resident_phone = forms.CharField(
        label=_("Resident's phone"),
        max_length=20,
        error_messages={"required": _("Give the resident's phone.")},
        widget=forms.TextInput(attrs={"class": "form-control", "type": "tel", "inputmode": "tel"}),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=200,
        required=False,
        help_text=_("Where to deliver, for a delivery."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, services, phone_fixed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda s: f"{s.team.unit.name} · {s.name}"
        self.fields["day"].choices = [(day.isoformat(), _day_label(day)) for day in day_choices()]
        if phone_fixed:
            # The resident's own page: the number is the one confirmed by SMS.
            del self.fields["resident_phone"]
            self.fields["resident_name"].label = _("Your name")

    def clean_resident_phone(self):
        phone = "".join(self.cleaned_data["resident_phone"].split())
        phone_validator(phone)
        return phone


class CancelForm(forms.Form):
    booking = forms.IntegerField(min_value=1, max_value=INT_MAX)


class ServiceForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=None, empty_label=None, widget=forms.Select(attrs={"class": "form-select"})
    )
    name = forms.CharField(
        label=_("Service"),
        max_length=100,
        error_messages={"required": _("Name the service.")},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    capacity = forms.IntegerField(
        label=_("Residents a day"),
        min_value=1,
        max_value=MAX_CAPACITY,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class ServiceChangeForm(forms.Form):
    service = forms.IntegerField(min_value=1, max_value=INT_MAX)
    capacity = forms.IntegerField(label=_("Residents a day"), min_value=1, max_value=MAX_CAPACITY)
    is_active = forms.BooleanField(label=_("Takes bookings"), required=False)


class TeamActionForm(forms.Form):
    """Bookings of one service ticked on the team's page: confirm them, record them served by one
    volunteer, or cancel them."""

    ACTIONS = (("confirm", _("Confirm")), ("done", _("Record served")), ("cancel", _("Cancel")))

    service = forms.IntegerField(min_value=1, max_value=INT_MAX)
    served_by = forms.IntegerField(min_value=1, max_value=INT_MAX, required=False)
    action = forms.ChoiceField(choices=ACTIONS)
    day = forms.DateField(required=False)

    def clean(self):
        data = super().clean()
        # The ticked boxes: any number here, the service checks they are this service's bookings.
        raw = self.data.getlist("booking") if hasattr(self.data, "getlist") else []
        if not all(DIGITS.fullmatch(value) and 0 < int(value) <= INT_MAX for value in raw):
            raise forms.ValidationError(_("Tick the bookings listed."))
        data["booking"] = sorted({int(value) for value in raw})
        return data


class DayForm(forms.Form):
    day = forms.DateField(required=False)
