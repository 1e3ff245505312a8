from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import phone_validator
from cases.errors import InvalidInput
from cases.forms import PhotosField
from cases.models import Category, Channel, Priority
from cases.validators import MAX_DESCRIPTION
from grids.models import Region
from intake.serializers import CHANNELS_WITHOUT_CALLER, COORDINATE_SYSTEMS
from intake.services import PlaceMismatch, call_place
from suggestions.models import SuggesterVersion


class CallForm(forms.Form):
    """The call-logging page. Field names match the API's, so the two doors read alike."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    caller_name = forms.CharField(label=_("Caller name"), max_length=50, required=False)
    caller_phone = forms.CharField(
        label=_("Caller phone"),
        max_length=20,
        required=False,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    caller_confidential = forms.BooleanField(label=_("Keep the caller's identity confidential"), required=False)
    description = forms.CharField(
        label=_("What happened"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("Keep the description under %(limit_value)d characters (now %(show_value)d).")},
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent"),
        to_field_name="code",
        error_messages={"invalid_choice": _("Choose a category from the list.")},
    )
    grid = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Region.objects.filter(level=Region.Level.GRID),
        to_field_name="code",
        required=False,  # or found from the point: see clean()
        error_messages={"invalid_choice": _("Unknown grid.")},
    )
    crs = forms.ChoiceField(
        label=_("Coordinates from"),
        choices=COORDINATE_SYSTEMS,
        required=False,
        initial="wgs84",
        help_text=_("Coordinates copied from 高德 or 腾讯 maps are GCJ-02; they are converted before saving."),
    )
    # Shown when the point lies in another grid than the one chosen: ticked, the grid chosen is kept.
    confirm_place = forms.BooleanField(label=_("Keep the grid I chose"), required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=3, max_value=54, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=73, max_value=136, required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", _("the category's default")), *Priority.choices], required=False
    )
    photos = PhotosField(label=_("Photos"), required=False)
    attach_to = forms.CharField(required=False, widget=forms.HiddenInput)
    answered = forms.BooleanField(label=_("Answered on the spot (直接办结)"), required=False)
    follow = forms.BooleanField(
        label=_("Tell me when it is dispatched, resolved and closed"), required=False, initial=True
    )
    # As long as a description may be, like the API's `answer` (CallCreateSerializer).
    answer = forms.CharField(
        label=_("The answer given"),
        max_length=MAX_DESCRIPTION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Generated when the page is drawn; a double click or a resubmission carries the same one.
    submission = forms.CharField(widget=forms.HiddenInput)
    # Filled by the suggestions panel when the category chosen came from a learned suggestion.
    suggester_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The grid the point lies in, once found; and, when it is not the grid chosen, that grid
        # (the page then shows a warning naming it, and the "keep the grid I chose" box).
        self.located_grid = None
        self.place_mismatch = None
        self.fields["category"].widget.choices = self._grouped_categories()
        # Fields drawn with {{ field }} get Bootstrap's full-width, touch-sized controls.
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            elif not isinstance(field.widget, forms.CheckboxInput | forms.HiddenInput):
                field.widget.attrs.setdefault("class", "form-control")

    def _grouped_categories(self):
        groups = {}
        for category in self.fields["category"].queryset.order_by("code"):
            groups.setdefault(category.parent.name, []).append((category.code, f"{category.code} {category.name}"))
        return [("", _("— choose —")), *groups.items()]

    def clean_suggester_version(self):
        """The version by its number. The page writes only numbers it was given, and versions are
        never deleted: an unknown one (typed by hand) is dropped rather than holding up the call."""
        number = self.cleaned_data.get("suggester_version")
        if number is None:
            return None
        return SuggesterVersion.objects.defer("model").filter(number=number).first()

    def clean(self):
        data = super().clean()
        if data.get("channel") and data["channel"] not in CHANNELS_WITHOUT_CALLER:
            for field in ("caller_name", "caller_phone"):
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, _("Required for a call from a resident."))
        if data.get("answered") and not data.get("answer", "").strip():
            self.add_error("answer", _("Write down the answer given."))
        if data.get("answered") and data.get("attach_to"):
            raise ValidationError(_("A call attached to an existing case cannot also be answered directly."))
        self._clean_place(data)
        return data

    def _clean_place(self, data):
        """The grid from the grid chosen and the point (intake.services.call_place); the point
        stored is WGS-84."""
        if any(name in self.errors for name in ("grid", "latitude", "longitude", "crs")):
            return
        try:
            place = call_place(
                grid=data.get("grid"),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                crs=data.get("crs") or "wgs84",
                confirm_place=data.get("confirm_place", False),
            )
        except PlaceMismatch as mismatch:
            self.place_mismatch = mismatch.located
            hint = _("Choose that grid, or tick “Keep the grid I chose” to save it where you chose.")
            self.add_error("grid", f"{mismatch} {hint}")
        except InvalidInput as error:
            self.add_error(error.field, str(error))
        else:
            self.located_grid = place.grid
            data.update(grid=place.grid, latitude=place.latitude, longitude=place.longitude)


class MergeForm(forms.Form):
    into = forms.CharField(label=_("Merge into case number"), max_length=20)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def clean_into(self):
        return self.cleaned_data["into"].strip().upper()
