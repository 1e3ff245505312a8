"""The insights pages: the monthly ranking of units (排行, 红榜/黑榜), the hotspots (未呼先应)
and their promotion to proactive cases, and the month's most frequent problems (每月一题).

Dispatchers and officials see all of it; street and community staff see the hotspots of their
own area; everyone else gets 404, as for a page that does not exist.
"""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput
from cases.http import shows_domain_errors
from cases.models import Case, Category, Channel
from cases.replica import reads_replica
from dashboards import hotspots as hotspot_rules
from dashboards import selectors
from dashboards.forms_insights import HotspotForm, MonthForm, PromoteForm, RankingForm
from dashboards.rankings import ranking
from grids.models import Region
from mediation.figures import unit_figures as mediation_unit_figures
from units.permissions import may_promote_hotspot, page_gate
from units.selectors import postings_for

# (rate, label, lower is better): the ranking's rate columns, in the metrics page's order.
RATE_COLUMNS = (
    ("response_rate", gettext_lazy("Response rate"), False),
    ("resolution_rate", gettext_lazy("Resolution rate"), False),
    ("satisfaction_rate", gettext_lazy("Satisfaction rate"), False),
    ("on_time_rate", gettext_lazy("On-time rate"), False),
    ("return_rate", gettext_lazy("Return rate"), True),
    ("redo_rate", gettext_lazy("Redo rate"), True),
)


def _field_of(form, error):
    name = getattr(error, "field", None)
    return name if name in form.fields else None


@login_required
@reads_replica
def ranking_page(request):
    """The month's ranking of the street offices or the departments, with the change from last
    month, the red and black lists and the exemptions beside each score."""
    page_gate(request.user, "dashboards:ranking")
    form = RankingForm(request.GET)
    result = None
    if form.is_valid():
        try:
            result = ranking(form.cleaned_data["level"], form.cleaned_data["month"])
        except InvalidInput as error:
            form.add_error(_field_of(form, error), str(error))
    context = {"form": form, "result": result, "rate_columns": RATE_COLUMNS}
    if result is not None:
        # 评理说事 and 议事会 in each unit's detail: a street office's street, another unit's points.
        mediation = mediation_unit_figures(units=[row.unit for row in result.rows], period=result.period)
        for row in result.rows:
            row.mediation = mediation[row.unit.pk]
            row.rate_cells = [
                {"name": name, "value": getattr(row.figures, name), "change": row.change[name], "lower": lower}
                for name, _label, lower in RATE_COLUMNS
            ]
        month = f"{result.period.first:%Y-%m}"
        context["exemptions_url"] = (
            f"{reverse('feedback:metrics')}?{urlencode({'level': 'unit', 'month': month})}#exemptions-title"
        )
        context["chart"] = {
            "label": _("Composite score"),
            "previous_label": _("Same days last month"),
            "units": [row.name for row in result.rows if row.composite is not None],
            "scores": [round(row.composite, 1) for row in result.rows if row.composite is not None],
            "previous": [
                None if row.previous.composite is None else round(row.previous.composite, 1)
                for row in result.rows
                if row.composite is not None
            ],
        }
    return render(request, "dashboards/ranking.html", context)


def _hotspot_prefixes(user):
    """None for district-wide people; otherwise the codes of their dashboard roots (their street
    or community). 404 for those who have no dashboard."""
    if postings_for(user).district_wide:
        return None
    roots = selectors.dashboard_roots_for(user)
    if not roots:
        raise Http404
    return [root.code for root in roots]


@login_required
@reads_replica
def hotspots_page(request):
    """The hotspots of the last M days at the grid or the community level, each with its daily
    trend, a link to its cases and, for dispatchers and officials, the button that turns it into
    a proactive case (or the proactive case that already answers it)."""
    user = request.user
    prefixes = _hotspot_prefixes(user)
    form = HotspotForm(request.GET)
    rows, settings, cut = [], None, False
    may_promote = may_promote_hotspot(user)
    limit = hotspot_rules.LIMIT
    if form.is_valid():
        settings = form.cleaned_data
        rows = hotspot_rules.hotspots(
            level=settings["level"], threshold=settings["n"], days=settings["days"], prefixes=prefixes, limit=limit + 1
        )
        # One more than shown, to say when the list was cut rather than pass it off as all.
        cut, rows = len(rows) > limit, rows[:limit]
        period = hotspot_rules.window(settings["days"])
        _add_case_links(rows, period)
        if may_promote:
            _add_promotions(rows, settings["days"])
            _add_grid_choices(rows)
    context = {
        "form": form,
        "settings": settings,
        "rows": rows,
        "cut": cut,
        "limit": limit,
        "may_promote": may_promote,
        "defaults": hotspot_rules.DEFAULT_THRESHOLD,
        "default_days": hotspot_rules.DEFAULT_DAYS,
        "chart": {"trends": [row.trend for row in rows], "label": _("Cases received per day")},
    }
    return render(request, "dashboards/hotspots.html", context)


