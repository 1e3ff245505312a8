"""The joint meetings' forms (结邻共建 联席会议): the record of a meeting with its problems, and a
problem made a case or a task. They parse only; `volunteers/meetings.py` decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from grids.models import Region
from volunteers.meetings import PROBLEMS_MAX, TEXT_MAX, TITLE_MAX
from volunteers.needs import TEXT_MAX as NOTE_MAX
from volunteers.tasks import MAX_WANTED as WANTED_MAX

PROBLEM_ROWS = 5
LOCAL_MOMENT = {"type": "datetime-local", "class": "form-control form-control-sm"}


class MeetingForm(forms.Form):
    """The meeting itself; the agencies offered are the community's paired agencies only."""

    held_on = forms.DateField(
        label=_("Held on"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("Paired agencies present"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Only the agencies paired with the community may be ticked.")},
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = agencies


class ProblemForm(forms.Form):
    text = forms.CharField(
        label=_("Problem taken up"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
    agency = forms.ModelChoiceField(
        label=_("Taken up by"),
        queryset=None,
        required=False,
        empty_label=_("— nobody yet —"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("Only an agency paired with the community may take a problem up.")},
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


ProblemFormSet = forms.formset_factory(
    ProblemForm, extra=PROBLEM_ROWS, max_num=PROBLEMS_MAX, validate_max=True, absolute_max=PROBLEMS_MAX
)


class ProblemCaseForm(forms.Form):
    """A problem made a case: its category and a grid of the community."""

    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent"),
        to_field_name="code",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        error_messages={"invalid_choice": _("Choose a category from the list.")},
    )
    grid = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Region.objects.filter(level=Region.Level.GRID),
        to_field_name="code",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        error_messages={"invalid_choice": _("Unknown grid.")},
    )

    def __init__(self, *args, community=None, **kwargs):
        super().__init__(*args, **kwargs)
        if community is not None:
            self.fields["grid"].queryset = Region.objects.filter(
                level=Region.Level.GRID, code__startswith=community.code
            ).order_by("code")


class ProblemTaskForm(forms.Form):
    """A problem made a task addressed to the agency that took it up."""

    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        help_text=_("Empty: the problem's first words."),
    )
    starts = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs=LOCAL_MOMENT))
    ends = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs=LOCAL_MOMENT))
    wanted = forms.IntegerField(
        label=_("People wanted"),
        min_value=1,
        max_value=WANTED_MAX,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
    )
