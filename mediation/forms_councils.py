"""The 议事会 pages' forms: they parse, the services in mediation/councils.py decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from mediation.councils import DECISION_MAX, DESCRIPTION_MAX, MAX_OPTIONS, PLACE_MAX, TITLE_MAX
from volunteers.forms_tasks import PublishForm


class ProposeForm(forms.Form):
    """An item from a member, from a case (its number) or from a hotspot of the council's area."""

    SOURCES = [("member", _("a member's item")), ("case", _("a case")), ("hotspot", _("a hotspot"))]

    source = forms.ChoiceField(label=_("From"), choices=SOURCES, initial="member", widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX, required=False)
    description = forms.CharField(
        label=_("What it is about"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    options = forms.CharField(
        label=_("Options to vote on (one a line)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    case = forms.CharField(label=_("Case number"), max_length=20, required=False)
    hotspot = forms.ChoiceField(label=_("Hotspot"), required=False)

    def __init__(self, *args, hotspots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hotspot"].choices = [("", "—")] + [
            (spot.key, f"{spot.place_name} · {spot.category.name} ({spot.count})") for spot in hotspots
        ]
        for name, field in self.fields.items():
            if name != "source":
                field.widget.attrs.setdefault("class", "form-select" if name == "hotspot" else "form-control")

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source == "member" and not data.get("title"):
            self.add_error("title", _("Give the item a title."))
        if source == "case" and not data.get("case"):
            self.add_error("case", _("Enter the case number."))
        if source == "hotspot" and not data.get("hotspot"):
            self.add_error("hotspot", _("Choose a hotspot."))
        options = [line.strip() for line in (data.get("options") or "").splitlines() if line.strip()]
        if len(options) > MAX_OPTIONS:
            self.add_error("options", _("At most %(count)s options.") % {"count": MAX_OPTIONS})
        data["options"] = options
        return data


class MeetingForm(forms.Form):
    """The meeting: when, where, who came; and for each open item of the council its vote and
    decision (fields `item-<id>-for`, `-against`, `-abstain`, `-decision`, `-discussed`)."""

    held_on = forms.DateField(
        label=_("Held on"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    place = forms.CharField(
        label=_("Place"), max_length=PLACE_MAX, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    present = forms.MultipleChoiceField(label=_("Members present"), required=False, widget=forms.CheckboxSelectMultiple)
    published = forms.BooleanField(label=_("Publish the agenda and decisions to the residents"), required=False)

    def __init__(self, *args, members=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = [(str(m.pk), f"{m.name}（{m.get_role_display()}）") for m in members]
        self.items = list(items)
        count = {"min_value": 0, "required": False, "widget": forms.NumberInput(attrs={"class": "form-control"})}
        for item in self.items:
            prefix = f"item-{item.pk}"
            self.fields[f"{prefix}-discussed"] = forms.BooleanField(label=_("Discussed"), required=False)
            self.fields[f"{prefix}-for"] = forms.IntegerField(label=_("For"), **count)
            self.fields[f"{prefix}-against"] = forms.IntegerField(label=_("Against"), **count)
            self.fields[f"{prefix}-abstain"] = forms.IntegerField(label=_("Abstain"), **count)
            self.fields[f"{prefix}-decision"] = forms.CharField(
                label=_("Decision"),
                max_length=DECISION_MAX,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )

    def rows(self):
        """Each open item with its bound fields, for the template."""
        return [
            {
                "item": item,
                "discussed": self[f"item-{item.pk}-discussed"],
                "for": self[f"item-{item.pk}-for"],
                "against": self[f"item-{item.pk}-against"],
                "abstain": self[f"item-{item.pk}-abstain"],
                "decision": self[f"item-{item.pk}-decision"],
            }
            for item in self.items
        ]

    def discussed(self):
        """The service's `items`: the items ticked as discussed, with their votes."""
        data = self.cleaned_data
        return [
            {
                "item": item.pk,
                "votes_for": data.get(f"item-{item.pk}-for") or 0,
                "votes_against": data.get(f"item-{item.pk}-against") or 0,
                "votes_abstain": data.get(f"item-{item.pk}-abstain") or 0,
                "decision": data.get(f"item-{item.pk}-decision") or "",
            }
            for item in self.items
            if data.get(f"item-{item.pk}-discussed")
        ]


class DecisionCaseForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent"),
        to_field_name="code",
    )
    description = forms.CharField(label=_("Note"), max_length=DESCRIPTION_MAX, required=False)


class DecisionTaskForm(PublishForm):
    """A carried decision published as a volunteer task: the tasks page's form (任务发布,
    volunteers/forms_tasks.py) for the council's host unit, its places those of the council's
    community or street, without a case number (a decision is not a case)."""

    def __init__(self, *args, council, **kwargs):
        super().__init__(*args, publisher=council.unit, **kwargs)
        del self.fields["case"]
        area = council.region.code
        self.places = {code: place for code, place in self.places.items() if code.startswith(area)}
        self.fields["region"].choices = [(code, f"{place.name} ({code})") for code, place in self.places.items()]
        self.fields["region"].initial = area
