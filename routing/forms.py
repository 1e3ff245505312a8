from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from routing.pickers import PickerField, PickerWidget


class UrgeForm(forms.Form):
    note = forms.CharField(
        label=_("What you ask of the unit"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    unit = PickerField("unit", only="lead", label=_("Give the case to"), max_length=100)
    reason = forms.CharField(label=_("Why"), max_length=2000)


class DeadlineForm(forms.Form):
    until = forms.DateTimeField(label=_("New deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("Why"), max_length=2000)


class ConsoleReasonForm(forms.Form):
    """The reason typed in the dispatch console, held to the API's limit (DispatchSerializer): the
    console reads its other fields itself."""

    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False, strip=False)


class ConsoleDispatchForm(ConsoleReasonForm):
    """A case's dispatch from the console: the unit picked by name, initials or code (its code is
    what is posted once picked)."""

    unit = PickerField("unit", only="lead", label=_("Unit"), max_length=100)


class ConsoleBulkForm(ConsoleReasonForm):
    """The bulk dispatch: one unit for every ticked case, or none (each case's suggestion)."""

    unit = PickerField("unit", only="lead", label=_("Unit"), max_length=100, required=False)


class ReclassifyForm(forms.Form):
    """改分类, 改网格 on the case page (`routing.reclassify.case_reclassify`); field names are the
    API's. Codes are checked by the service, which names the field it refuses; the reason is
    asked for here too, unless the dispatcher only asks for a preview."""

    category = forms.CharField(label=_("Category"), max_length=10, required=False, widget=forms.Select)
    # The grid by name, initials or code (routing/pickers.py); the service checks the code.
    grid = PickerField(
        "place",
        only="grid",
        label=_("Grid"),
        max_length=100,
        required=False,
        widget=PickerWidget("place", "grid", attrs={"id": "reclassify-grid", "class": "form-control form-control-sm"}),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=3, max_value=54, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=73, max_value=136, required=False
    )
    reason = forms.CharField(label=_("Why"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    shorten_deadline = forms.BooleanField(
        label=_("Shorten running deadlines if the new category's are shorter"), required=False
    )
    seen_category = forms.CharField(required=False, max_length=10, widget=forms.HiddenInput)
    seen_grid = forms.CharField(required=False, max_length=15, widget=forms.HiddenInput)
    accept_proposal = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, preview=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.preview = preview
        self.fields["category"].widget.choices = self._grouped_categories()

    @staticmethod
    def _grouped_categories():
        """The kinds a case may be given (active, never a class), grouped by class: one query."""
        groups = {}
        kinds = Category.objects.filter(is_active=True, parent__isnull=False).order_by("code")
        for code, name, group in kinds.values_list("code", "name", "parent__name"):
            groups.setdefault(group, []).append((code, f"{code} {name}"))
        return list(groups.items())

    def clean(self):
        data = super().clean()
        if not self.preview and not data.get("accept_proposal") and not (data.get("reason") or "").strip():
            self.add_error("reason", self.fields["reason"].error_messages["required"])
        return data

    def service_arguments(self) -> dict:
        """The cleaned input as `case_reclassify` takes it. The address is left as it is when the
        form did not send it (the one-click acceptance of a unit's proposal); the full form always
        sends it, filled with the current one, so that emptying it clears it."""
        data = self.cleaned_data
        return {
            "category": data["category"],
            "grid": data["grid"],
            "address": data["address"] if "address" in self.data else None,
            "latitude": data["latitude"],
            "longitude": data["longitude"],
            "reason": data["reason"],
            "shorten_deadline": data["shorten_deadline"],
            "seen_category": data["seen_category"],
            "seen_grid": data["seen_grid"],
            "accept_proposal": data["accept_proposal"],
        }
