"""The tasks' page forms: publishing (任务发布), the volunteer's check-in and check-out photo, and
the publisher's confirmation with the hours per volunteer. They parse; volunteers/tasks.py decides."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.validators import validate_photo
from grids.models import Region
from units.models import Pairing, Unit
from volunteers.models import Campaign, Team
from volunteers.tasks import MAX_SKILLS, MAX_WANTED

TITLE_MAX = 100
DESCRIPTION_MAX = 2000
ADDRESS_MAX = 200
SKILL_MAX = 20
CASE_NUMBER_MAX = 30

DATETIME_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def skills_parse(text) -> list[str]:
    """Skills one per line (or separated by commas or 、), each at most 20 characters."""
    skills = [part.strip() for part in re.split(r"[\n,，、;；]+", text or "") if part.strip()]
    if len(skills) > MAX_SKILLS:
        raise ValidationError(_("List at most %(max)d skills.") % {"max": MAX_SKILLS})
    too_long = [skill for skill in skills if len(skill) > SKILL_MAX]
    if too_long:
        raise ValidationError(
            _("A skill is at most %(max)d characters: %(skill)s") % {"max": SKILL_MAX, "skill": too_long[0][:30]}
        )
    return list(dict.fromkeys(skills))


def _datetime(label, required=True):
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_LOCAL,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def places_for(publisher) -> list[Region]:
    """The places a unit may publish a task in: a community and its grids; a street, its
    communities and their grids; a department the streets and communities of the district (a
    grid of a department's task is given by its code through the API)."""
    if publisher.kind in Unit.TERRITORIAL:
        rows = Region.objects.filter(code__startswith=publisher.region.code)
    else:
        rows = Region.objects.filter(level__in=(Region.Level.STREET, Region.Level.COMMUNITY))
    return list(rows.exclude(level=Region.Level.DISTRICT).order_by("code").only("code", "name", "level"))


def addressees_for(publisher) -> list[Unit]:
    """Who a task may be addressed to: the teams serving the unit's area (their area holds it or
    lies inside it; a few hundred teams in all, read at once), and its paired agencies."""
    teams = Team.objects.filter(unit__is_active=True).select_related("unit", "area").order_by("unit__code")
    agencies = Unit.objects.filter(kind=Unit.Kind.AGENCY, is_active=True).order_by("code")
    if publisher.kind not in Unit.TERRITORIAL:
        return [team.unit for team in teams] + list(agencies)
    code = publisher.region.code
    near = [team.unit for team in teams if code.startswith(team.area.code) or team.area.code.startswith(code)]
    paired = agencies.filter(pk__in=Pairing.objects.filter(community__code__startswith=code).values("agency"))
    return near + list(paired)


class PublishForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("What is to be done"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    region = forms.ChoiceField(label=_("Place"))
    address = forms.CharField(label=_("Address"), max_length=ADDRESS_MAX, required=False)
    starts = _datetime(_("Starts"))
    ends = _datetime(_("Ends"))
    deadline = _datetime(_("Sign up by (empty: the start)"), required=False)
    skills = forms.CharField(
        label=_("Skills wanted (one per line)"),
        max_length=MAX_SKILLS * (SKILL_MAX + 1),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    wanted = forms.IntegerField(label=_("People wanted"), min_value=1, max_value=MAX_WANTED, initial=5)
    emergency = forms.BooleanField(label=_("Emergency (bonus points)"), required=False)
    addressed_to = forms.ChoiceField(label=_("For"), required=False)
    case = forms.CharField(label=_("From case (number, optional)"), max_length=CASE_NUMBER_MAX, required=False)

    def __init__(self, *args, publisher, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {place.code: place for place in places_for(publisher)}
        self.fields["region"].choices = [(code, f"{place.name} ({code})") for code, place in self.places.items()]
        self.addressees = {unit.code: unit for unit in addressees_for(publisher)}
        self.fields["addressed_to"].choices = [("", _("Every team of the place"))] + [
            (code, unit.name) for code, unit in self.addressees.items()
        ]
        for field in self.fields.values():
            css = {forms.Select: "form-select", forms.CheckboxInput: "form-check-input"}.get(type(field.widget))
            field.widget.attrs.setdefault("class", css or "form-control")

    def clean_region(self):
        return self.places[self.cleaned_data["region"]]

    def clean_addressed_to(self):
        code = self.cleaned_data["addressed_to"]
        return self.addressees[code] if code else None

    def clean_skills(self):
        return skills_parse(self.cleaned_data["skills"])

    def clean_case(self):
        return self.cleaned_data["case"].strip()


class PhotoForm(forms.Form):
    """The optional photo of a check-in or check-out, checked by its content."""

    photo = forms.FileField(label=_("Photo (optional)"), required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            validate_photo(photo)
        return photo


class ConfirmForm(forms.Form):
    """One `hours_<volunteer id>` field per volunteer who came, filled with the default hours."""

    def __init__(self, *args, signups, cap, **kwargs):
        super().__init__(*args, **kwargs)
        for signup in signups:
            self.fields[f"hours_{signup.volunteer_id}"] = forms.DecimalField(
                label=signup.volunteer.name,
                min_value=0,
                max_value=cap,
                max_digits=5,
                decimal_places=2,
                initial=getattr(signup, "default_hours", None),
            )

    def hours(self) -> dict:
        return {int(name.removeprefix("hours_")): value for name, value in self.cleaned_data.items()}


def communities_for(publisher) -> list[Region]:
    """The communities a unit may run a campaign across: a street office's own, a department's any."""
    rows = Region.objects.filter(level=Region.Level.COMMUNITY)
    if publisher.kind in Unit.TERRITORIAL:
        rows = rows.filter(code__startswith=publisher.region.code)
    return list(rows.order_by("code").only("code", "name", "level"))


class CampaignForm(forms.Form):
    """A campaign (创城、创卫、防汛…): one task per community chosen, each wanting `wanted_each`."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    kind = forms.ChoiceField(label=_("Kind"), choices=Campaign.Kind.choices)
    communities = forms.MultipleChoiceField(label=_("Communities"), widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(
        label=_("What is to be done"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    starts = _datetime(_("Starts"))
    ends = _datetime(_("Ends"))
    deadline = _datetime(_("Sign up by (empty: the start)"), required=False)
    skills = forms.CharField(
        label=_("Skills wanted (one per line)"),
        max_length=MAX_SKILLS * (SKILL_MAX + 1),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    wanted_each = forms.IntegerField(label=_("People wanted in each community"), min_value=1, max_value=MAX_WANTED)
    emergency = forms.BooleanField(label=_("Emergency (bonus points)"), required=False)

    def __init__(self, *args, publisher, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {place.code: place for place in communities_for(publisher)}
        self.fields["communities"].choices = [(code, place.name) for code, place in self.places.items()]
        for name, field in self.fields.items():
            if name != "communities":
                css = {forms.Select: "form-select", forms.CheckboxInput: "form-check-input"}.get(type(field.widget))
                field.widget.attrs.setdefault("class", css or "form-control")

    def clean_communities(self):
        return [self.places[code] for code in self.cleaned_data["communities"]]

    def clean_skills(self):
        return skills_parse(self.cleaned_data["skills"])
