"""The mediators' pages' forms (评理说事): accept a walk-in, schedule a 评理会, record it, record the
agreement (调解协议) or its absence, upload the signed copy, break, refer, close, and a case's
"send to mediation". They parse only; `mediation/services.py` decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mediation.models import Kind, Mediation, Point, Session

TEXT_MAX = 4000
PARTY_SLOTS = 4  # the walk-in form's rows for parties: both sides, and up to two more


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                field.widget.attrs.setdefault("class", "form-check-input")
                continue
            if isinstance(field.widget, forms.CheckboxInput | forms.HiddenInput):
                continue
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            else:
                field.widget.attrs.setdefault("class", "form-control")


def _text(label, *, required=True, rows=3):
    return forms.CharField(
        label=label, max_length=TEXT_MAX, required=required, widget=forms.Textarea(attrs={"rows": rows}), strip=True
    )


class WalkInForm(_Styled):
    """A walk-in at a point: the point (when the person works at more than one), the kind, the
    facts, and the parties, at least two (both sides)."""

    point = forms.ModelChoiceField(label=_("Mediation point"), queryset=Point.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label=_("Kind of dispute"), choices=Kind.choices)
    facts = _text(_("Facts"), rows=4)

    def __init__(self, *args, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points
        for index in range(1, PARTY_SLOTS + 1):
            required = index <= 2
            self.fields[f"party{index}_name"] = forms.CharField(
                label=_("Party %(n)s: name") % {"n": index}, max_length=50, required=required
            )
            self.fields[f"party{index}_phone"] = forms.RegexField(
                label=_("Party %(n)s: phone") % {"n": index},
                regex=r"^[0-9+\- ]{5,20}$",
                max_length=20,
                required=False,
                error_messages={"invalid": _("Enter a phone number: digits only.")},
            )
            self.fields[f"party{index}_address"] = forms.CharField(
                label=_("Party %(n)s: address") % {"n": index}, max_length=200, required=False
            )
        for field in self.fields.values():
            if not isinstance(field.widget, forms.Select | forms.Textarea):
                field.widget.attrs.setdefault("class", "form-control")

    def party_rows(self):
        """The form's party fields by row, for the template."""
        return [
            (self[f"party{i}_name"], self[f"party{i}_phone"], self[f"party{i}_address"])
            for i in range(1, PARTY_SLOTS + 1)
        ]

    def clean(self):
        data = super().clean()
        parties = []
        for index in range(1, PARTY_SLOTS + 1):
            name = data.get(f"party{index}_name", "")
            phone, address = data.get(f"party{index}_phone") or "", data.get(f"party{index}_address", "")
            if not name and (phone or address):
                self.add_error(f"party{index}_name", _("Give the name of this party."))
            elif name:
                parties.append({"name": name, "phone": phone.replace(" ", ""), "address": address})
        data["parties"] = parties
        return data


class ScheduleForm(_Styled):
    at = forms.DateTimeField(label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Where"), max_length=200)
    mediators = forms.ModelMultipleChoiceField(label=_("Mediators"), queryset=None, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, mediation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediators"].queryset = mediation.point.mediators.filter(is_active=True)


class SessionForm(_Styled):
    """The record of a 评理会: who came (every party, at least one mediator: the service refuses
    otherwise), what each side said, the reasoning applied (说三事、评三理), the record."""

    present = forms.ModelMultipleChoiceField(
        label=_("Parties present"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    mediators = forms.ModelMultipleChoiceField(
        label=_("Mediators present"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    statements = _text(_("What each side said"), rows=4)
    reasoning = forms.MultipleChoiceField(
        label=_("Reasoning applied"),
        choices=Session.Reasoning.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick the reasoning applied: 情理, 德理 or 法理.")},
    )
    record = _text(_("Record"), required=False)

    def __init__(self, *args, mediation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = mediation.parties.all()
        self.fields["mediators"].queryset = mediation.point.mediators.filter(is_active=True)


class AgreementForm(_Styled):
    terms = _text(_("Terms agreed"), rows=5)
    follow_up_1 = forms.DateField(label=_("First follow-up"), widget=forms.DateInput(attrs={"type": "date"}))
    follow_up_2 = forms.DateField(
        label=_("Second follow-up"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        data["follow_up"] = sorted({d for d in (data.pop("follow_up_1", None), data.pop("follow_up_2", None)) if d})
        return data


class NoteForm(_Styled):
    note = _text(_("Note"), rows=2)


class OptionalNoteForm(_Styled):
    note = _text(_("Note"), required=False, rows=2)


class SignForm(forms.Form):
    scan = forms.FileField(label=_("Signed copy (a photo or a PDF)"))


class ReferForm(_Styled):
    """Up a level (community → street → district) or out (the court, a department: an outcome)."""

    UP, OUT = "up", "out"
    where = forms.ChoiceField(
        label=_("Refer"),
        choices=[(UP, _("up a level")), (OUT, _("out (the court, a department)"))],
        widget=forms.RadioSelect,
        initial=UP,
    )
    to = forms.CharField(label=_("Referred to"), max_length=100, required=False)
    note = _text(_("Why"), rows=2)

    def clean(self):
        data = super().clean()
        if data.get("where") == self.OUT and not data.get("to"):
            self.add_error("to", _("Say where it goes: the court, a department."))
        return data


def points_near(case):
    """The points a case may be sent to: its community's, its street's and the district's."""
    code = case.grid_id  # the grid's code (the foreign key is to the code)
    return Point.objects.filter(is_active=True, region__code__in=[code[:12], code[:9], code[:6]]).order_by(
        "-code"  # the community's first, then the street's and the district's
    )


class SendForm(_Styled):
    """A case's lead unit or a dispatcher sends it to a mediation point near it."""

    point = forms.ModelChoiceField(label=_("Mediation point"), queryset=Point.objects.none(), empty_label=None)
    note = _text(_("Note"), required=False, rows=2)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points_near(case)


STATE_FILTER = [("", _("open")), *Mediation.State.choices]
