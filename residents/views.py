"""The residents' own pages (/resident/): no account. A mobile number confirmed by an SMS code
opens the request form and "my requests" for this browser for VERIFIED_FOR (kept in the session)."""

import math
import uuid

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cases.errors import IdempotencyKeyReused, InvalidInput
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case
from cases.services import categories_suggested, resident_link_issue
from grids.boundaries import feature, grid_at
from grids.models import BoundarySet, Region
from intake.selectors import duplicates_near
from residents import selectors, services
from residents.forms import CodeForm, PhoneForm, RequestForm
from residents.models import Attempt

SESSION_PHONE = "resident_phone"
SESSION_AT = "resident_verified_at"
SESSION_PENDING = "resident_pending_phone"
SESSION_NEXT = "resident_next"
# Where a confirmed number goes next: the request form, or "my requests". Names, never URLs, so
# the page cannot be made to send anyone elsewhere.
NEXT_PAGES = {
    "new": "residents:new",
    "mine": "residents:mine",
    # 预约服务 (residents/views_bookings.py).
    "book": "residents:book",
    "bookings": "residents:bookings",
}


def verified_phone(request) -> str | None:
    """The number confirmed in this browser less than VERIFIED_FOR ago, or None."""
    phone, at = request.session.get(SESSION_PHONE), request.session.get(SESSION_AT)
    if not phone or at is None:
        return None
    age = timezone.now().timestamp() - at
    return phone if 0 <= age < services.VERIFIED_FOR.total_seconds() else None


def _ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def _masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else phone


def _refused(response, error):
    """A page answered 429 for a limit reached, saying when to try again (also in Retry-After)."""
    response.status_code = 429
    response["Retry-After"] = str(error.retry_after)
    return response


def _to_start(request, next_page):
    return redirect(f"{reverse('residents:start')}?next={next_page}")


def _page(request, template, context=None, status=200):
    phone = verified_phone(request)
    context = {"verified": _masked(phone) if phone else "", **(context or {})}
    return render(request, template, context, status=status)


# --- confirming the number ----------------------------------------------------------------------


@login_not_required
@never_cache
def start(request):
    """Step one: the mobile number. A code is texted to it (docs/residents.md: the limits)."""
    asked = request.GET.get("next") or request.session.get(SESSION_NEXT)
    next_page = asked if asked in NEXT_PAGES else "new"
    if request.method == "POST":
        form = PhoneForm(request.POST)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            try:
                services.code_send(phone=phone, ip=_ip(request))
            except services.TooMany as error:
                form.add_error("phone", str(error))
                return _refused(_page(request, "residents/start.html", {"form": form, "next": next_page}), error)
            request.session[SESSION_PENDING] = phone
            request.session[SESSION_NEXT] = next_page
            return redirect("residents:code")
    else:
        if verified_phone(request):
            return redirect(NEXT_PAGES[next_page])
        form = PhoneForm(initial={"phone": request.session.get(SESSION_PENDING, "")})
    return _page(request, "residents/start.html", {"form": form, "next": next_page})


@login_not_required
@never_cache
def code(request):
    """Step two: the code from the SMS. Right, the number is confirmed in this browser."""
    phone = request.session.get(SESSION_PENDING)
    if not phone:
        return redirect("residents:start")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.code_check(phone=phone, code=form.cleaned_data["code"])
        except services.TooMany as error:
            form.add_error("code", str(error))
            context = {"form": form, "phone": _masked(phone), "pending": phone}
            return _refused(_page(request, "residents/code.html", context), error)
        except services.CodeRefused as error:
            form.add_error("code", str(error))
        else:
            next_page = NEXT_PAGES.get(request.session.get(SESSION_NEXT), "residents:new")
            # A new session key once the number is confirmed: a key planted before is worth nothing.
            request.session.cycle_key()
            request.session[SESSION_PHONE] = phone
            request.session[SESSION_AT] = timezone.now().timestamp()
            request.session.pop(SESSION_PENDING, None)
            request.session.pop(SESSION_NEXT, None)
            return redirect(next_page)
    return _page(request, "residents/code.html", {"form": form, "phone": _masked(phone), "pending": phone})


