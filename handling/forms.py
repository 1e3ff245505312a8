from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import PhotosField
from cases.models import Category
from handling.models import ContactMethod, ResultKind
from routing.models import ReturnReason
from routing.pickers import PickerField


class EmptyForm(forms.Form):
    """For actions that take no input (sign-for)."""


class ContactForm(forms.Form):
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    contacted_at = forms.DateTimeField(
        label=_("When (empty: now)"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    agreed = forms.CharField(label=_("What was agreed"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Progress note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    photos = PhotosField(label=_("Photos"), required=False)


class ResolveForm(forms.Form):
    result_kind = forms.ChoiceField(label=_("Outcome"), choices=ResultKind.choices)
    result = forms.CharField(
        label=_("Result (for cannot be solved: the reason)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = PhotosField(label=_("Evidence photos"), required=False)


def _kinds():
    """The categories a returning unit may propose (active kinds), read when the form is drawn."""
    kinds = Category.objects.filter(is_active=True, parent__isnull=False).order_by("code")
    return [("", _("— none —")), *((c.code, f"{c.code} {c.name}") for c in kinds)]


class ReturnForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnReason.choices)
    note = forms.CharField(label=_("Explanation"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    # With "wrongly classified": the category the unit proposes; the dispatcher accepts it in one click.
    proposed_category = forms.ChoiceField(
        label=_("The right category (if wrongly classified)"), choices=_kinds, required=False
    )


class AssistForm(forms.Form):
    # 吹哨: the unit by name (区城管局), initials or code, among the units the person may see.
    unit = PickerField("unit", label=_("Unit to call in"), max_length=100)
    note = forms.CharField(label=_("Help needed"), max_length=2000)
    due = forms.DateTimeField(
        label=_("Their deadline"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class ExtendForm(forms.Form):
    until = forms.DateTimeField(label=_("New deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("Why more time is needed"), max_length=2000)


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"), choices=[("1", _("approve")), ("0", _("refuse"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class PassDownForm(forms.Form):
    unit = forms.CharField(label=_("Community"), max_length=32)
    reason = forms.CharField(label=_("Note"), max_length=2000, required=False)


class ReportForm(forms.Form):
    text = forms.CharField(label=_("What your unit did"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
