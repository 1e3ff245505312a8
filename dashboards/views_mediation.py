"""The figures of 评理说事 and 议事会 (`mediation.figures`, docs/mediation.md): a place's mediations
for a period — accepted, sessions, agreements, the success rate, referrals, broken agreements — by
the points' level, by kind and by street, and its councils' meetings, decisions and the cases they
opened. Who sees which place follows the other dashboards (`selectors.dashboard_roots_for`):
dispatchers and officials the district, a street office's staff their street, a committee's staff
their community; everyone else 404.

The page lives in dashboards, which imports `mediation.figures` (as the ranking and the exports
do), so the edge between the two apps runs one way only: mediation never imports dashboards."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from cases.replica import reads_replica
from dashboards import selectors
from dashboards.forms import PeriodForm
from grids.models import Region
from mediation.figures import figures, tables_of
from units.permissions import page_gate

# (key, label): the mediation figures, in the order of the cards and the tables' columns.
MEDIATION_COLUMNS = (
    ("accepted", gettext_lazy("Accepted")),
    ("sessions", gettext_lazy("Sessions held")),
    ("agreements", gettext_lazy("Agreements")),
    ("no_agreements", gettext_lazy("No agreement")),
    ("success_rate", gettext_lazy("Success rate")),
    ("referred_up", gettext_lazy("Referred up")),
    ("referred_out", gettext_lazy("Referred out")),
    ("broken", gettext_lazy("Agreements broken")),
)
DELIBERATION_COLUMNS = (
    ("meetings", gettext_lazy("Meetings held")),
    ("items_decided", gettext_lazy("Items decided")),
    ("cases_opened", gettext_lazy("Cases opened from decisions")),
    ("cases_closed", gettext_lazy("Of those, closed")),
)


def place_for(user, code) -> Region:
    """The district, street or community `code` inside the user's dashboards; 404 otherwise
    (alike for no such place and not theirs)."""
    region = Region.objects.filter(code=code).exclude(level=Region.Level.GRID).first()
    if region is None or not selectors.may_open(user, region):
        raise Http404
    return region


@login_required
@reads_replica
def mediation_index(request):
    """The user's own place: the district, or their street or community."""
    page_gate(request.user, "dashboards:mediation")
    roots = selectors.dashboard_roots_for(request.user)
    if not roots:
        raise Http404
    url = reverse("dashboards:mediation-place", args=[roots[0].code])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


def _cells(columns, values):
    return [{"key": key, "value": getattr(values, key) if values is not None else 0} for key, _l in columns]


@login_required
@reads_replica
def mediation_page(request, code):
    page_gate(request.user, "dashboards:mediation")
    region = place_for(request.user, code)
    form = PeriodForm(request.GET)
    context = {
        "region": region,
        "form": form,
        "selected": form.data.get("period") or "month",
        "columns": MEDIATION_COLUMNS,
        "council_columns": DELIBERATION_COLUMNS,
    }
    if form.is_valid():
        seen = figures(region=region, period=form.chosen)
        tables = tables_of(seen, region)
        context.update(
            period=form.chosen,
            period_query=urlencode(form.query()),
            cards=[{"key": key, "label": label, "value": getattr(seen.total, key)} for key, label in MEDIATION_COLUMNS],
            council_cards=[
                {"key": key, "label": label, "value": getattr(seen.deliberation, key)}
                for key, label in DELIBERATION_COLUMNS
            ],
            tables=[
                {
                    "id": name,
                    "title": title,
                    "rows": [(key, label, _cells(MEDIATION_COLUMNS, v)) for key, label, v in tables[name]],
                }
                for name, title in (
                    ("level", gettext_lazy("By level of the point")),
                    ("kind", gettext_lazy("By kind of dispute")),
                    ("street", gettext_lazy("By street")),
                )
                if tables[name]
            ],
            council_rows=[(key, label, _cells(DELIBERATION_COLUMNS, v)) for key, label, v in tables["council"]],
        )
    return render(request, "mediation/figures.html", context)