@login_not_required
@require_POST
def leave(request):
    """Forget the confirmed number in this browser (a shared phone)."""
    for key in (SESSION_PHONE, SESSION_AT, SESSION_PENDING, SESSION_NEXT):
        request.session.pop(key, None)
    return redirect("residents:start")


# --- the request --------------------------------------------------------------------------------


def _likely_category(data):
    """The category duplicates are compared by: the resident's choice or the first suggested by
    the words; none when neither (the words alone are compared then)."""
    if data["category"] is not None:
        return data["category"]
    suggested = categories_suggested(data["description"], limit=1)
    return suggested[0] if suggested else None


def _duplicate_question(form, choice):
    """(the case to add the resident's voice to, or None; the likely duplicates to ask about, or
    None to go on). `choice` is the button pressed: "" (not asked yet), "new", "attach:<number>"
    (taken only from the likely duplicates found again now, never any number sent)."""
    if choice == "new" or form.hold:
        # A place known only by its street has a stand-in grid: its neighbours are not the
        # resident's, so nothing is offered as the same problem.
        return None, None
    data = form.cleaned_data
    found = duplicates_near(grid=form.place.grid, category=_likely_category(data), text=data["description"])
    if choice.startswith("attach:"):
        attach_to = next((case for case in found if case.number == choice.removeprefix("attach:")), None)
        if attach_to is not None:
            return attach_to, None
        form.add_error(None, _("That case is no longer open. Choose again, or send yours as a new problem."))
    if not found and not form.errors:
        return None, None
    # Of another person's case, only its number, title and status: never their words or name.
    return None, [
        {"number": case.number, "title": case.title, "status": selectors.STATUS_WORDS.get(case.status, "")}
        for case in found
    ]


def _map_shown() -> bool:
    return Region.objects.filter(level=Region.Level.GRID, boundary__isnull=False).exists()


@login_not_required
@never_cache
def new(request):
    """The resident's request: what, where, photos, a name if they like. Likely duplicates are
    shown before anything is saved: add my voice to that case, or a different problem."""
    phone = verified_phone(request)
    if phone is None:
        return _to_start(request, "new")
    context = {"duplicates": [], "map": _map_shown()}
    if request.method != "POST":
        form = RequestForm(initial={"submission": uuid.uuid4().hex})
        return _page(request, "residents/new.html", {**context, "form": form})
    key = request.POST.get("submission", "")
    replay = services.submitted_before(key=key)
    if not replay:
        # Before the form is read (photos and all): a flood is refused for the price of one query.
        try:
            services.limits_check(kind=Attempt.Kind.SUBMISSION, phone=phone, ip=_ip(request))
        except services.TooMany as error:
            form = RequestForm(initial=request.POST.dict())
            return _refused(_page(request, "residents/new.html", {**context, "form": form, "limit": str(error)}), error)
    form = RequestForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, "residents/new.html", {**context, "form": form})
    data = form.cleaned_data
    choice = request.POST.get("duplicate_choice", "")
    if replay:
        # The same form sent again: the service answers with the first call (or says the form
        # was used for something else); no duplicate question in between.
        number = choice.removeprefix("attach:") if choice.startswith("attach:") else None
        attach_to = Case.objects.filter(number=number).first() if number else None
    else:
        attach_to, shown = _duplicate_question(form, choice)
        if shown is not None:
            return _page(request, "residents/new.html", {**context, "form": form, "duplicates": shown})
    request_ = services.ResidentRequest(
        description=data["description"],
        category=data["category"],
        place=form.place,
        hold=form.hold,
        address=data["address"],
        caller_name=data["caller_name"],
        photos=tuple(data["photos"]),
    )
    try:
        call, _created = services.request_submit(
            phone=phone, ip=_ip(request), request=request_, attach_to=attach_to, key=key
        )
    except IdempotencyKeyReused:
        form.add_error(None, _("This form was already sent. To report another problem, start a new request."))
    except (InvalidInput, TransitionNotAllowed) as error:
        form.add_error(None, str(error))
    else:
        done = "added" if call.outcome == call.Outcome.ATTACHED else "new"
        return redirect(f"{reverse('residents:case', args=[call.case.number])}?{done}=1")
    return _page(request, "residents/new.html", {**context, "form": form})


