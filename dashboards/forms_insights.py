"""What the insights pages ask: which ranking, which hotspots, which month, and what to promote.
They parse; the figures and the promotion stay in `dashboards.rankings` and `dashboards.hotspots`."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboards import hotspots
from feedback import metrics

RANKING_LEVELS = [("street", _("Street offices")), ("department", _("Departments"))]
HOTSPOT_LEVELS = [("grid", _("Grid")), ("community", _("Community"))]


def current_month() -> str:
    return f"{timezone.localdate():%Y-%m}"


class MonthForm(forms.Form):
    """A month, YYYY-MM; the current month when empty."""

    month = forms.CharField(
        label=_("Month"), max_length=7, required=False, widget=forms.TextInput(attrs={"type": "month"})
    )

    def clean_month(self):
        return self.cleaned_data["month"].strip() or current_month()

    def period(self) -> metrics.Period:
        return metrics.Period.month(self.cleaned_data["month"])


class RankingForm(MonthForm):
    level = forms.ChoiceField(label=_("Ranking of"), choices=RANKING_LEVELS, required=False)

    field_order = ["level", "month"]

    def clean_level(self):
        return self.cleaned_data["level"] or "street"


class HotspotForm(forms.Form):
    """N cases of one category in M days in one grid or community; each has a default."""

    level = forms.ChoiceField(label=_("Place"), choices=HOTSPOT_LEVELS, required=False)
    n = forms.IntegerField(
        label=_("At least (cases)"), required=False, min_value=hotspots.MIN_THRESHOLD, max_value=hotspots.MAX_THRESHOLD
    )
    days = forms.IntegerField(
        label=_("In the last (days)"), required=False, min_value=hotspots.MIN_DAYS, max_value=hotspots.MAX_DAYS
    )

    def clean(self):
        data = super().clean()
        if "level" in data:
            data["level"] = data["level"] or hotspots.DEFAULT_LEVEL
            if "n" in data and data["n"] is None:
                data["n"] = hotspots.DEFAULT_THRESHOLD[data["level"]]
        if "days" in data and data["days"] is None:
            data["days"] = hotspots.DEFAULT_DAYS
        return data


class PromoteForm(forms.Form):
    """A hotspot turned into a proactive case: the place and category it was listed with, the
    grid for a community's hotspot (empty: the community's first grid), and a note."""

    code = forms.RegexField(regex=r"^\d{12}(\d{3})?$", max_length=15, widget=forms.HiddenInput)
    category = forms.CharField(max_length=10, widget=forms.HiddenInput)
    days = forms.IntegerField(
        min_value=hotspots.MIN_DAYS, max_value=hotspots.MAX_DAYS, required=False, widget=forms.HiddenInput
    )
    grid = forms.RegexField(label=_("Grid"), regex=r"^\d{15}$", required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_days(self):
        return self.cleaned_data["days"] or hotspots.DEFAULT_DAYS


def first_of_previous(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
