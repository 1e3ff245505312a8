"""The overview's period (dashboards.views.overview): today, this week, this month, or custom dates."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.errors import InvalidInput
from feedback.metrics import Period


class PeriodForm(forms.Form):
    """Which days a dashboard covers: today, this week (Monday to today), this month (the 1st to
    today) or a custom range of Shanghai days. Always bound: an empty query string is this month.
    A bad range is an error on its field, never a crash. (dashboards.exports.period_from_params
    reads the same parameters for the children table's export.)"""

    PERIODS = (
        ("today", _("Today")),
        ("week", _("This week")),
        ("month", _("This month")),
        ("custom", _("Custom range")),
    )

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)

    def __init__(self, data=None, *, today=None):
        super().__init__(data)
        self.today = today or timezone.localdate()
        self.chosen: Period | None = None  # the days, once the form is valid
        # "from" is a Python keyword, so these two are added here rather than declared above.
        date = {"required": False, "widget": forms.DateInput(attrs={"type": "date"})}
        self.fields["from"] = forms.DateField(label=_("From"), **date)
        self.fields["to"] = forms.DateField(label=_("To"), **date)

    def clean_period(self):
        return self.cleaned_data["period"] or "month"

    def clean(self):
        data = super().clean()
        kind = data.get("period")
        if kind is None or self.errors:
            return data
        today = self.today
        if kind == "today":
            self.chosen = Period(today, today)
        elif kind == "week":
            self.chosen = Period(today - datetime.timedelta(days=today.weekday()), today)
        elif kind == "month":
            self.chosen = Period(today.replace(day=1), today)
        else:
            missing = [name for name in ("from", "to") if not data.get(name)]
            for name in missing:
                self.add_error(name, _("Choose a start and an end date."))
            if missing:
                return data
            try:
                self.chosen = Period.between(data["from"], data["to"])
            except InvalidInput as error:
                self.add_error(error.field if error.field in self.fields else None, str(error))
        return data

    def query(self) -> dict:
        """The period as query parameters, for the links that keep it (children, case lists)."""
        kind = self.cleaned_data["period"]
        if kind != "custom":
            return {"period": kind}
        return {"period": kind, "from": self.chosen.first.isoformat(), "to": self.chosen.last.isoformat()}
