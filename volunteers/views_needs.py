"""The needs pages (需求对接): the community's needs (post one, accept an offer, record the result,
withdraw) and a unit's open needs (offer to take one up). A page that is not for the person answers
404 (`units.permissions.PAGES`); a refused move comes back as a message, nothing changed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from cases.http import form_errors_as_messages, shows_domain_errors
from units.permissions import page_gate
from volunteers import needs
from volunteers.forms_needs import AcceptForm, NeedForm, OfferForm, ResultForm
from volunteers.models import Need, Offer

PAGE_SIZE = 30


def _field(form, error):
    name = getattr(error, "field", None)
    return name if name in form.fields else None


@login_required
def needs_page(request):
    """The community's needs, newest first, and the form to post one."""
    page_gate(request.user, "volunteers:needs")
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            need = needs.need_post(actor=request.user, **form.cleaned_data)
        except (InvalidInput, NotPermitted) as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, _("The need “%(title)s” is posted.") % {"title": need.title})
            return redirect("volunteers:need", need.pk)
    rows = needs.needs_of_community(request.user).prefetch_related(
        Prefetch("offers", queryset=Offer.objects.order_by("id"))
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "volunteers/needs_list.html", {"form": form, "page": page, "rows": list(page)})


def _community_need(request, pk) -> Need:
    page_gate(request.user, "volunteers:needs")
    need = needs.need_of_community_get(request.user, pk)
    if need is None:
        raise Http404
    return need


@login_required
def need_page(request, pk):
    """One need of the community: its offers (accept one), its result (once taken up)."""
    need = _community_need(request, pk)
    offers = list(need.offers.select_related("unit").order_by("id"))
    context = {
        "need": need,
        "offers": offers,
        "may_accept": need.state == Need.State.OPEN,
        "result_form": ResultForm() if need.state == Need.State.MATCHED else None,
    }
    return render(request, "volunteers/needs_detail.html", context)


@login_required
@require_POST
@shows_domain_errors
def need_accept(request, pk):
    need = _community_need(request, pk)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Choose an offer to accept."), "offer")
    offer = need.offers.select_related("unit", "need").filter(pk=form.cleaned_data["offer"]).first()
    if offer is None:
        raise InvalidInput(_("Choose an offer to accept."), "offer")
    needs.offer_accept(offer=offer, actor=request.user)
    messages.success(request, _("%(unit)s takes the need up.") % {"unit": offer.unit.name})
    return redirect("volunteers:need", need.pk)


@login_required
@require_POST
@shows_domain_errors
def need_done(request, pk):
    need = _community_need(request, pk)
    form = ResultForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("volunteers:need", need.pk)
    needs.need_done(need=need, actor=request.user, result=form.cleaned_data["result"])
    messages.success(request, _("The result is recorded; the need is done."))
    return redirect("volunteers:need", need.pk)


@login_required
@require_POST
@shows_domain_errors
def need_withdraw(request, pk):
    need = _community_need(request, pk)
    needs.need_withdraw(need=need, actor=request.user)
    messages.success(request, _("The need is withdrawn."))
    return redirect("volunteers:needs")


# --- the offering units --------------------------------------------------------------------------


@login_required
def open_needs_page(request):
    """The district's open needs for a department, utility or paired agency: its paired
    communities' first, each with the form to offer (or the unit's offer already made)."""
    page_gate(request.user, "volunteers:needs-open")
    units = needs.offering_units_of(request.user)
    page = Paginator(needs.open_needs_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": list(page),
        "offer_form": OfferForm(units=units),
        "several_units": len(units) > 1,
        "offers": list(needs.offers_of(request.user)[:PAGE_SIZE]),
    }
    return render(request, "volunteers/needs_open.html", context)


@login_required
@require_POST
@shows_domain_errors
def need_offer(request, pk):
    page_gate(request.user, "volunteers:needs-open")
    # Any need of the district (they all are open to offers while open); the service refuses one
    # that is no longer open.
    need = Need.objects.select_related("community").filter(pk=pk).first()
    if need is None:
        raise Http404
    form = OfferForm(request.POST, units=needs.offering_units_of(request.user))
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("volunteers:needs-open")
    data = form.cleaned_data
    offer = needs.offer_make(need=need, actor=request.user, unit=data["unit"], note=data["note"])
    messages.success(
        request,
        _("%(unit)s offered to take up “%(title)s”; %(community)s decides.")
        % {"unit": offer.unit.name, "title": need.title, "community": need.community.name},
    )
    return redirect("volunteers:needs-open")
