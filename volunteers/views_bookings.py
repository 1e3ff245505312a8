"""The booking pages (预约服务): the community clerk's form and list, the team's day of bookings
(confirm, record served, cancel) and the team's standing services."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from cases.http import safe_next
from units.permissions import may_open, page_gate
from volunteers import bookings
from volunteers.forms_bookings import BookingForm, CancelForm, DayForm, ServiceChangeForm, ServiceForm, TeamActionForm
from volunteers.models import Booking, Service, Volunteer

LIST_PAGE = 50
DOMAIN_ERRORS = (InvalidInput, NotPermitted)


def _field(form, error):
    return error.field if getattr(error, "field", None) in form.fields else None


def _form_errors_as_messages(request, form):
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))


# --- the community clerk --------------------------------------------------------------------------


@login_required
def clerk_bookings(request):
    """Book a place for a resident; the committee's bookings, the latest day first."""
    page_gate(request.user, "volunteers:bookings")
    form = BookingForm(request.POST or None, services=bookings.services_bookable_by(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            booking = bookings.booking_book(
                service=data["service"],
                day=data["day"],
                resident_name=data["resident_name"],
                resident_phone=data["resident_phone"],
                address=data["address"],
                actor=request.user,
            )
        except DOMAIN_ERRORS as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(
                request,
                _("%(name)s has a place at %(service)s on %(day)s.")
                % {"name": booking.resident_name, "service": data["service"].name, "day": data["day"].isoformat()},
            )
            return redirect("volunteers:bookings")
    page = Paginator(bookings.bookings_of_committees(request.user), LIST_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "rows": list(page), "today": timezone.localdate()}
    return render(request, "volunteers/bookings_clerk.html", context)


@login_required
@require_POST
def booking_cancel(request):
    """Cancel a booking (the team, or the committee that booked it); the place is given back."""
    if not (may_open(request.user, "volunteers:bookings") or may_open(request.user, "volunteers:bookings-team")):
        raise Http404
    form = CancelForm(request.POST)
    back = safe_next(request, "volunteers:bookings")
    if not form.is_valid():
        _form_errors_as_messages(request, form)
        return redirect(back)
    booking = Booking.objects.select_related("day__service__team__unit").filter(pk=form.cleaned_data["booking"]).first()
    if booking is None:
        raise Http404
    try:
        bookings.booking_cancel(booking=booking, actor=request.user)
    except DOMAIN_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The booking of %(name)s is cancelled.") % {"name": booking.resident_name})
    return redirect(back)


# --- the team -------------------------------------------------------------------------------------


@login_required
def team_bookings(request):
    """The day's bookings of the team's services, with the places taken, to confirm and to record
    served; the day chosen above (today by default)."""
    page_gate(request.user, "volunteers:bookings-team")
    form = DayForm(request.GET)
    day = (form.cleaned_data["day"] if form.is_valid() else None) or timezone.localdate()
    context = {
        "form": form,
        "day": day,
        "previous": day - datetime.timedelta(days=1),
        "next": day + datetime.timedelta(days=1),
        "services": bookings.team_day(request.user, day),
        "actions": TeamActionForm.ACTIONS,
    }
    return render(request, "volunteers/bookings_team.html", context)


@login_required
@require_POST
def team_bookings_act(request):
    """Confirm the ticked bookings of a service, or record them served by one volunteer."""
    page_gate(request.user, "volunteers:bookings-team")
    form = TeamActionForm(request.POST)
    if not form.is_valid():
        _form_errors_as_messages(request, form)
        return redirect("volunteers:bookings-team")
    data = form.cleaned_data
    team_page = reverse("volunteers:bookings-team")
    back = redirect(f"{team_page}?day={data['day'].isoformat()}" if data["day"] else team_page)
    service = Service.objects.filter(pk=data["service"], team__in=bookings.teams_kept_by(request.user)).first()
    if service is None:
        raise Http404
    try:
        if data["action"] == "confirm":
            moved = bookings.bookings_confirm(service=service, booking_ids=data["booking"], actor=request.user)
            messages.success(request, _("%(count)d bookings confirmed.") % {"count": moved})
        elif data["action"] == "cancel":
            moved = bookings.bookings_cancel(service=service, booking_ids=data["booking"], actor=request.user)
            messages.success(
                request, _("%(count)d bookings cancelled; their places are free again.") % {"count": moved}
            )
        else:
            served_by = Volunteer.objects.filter(pk=data["served_by"]).first() if data["served_by"] else None
            served = bookings.bookings_done(
                service=service, booking_ids=data["booking"], served_by=served_by, actor=request.user
            )
            messages.success(
                request,
                _("%(count)d bookings recorded served by %(name)s.") % {"count": len(served), "name": served_by.name},
            )
    except DOMAIN_ERRORS as error:
        messages.error(request, str(error))
    return back


@login_required
def services(request):
    """The standing services of the teams the user keeps: add one, change its capacity."""
    page_gate(request.user, "volunteers:services")
    teams = bookings.teams_kept_by(request.user).order_by("unit__name")
    form = ServiceForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service = bookings.service_add(
                team=data["team"],
                name=data["name"],
                description=data["description"],
                capacity=data["capacity"],
                actor=request.user,
            )
        except DOMAIN_ERRORS as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, _("%(name)s takes bookings now.") % {"name": service.name})
            return redirect("volunteers:services")
    rows = list(
        Service.objects.filter(team__in=teams).select_related("team__unit").order_by("team__unit__name", "name")
    )
    return render(request, "volunteers/bookings_services.html", {"form": form, "rows": rows})


@login_required
@require_POST
def services_change(request):
    """A service's capacity a day (for days not booked yet) and whether it takes bookings."""
    page_gate(request.user, "volunteers:services")
    form = ServiceChangeForm(request.POST)
    if not form.is_valid():
        _form_errors_as_messages(request, form)
        return redirect("volunteers:services")
    data = form.cleaned_data
    service = (
        Service.objects.filter(pk=data["service"], team__in=bookings.teams_kept_by(request.user))
        .select_related("team__unit")
        .first()
    )
    if service is None:
        raise Http404
    try:
        bookings.service_change(
            service=service, capacity=data["capacity"], is_active=data["is_active"], actor=request.user
        )
    except DOMAIN_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("%(name)s: %(capacity)d a day.") % {"name": service.name, "capacity": service.capacity}
        )
    return redirect("volunteers:services")