def _add_case_links(rows, period):
    cases = reverse("cases:list")
    for row in rows:
        query = {
            "region": row.code,
            "category": row.category.code,
            "created_from": period.first.isoformat(),
            "created_to": period.last.isoformat(),
        }
        row.cases_url = f"{cases}?{urlencode(query)}"


def _add_promotions(rows, days):
    """The proactive case already answering each hotspot, in one query for all of them (the rule
    of `hotspots.promoted_case`)."""
    if not rows:
        return
    since = timezone.now() - datetime.timedelta(days=days)
    area = Q(pk__in=[])
    for code in {row.code for row in rows}:
        area |= Q(grid__code__startswith=code)
    proactive = list(
        Case.objects.filter(channel=Channel.PROACTIVE, category__in={row.category.pk for row in rows})
        .filter(area)
        .filter(Q(created_at__gte=since) | Q(status__in=Case.OPEN_STATUSES))
        .order_by("-created_at")
        .values_list("number", "grid_id", "category_id")
    )
    for row in rows:
        row.promoted = next(
            (
                number
                for number, grid, category in proactive
                if category == row.category.pk and grid.startswith(row.code)
            ),
            None,
        )


def _add_grid_choices(rows):
    """A community's hotspot goes to one of its grids: the grids of every listed community, in
    one query."""
    communities = {row.code for row in rows if row.level == "community"}
    if not communities:
        return
    area = Q(pk__in=[])
    for code in communities:
        area |= Q(code__startswith=code)
    grids = list(Region.objects.filter(area, level=Region.Level.GRID).order_by("code").values_list("code", "name"))
    for row in rows:
        if row.level == "community":
            row.grids = [(code, name) for code, name in grids if code.startswith(row.code)]


@login_required
@require_POST
@shows_domain_errors
def hotspot_promote(request):
    """Turn a hotspot into a proactive case; the service checks the role and the once-in-M-days
    rule, and the case is dispatched by the routing rules after the commit."""
    page_gate(request.user, "dashboards:hotspot-promote")
    form = PromoteForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(" ".join(str(error) for errors in form.errors.values() for error in errors))
    data = form.cleaned_data
    category = Category.objects.filter(code=data["category"]).first()
    grid = Region.objects.filter(code=data["grid"]).first() if data["grid"] else None
    case = hotspot_rules.hotspot_promote(
        actor=request.user,
        grid_or_community_code=data["code"],
        category=category,
        note=data["note"],
        grid=grid,
        days=data["days"],
    )
    messages.success(
        request, _("Case %(number)s was opened and goes to the routing rules like any other.") % {"number": case.number}
    )
    return redirect("cases:detail", case.number)


@login_required
@reads_replica
def monthly_problems_page(request):
    """每月一题: the month's most frequent problems across the district, against the same days of
    last month (a month still running: its 1st to today against the 1st to the same day)."""
    page_gate(request.user, "dashboards:monthly-problems")
    form = MonthForm(request.GET)
    period, problems = None, []
    if form.is_valid():
        try:
            period, problems = hotspot_rules.monthly_problems(form.cleaned_data["month"])
        except InvalidInput as error:
            form.add_error("month", str(error))
    context = {
        "form": form,
        "period": period,
        "previous_period": selectors.same_days_before(period) if period is not None else None,
        "problems": problems,
        "chart": {
            "label": _("Cases received"),
            "previous_label": _("Same days last month"),
            "names": [problem.category.name for problem in problems],
            "counts": [problem.count for problem in problems],
            "previous": [problem.previous for problem in problems],
        },
    }
    if period is not None:
        cases = reverse("cases:list")
        for problem in problems:
            query = {
                "category": problem.category.code,
                "created_from": period.first.isoformat(),
                "created_to": period.last.isoformat(),
            }
            problem.cases_url = f"{cases}?{urlencode(query)}"
    return render(request, "dashboards/monthly_problems.html", context)
