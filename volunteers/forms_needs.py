"""The needs pages' forms (需求对接): post a need, offer to take one up, accept an offer, record the
result. They parse only; the services in `volunteers/needs.py` decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from volunteers.models import Need
from volunteers.needs import TEXT_MAX, TITLE_MAX


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            elif not isinstance(field.widget, forms.CheckboxInput | forms.HiddenInput | forms.RadioSelect):
                field.widget.attrs.setdefault("class", "form-control")


class NeedForm(_Styled):
    kind = forms.ChoiceField(label=_("What is needed"), choices=Need.Kind.choices, initial=Need.Kind.SERVICE)
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("Details"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What, for whom, when and where: what a unit needs to know to offer."),
    )


class OfferForm(_Styled):
    """An offer, for the unit chosen when the person works in more than one that may offer."""

    unit = forms.ModelChoiceField(label=_("On behalf of"), queryset=None, empty_label=None)
    note = forms.CharField(
        label=_("What your unit offers"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class AcceptForm(forms.Form):
    offer = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ResultForm(_Styled):
    result = forms.CharField(
        label=_("Result"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )
