from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from cases.errors import InvalidInput
from cases.forms import PhotosField
from cases.models import Category
from cases.validators import MAX_DESCRIPTION
from grids.models import Region
from residents.services import CODE_DIGITS, place_for

MAX_PHOTOS = 3

# A mainland mobile number: the code goes by SMS, so a landline cannot be confirmed.
mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter a mobile number of 11 digits, such as 13812345678."), code="invalid_mobile"
)


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,  # room for the spaces and dashes people type; 11 digits once they are gone
        error_messages={"required": _("Enter your mobile number.")},
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "numeric",
                "autocomplete": "tel",
                "class": "form-control form-control-lg",
            }
        ),
    )

    def clean_phone(self):
        phone = "".join(self.cleaned_data["phone"].replace("-", " ").split())
        mobile_validator(phone)
        return phone


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        min_length=CODE_DIGITS,
        max_length=CODE_DIGITS,
        validators=[RegexValidator(r"^\d+$", _("The code is 6 digits."))],
        error_messages={
            "required": _("Enter the code from the SMS."),
            "min_length": _("The code is 6 digits."),
            "max_length": _("The code is 6 digits."),
        },
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": r"\d*",
                "class": "form-control form-control-lg",
            }
        ),
    )


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class RequestForm(forms.Form):
    """The resident's request. The place is the point tapped on the map, or else the community
    chosen from the list (which works without JavaScript), or else the street chosen and the
    address (`residents.services.place_for`)."""

    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 5, "class": "form-control"}),
        error_messages={
            "required": _("Describe the problem."),
            "max_length": _("Keep the description under %(limit_value)d characters (now %(show_value)d)."),
        },
    )
    category = forms.ModelChoiceField(
        label=_("What kind of problem is it?"),
        queryset=Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent"),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": _("Choose a kind from the list.")},
    )
    street = RegionChoiceField(
        label=_("Street"),
        queryset=Region.objects.filter(level=Region.Level.STREET),
        to_field_name="code",
        required=False,
        help_text=_("Not sure of the community? The street and the address are enough."),
        error_messages={"invalid_choice": _("Choose a street from the list.")},
    )
    community = RegionChoiceField(
        label=_("Community or village"),
        queryset=Region.objects.filter(level=Region.Level.COMMUNITY),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": _("Choose a community from the list.")},
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=200,
        required=False,
        help_text=_("Road, building, unit: where exactly."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "street-address"}),
    )
    latitude = forms.DecimalField(
        max_digits=9, decimal_places=6, min_value=3, max_value=54, required=False, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        max_digits=9, decimal_places=6, min_value=73, max_value=136, required=False, widget=forms.HiddenInput
    )
    photos = PhotosField(
        label=_("Photos (at most 3)"),
        required=False,
    )
    caller_name = forms.CharField(
        label=_("Your name (optional)"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "name"}),
    )
    # Made when the form is drawn; a double submit carries the same one (one case, not two).
    submission = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.place = None
        self.hold = ""  # why the case will wait for a dispatcher (a place known by its street only)
        self.fields["category"].widget.attrs["class"] = "form-select"
        self.fields["category"].widget.choices = self._grouped_categories()
        self.fields["street"].widget.attrs["class"] = "form-select"
        self.fields["street"].widget.choices = [
            ("", _("— choose —")),
            *self.fields["street"].queryset.order_by("code").values_list("code", "name"),
        ]
        self.fields["community"].widget.attrs["class"] = "form-select"
        self.fields["community"].widget.choices = self._grouped_communities()
        self.fields["photos"].widget.attrs["class"] = "form-control"

    def _grouped_categories(self):
        groups = {}
        for category in self.fields["category"].queryset.order_by("code"):
            groups.setdefault(category.parent.name, []).append((category.code, category.name))
        return [("", _("Not sure / other")), *groups.items()]

    def _grouped_communities(self):
        streets = dict(Region.objects.filter(level=Region.Level.STREET).values_list("code", "name"))
        groups = {}
        for code, name in self.fields["community"].queryset.order_by("code").values_list("code", "name"):
            groups.setdefault(streets.get(code[:9], ""), []).append((code, name))
        return [("", _("— choose —")), *groups.items()]

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > MAX_PHOTOS:
            raise ValidationError(_("At most %(limit)s photos."), code="too_many_photos", params={"limit": MAX_PHOTOS})
        return photos

    def clean(self):
        data = super().clean()
        if any(name in self.errors for name in ("street", "community", "address", "latitude", "longitude")):
            return data
        try:
            self.place, self.hold = place_for(
                street=data.get("street"),
                community=data.get("community"),
                address=data.get("address", ""),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
        except InvalidInput as error:
            self.add_error(error.field if error.field in self.fields else "street", str(error))
        return data