# --- my requests --------------------------------------------------------------------------------


def _not_found(request):
    """404 alike for a case that is not this number's, one that does not exist, and a browser
    whose confirmation has run out (it may confirm again from here)."""
    return _page(request, "residents/not_found.html", status=404)


@login_not_required
@never_cache
@require_GET
def mine(request):
    """The cases the confirmed number called about, newest first."""
    phone = verified_phone(request)
    if phone is None:
        return _to_start(request, "mine")
    context = {"items": selectors.cases_of_phone(phone), "limit": selectors.MINE_LIMIT}
    return _page(request, "residents/mine.html", context)


@login_not_required
@never_cache
@require_GET
def case(request, number):
    """One of the number's cases: status, the unit handling it, the result, the verdict."""
    phone = verified_phone(request)
    if phone is None:
        return _not_found(request)
    try:
        item = selectors.case_of_phone(phone, number)
    except Http404:
        return _not_found(request)
    context = {
        "item": item,
        "words": selectors.own_words(phone, item.case),
        "new": "new" in request.GET,
        "added": "added" in request.GET,
    }
    return _page(request, "residents/case.html", context)


@login_not_required
@require_POST
def verdict(request, number):
    """The resident asks to give their verdict: a fresh single-use link (feedback's, /r/<token>/)
    is issued and followed at once. Only the case's own caller, and only while it waits for it."""
    phone = verified_phone(request)
    if phone is None:
        return _not_found(request)
    try:
        item = selectors.case_of_phone(phone, number)
    except Http404:
        return _not_found(request)
    if not item.verdict_open:
        return redirect("residents:case", number=number)
    return redirect("resident", token=resident_link_issue(case=item.case))


# --- the map ------------------------------------------------------------------------------------

DISTRICT_LEVEL_SIMPLIFY = 3  # the streets' outlines, roughly: they only help find the place


@login_not_required
@require_GET
def streets(request):
    """The district's streets as GeoJSON, for the page's map (a confirmed number only)."""
    if verified_phone(request) is None:
        return JsonResponse({"detail": _("Confirm your mobile number first.")}, status=404)
    stamp = BoundarySet.stamp()
    regions = Region.objects.filter(level=Region.Level.STREET).order_by("code")
    features = [feature(region, level=DISTRICT_LEVEL_SIMPLIFY, stamp=stamp) for region in regions]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_not_required
@require_GET
def locate(request):
    """The street and community holding a point tapped on the map (WGS-84), or 404 outside."""
    if verified_phone(request) is None:
        return JsonResponse({"detail": _("Confirm your mobile number first.")}, status=404)
    try:
        latitude, longitude = float(request.GET.get("lat", "")), float(request.GET.get("long", ""))
    except ValueError:
        return JsonResponse({"detail": _("Give a number.")}, status=400)
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return JsonResponse({"detail": _("Give a number.")}, status=400)
    code, _long, _lat = grid_at(longitude, latitude)
    places = dict(Region.objects.filter(code__in=[code[:9], code[:12]]).values_list("code", "name")) if code else {}
    if not code or code[:12] not in places:
        return JsonResponse({"detail": _("This point is not in 苏家屯区. Tap inside the outline.")}, status=404)
    return JsonResponse(
        {
            "street": {"code": code[:9], "name": places.get(code[:9], "")},
            "community": {"code": code[:12], "name": places[code[:12]]},
        }
    )
