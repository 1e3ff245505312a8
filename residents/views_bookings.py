"""预约服务 on the residents' own page: a resident whose mobile is confirmed by SMS books a place at a
team's standing service for themselves (the number booked is the confirmed one), sees their
bookings and cancels one. The capacity, the refusals and the places are volunteers/bookings.py's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from residents.views import _page, _to_start, verified_phone
from volunteers import bookings
from volunteers.forms_bookings import BookingForm, CancelForm
from volunteers.models import Booking

# A number holds at most this many bookings still to come: a place is a meal someone else may need.
MAX_LIVE = 5


@login_not_required
@never_cache
def book(request):
    """A place at a service, on a day, for the confirmed number."""
    phone = verified_phone(request)
    if phone is None:
        return _to_start(request, "book")
    form = BookingForm(request.POST or None, services=bookings.services_for_residents(), phone_fixed=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if bookings.bookings_of_phone(phone).filter(state__in=bookings.LIVE).count() >= MAX_LIVE:
                raise InvalidInput(
                    _("This number already holds %(count)d bookings: cancel one first.") % {"count": MAX_LIVE}
                )
            bookings.booking_book(
                service=data["service"],
                day=data["day"],
                resident_name=data["resident_name"],
                resident_phone=phone,
                address=data["address"],
                actor=None,
            )
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                _("Booked: %(service)s on %(day)s.")
                % {"service": data["service"].name, "day": data["day"].isoformat()},
            )
            return redirect("residents:bookings")
    return _page(request, "residents/bookings_new.html", {"form": form})


@login_not_required
@never_cache
def mine(request):
    """The confirmed number's bookings, the latest day first."""
    phone = verified_phone(request)
    if phone is None:
        return _to_start(request, "bookings")
    rows = list(bookings.bookings_of_phone(phone)[:50])
    return _page(request, "residents/bookings_mine.html", {"rows": rows, "live": bookings.LIVE})


@login_not_required
@require_POST
def cancel(request):
    """Cancel one of the number's bookings; its place is given back."""
    phone = verified_phone(request)
    if phone is None:
        return _to_start(request, "bookings")
    form = CancelForm(request.POST)
    booking = (
        Booking.objects.select_related("day__service__team__unit").filter(pk=form.cleaned_data["booking"]).first()
        if form.is_valid()
        else None
    )
    try:
        if booking is None:
            raise InvalidInput(_("No such booking."))
        bookings.booking_cancel(booking=booking, phone=phone)
    except (InvalidInput, NotPermitted) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Cancelled: %(service)s on %(day)s.")
            % {"service": booking.day.service.name, "day": booking.day.day.isoformat()},
        )
    return redirect("residents:bookings")
