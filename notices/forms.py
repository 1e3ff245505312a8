from django import forms
from django.utils.translation import gettext_lazy as _

from notices.kinds import SENT_KINDS, Kind


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(
        label=_("Show"),
        choices=[("", _("all")), ("unread", _("unread")), ("read", _("read"))],
        required=False,
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("every kind")), *Kind.choices], required=False)


class PreferencesForm(forms.Form):
    """A person's channels per kind of notice, and their quiet hours."""

    quiet_mode = forms.ChoiceField(
        label=_("Quiet hours"),
        choices=[
            ("district", _("the district's (no SMS at night)")),
            ("own", _("my own hours")),
            ("none", _("none: SMS at any hour")),
        ],
        widget=forms.RadioSelect,
    )
    quiet_from = forms.TimeField(label=_("No SMS from"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_until = forms.TimeField(label=_("until"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in SENT_KINDS:
            self.fields[f"{kind}__sms"] = forms.BooleanField(label=_("SMS"), required=False)
            self.fields[f"{kind}__email"] = forms.BooleanField(label=_("email"), required=False)
            self.fields[f"{kind}__sms"].kind_label = label

    def rows(self):
        return [(label, self[f"{kind}__sms"], self[f"{kind}__email"]) for kind, label in SENT_KINDS]

    def clean(self):
        data = super().clean()
        if data.get("quiet_mode") == "own":
            if not data.get("quiet_from") or not data.get("quiet_until"):
                raise forms.ValidationError(_("Give the time your quiet hours start and the time they end."))
            if data["quiet_from"] == data["quiet_until"]:
                self.add_error("quiet_until", _("Quiet hours must start and end at different times."))
        return data

    def channels(self):
        return {
            kind: {name for name in ("sms", "email") if self.cleaned_data.get(f"{kind}__{name}")}
            for kind, _label in SENT_KINDS
        }

    def quiet(self):
        """(from, until), None for no quiet hours, or "district" for the district's default."""
        mode = self.cleaned_data["quiet_mode"]
        if mode == "own":
            return (self.cleaned_data["quiet_from"], self.cleaned_data["quiet_until"])
        return None if mode == "none" else "district"
