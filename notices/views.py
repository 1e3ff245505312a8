"""The inbox page, its header badge, the person's notice settings, and the resident's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases.models import Case
from notices.forms import InboxFilterForm, PreferencesForm
from notices.selectors import inbox_for, unread_count
from notices.services import notifications_read, preferences_for, preferences_save, status_link_case
from routing.models import Assignment

INBOX_PAGE = 30


@login_required
def inbox(request):
    """The person's notices, newest first, filtered by read or unread and by kind."""
    filters = InboxFilterForm(request.GET or None)
    show, kind = "", ""
    if filters.is_valid():
        show, kind = filters.cleaned_data["show"], filters.cleaned_data["kind"]
    unread = {"unread": True, "read": False}.get(show)
    page = Paginator(inbox_for(request.user, unread=unread, kind=kind), INBOX_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notices/inbox.html",
        {"page": page, "filters": filters, "query": query.urlencode()},
    )


@login_required
@require_POST
def read(request):
    """Mark one notice (`id`), or all of them, read. From the page, back to the inbox as it was
    filtered; from htmx, the badge alone."""
    message_id = request.POST.get("id", "")
    if "id" in request.POST:
        # A made-up id (not a number) marks nothing rather than failing.
        valid = message_id.isdecimal() and len(message_id) < 19
        notifications_read(user=request.user, ids=[int(message_id)] if valid else [])
    else:
        notifications_read(user=request.user)
    return redirect(reverse("notices:inbox") + _filters_of(request.POST.get("next", "")))


def _filters_of(query):
    """The inbox's own filters out of `next` (the page's query string), checked by its form:
    anything else in it, however long, is dropped rather than echoed into a redirect."""
    filters = InboxFilterForm(QueryDict(query[:500]))
    if not filters.is_valid():
        return ""
    kept = {name: value for name, value in filters.cleaned_data.items() if value}
    page = QueryDict(query[:500]).get("page", "")
    if page.isdecimal() and len(page) < 7:
        kept["page"] = page
    return f"?{urlencode(kept)}" if kept else ""


@login_required
def badge(request):
    """The header's unread count, polled by htmx every 30 seconds."""
    return render(request, "notices/badge.html", {"unread": unread_count(request.user)})


@login_required
def preferences(request):
    """Which kinds of notice come by SMS or email as well, and the person's quiet hours."""
    form = PreferencesForm(request.POST or None, initial=preferences_for(request.user))
    if request.method == "POST" and form.is_valid():
        preferences_save(user=request.user, channels=form.channels(), quiet=form.quiet())
        messages.success(request, _("Your notice settings are saved."))
        return redirect("notices:preferences")
    return render(request, "notices/preferences.html", {"form": form})


@login_not_required
@never_cache
def resident_status(request, token):
    """The resident's page of their case, reached from their SMS: the number, the status, the
    unit handling it, the deadline, the result once resolved. Never the caller's number, never an
    internal note. A wrong or expired link answers a plain page saying so (410)."""
    case = status_link_case(token)
    if case is None:
        return render(
            request,
            "notices/resident_gone.html",
            {"message": _("The link is not valid or has expired. Call 12345 with your case number.")},
            status=410,
        )
    lead = (
        # The unit that has it now, or had it when it was resolved: not one that returned it.
        Assignment.objects.filter(
            case=case,
            role=Assignment.Role.LEAD,
            state__in=[*Assignment.ACTIVE_STATES, Assignment.State.DONE],
        )
        .select_related("unit")
        .order_by("-dispatched_at", "-id")
        .first()
    )
    resolved = case.status in (Case.Status.RESOLVED, Case.Status.CLOSED)
    result = case.events.filter(action="resolve").order_by("-at", "-id").values_list("note", flat=True).first()
    context = {
        "case": case,
        "unit": lead.unit if lead else None,
        "deadline": lead.resolve_due if lead and not resolved else None,
        "result": result if resolved else None,
    }
    return render(request, "notices/resident_status.html", context)
