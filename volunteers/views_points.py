"""The points pages: the volunteer's own ledger on their phone (balance, lines, the rewards of their
community, redeeming), the staff's rankings and corrections, the community's rewards."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from grids.models import Region
from units.permissions import may_open, page_gate
from volunteers import points
from volunteers.forms_points import (
    CorrectionForm,
    RankingForm,
    RedeemForm,
    RestockForm,
    RewardForm,
    VolunteerSearchForm,
)
from volunteers.models import Reward, Volunteer

LEDGER_PAGE = 20
LIST_PAGE = 50
DOMAIN_ERRORS = (InvalidInput, NotPermitted)


def _own_volunteer(request) -> Volunteer:
    """The signed-in volunteer; 404 for an account that is no volunteer (as if the page did not exist)."""
    volunteer = points.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    return volunteer


def _field(form, error):
    return error.field if getattr(error, "field", None) in form.fields else None


# --- the volunteer's phone page -------------------------------------------------------------------


@login_required
def my_points(request):
    """The volunteer's ledger: balance, lines newest first, and the rewards of their community."""
    volunteer = _own_volunteer(request)
    page = Paginator(points.ledger(volunteer), LEDGER_PAGE).get_page(request.GET.get("page"))
    held = points.balance(volunteer)
    context = {
        "volunteer": volunteer,
        "balance": held,
        "page": page,
        "lines": list(page),
        "rewards": list(points.rewards_for(volunteer)),
    }
    return render(request, "volunteers/points_mine.html", context)


@login_required
@require_POST
def my_points_redeem(request):
    """Redeem a reward: the balance the page showed comes along, so a double tap spends once."""
    volunteer = _own_volunteer(request)
    form = RedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a reward on this page."))
        return redirect("volunteers:my-points")
    reward = Reward.objects.filter(pk=form.cleaned_data["reward"]).first()
    try:
        if reward is None:
            raise InvalidInput(_("This reward is not offered to you."), "reward")
        points.points_redeem(
            volunteer=volunteer, reward=reward, actor=request.user, expected_balance=form.cleaned_data["balance"]
        )
    except DOMAIN_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Redeemed %(name)s for %(cost)d points: show this page to the community's staff to collect it.")
            % {"name": reward.name, "cost": reward.cost},
        )
    return redirect("volunteers:my-points")


# --- rankings -------------------------------------------------------------------------------------


@login_required
def ranking(request):
    """The month's volunteers and teams with the most points earned (the district, or an area)."""
    page_gate(request.user, "volunteers:points-ranking")
    form = RankingForm(request.GET)
    month, region, volunteers, teams = points.Month.current(), "", [], []
    if form.is_valid():
        region = form.cleaned_data["region"]
        try:
            if form.cleaned_data["month"]:
                month = points.Month.parse(form.cleaned_data["month"])
        except InvalidInput as error:
            form.add_error("month", str(error))
    if not form.errors:
        volunteers = points.ranking_volunteers(month=month, region=region)
        teams = points.ranking_teams(month=month, region=region)
    context = {
        "form": form,
        "month": month,
        "region_name": Region.objects.filter(code=region).values_list("name", flat=True).first() if region else "",
        "volunteers": volunteers,
        "teams": teams,
        "may_correct": may_open(request.user, "volunteers:points-volunteers"),
        "keeps_rewards": may_open(request.user, "volunteers:rewards"),
    }
    return render(request, "volunteers/points_ranking.html", context)


# --- corrections ----------------------------------------------------------------------------------


@login_required
def volunteers_list(request):
    """The volunteers whose points the user may correct, found by name or phone, with balances."""
    page_gate(request.user, "volunteers:points-volunteers")
    form = VolunteerSearchForm(request.GET)
    rows = points.volunteers_correctable_by(request.user).order_by("name", "id")
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"].strip()
        rows = rows.filter(Q(name__contains=q) | Q(phone__startswith=q))
    page = Paginator(rows.only("id", "name", "phone"), LIST_PAGE).get_page(request.GET.get("page"))
    people = list(page)
    held = points.balances([person.pk for person in people])
    for person in people:
        person.balance = held[person.pk]
    return render(request, "volunteers/points_volunteers.html", {"form": form, "page": page, "people": people})


@login_required
def volunteer_points(request, pk):
    """One volunteer's ledger and the correction form (a new line with its reason)."""
    page_gate(request.user, "volunteers:points-volunteers")
    volunteer = points.volunteers_correctable_by(request.user).filter(pk=pk).first()
    if volunteer is None:
        raise Http404
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = points.points_correct(
                volunteer=volunteer,
                points=data["points"],
                reason=data["reason"],
                actor=request.user,
                expected_balance=data["balance"],
            )
        except DOMAIN_ERRORS as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(
                request,
                _("%(points)+d points for %(name)s recorded.") % {"points": entry.points, "name": volunteer.name},
            )
            return redirect("volunteers:points-volunteer", pk=volunteer.pk)
    # The form carries the balance shown now (the template writes it): a refused form shows the fresh one.
    held = points.balance(volunteer)
    page = Paginator(points.ledger(volunteer), LEDGER_PAGE).get_page(request.GET.get("page"))
    context = {"volunteer": volunteer, "balance": held, "page": page, "lines": list(page), "form": form}
    return render(request, "volunteers/points_volunteer.html", context)


# --- rewards --------------------------------------------------------------------------------------


def _communities(user):
    return list(Region.objects.filter(code__in=points.staff_communities(user)).order_by("code"))


@login_required
def rewards(request):
    """The rewards of the clerk's community: add one, set the stock; the newest redemptions."""
    page_gate(request.user, "volunteers:rewards")
    communities = _communities(request.user)
    form = RewardForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        community = next(region for region in communities if region.code == data["community"])
        try:
            reward = points.reward_add(
                community=community, name=data["name"], cost=data["cost"], stock=data["stock"], actor=request.user
            )
        except DOMAIN_ERRORS as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, _("%(name)s is offered now.") % {"name": reward.name})
            return redirect("volunteers:rewards")
    context = {
        "form": form,
        "rewards": list(points.rewards_kept_by(request.user)),
        "redemptions": points.redemptions_kept_by(request.user),
    }
    return render(request, "volunteers/rewards_list.html", context)


@login_required
@require_POST
def rewards_stock(request):
    """Set a reward's stock (and whether it is offered), if it still holds what the page showed."""
    page_gate(request.user, "volunteers:rewards")
    form = RestockForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("volunteers:rewards")
    data = form.cleaned_data
    reward = points.rewards_kept_by(request.user).filter(pk=data["reward"]).first()
    if reward is None:
        raise Http404
    try:
        reward = points.reward_restock(
            reward=reward, stock=data["stock"], was=data["was"], is_active=data["is_active"], actor=request.user
        )
    except DOMAIN_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s: %(stock)d in stock.") % {"name": reward.name, "stock": reward.stock})
    return redirect("volunteers:rewards")
