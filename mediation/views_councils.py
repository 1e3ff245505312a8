"""议事会 pages (/mediation/councils/): the councils one may read, a council's page (members, open
items, meetings), proposing an item, recording a meeting with its votes, a meeting's page (publish,
open a case from a decision), publishing a decision as a volunteer task, the printable public
notice and the residents' list of published meetings (/resident/councils/, no account)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from grids.models import Region
from mediation import councils
from mediation.forms_councils import DecisionCaseForm, DecisionTaskForm, MeetingForm, ProposeForm
from mediation.models import AgendaItem, CouncilMember, Meeting
from units.permissions import page_gate
from volunteers.tasks import publishing_units_for

PUBLIC_LIMIT = 50  # published meetings on the residents' list, newest first


def council_list(request):
    page_gate(request.user, "mediation:councils")
    rows = (
        councils.councils_for(request.user)
        .select_related("region")
        .annotate(
            member_count=Count("members", filter=Q(members__is_active=True), distinct=True),
            open_count=Count("items", filter=Q(items__meeting__isnull=True), distinct=True),
        )
        .order_by("region__code", "name")[:200]
    )
    return render(request, "mediation/council_list.html", {"councils": rows})


def council_detail(request, pk):
    """Members, open items and meetings: five queries whatever their number (the council, the
    recorder check, the members, the open items, the meetings with their items and those present)."""
    council = councils.council_get_for(request.user, pk)
    context = {
        "council": council,
        "may_record": councils.may_record(request.user, council),
        "members": council.members.filter(is_active=True).select_related("user").order_by("role", "name"),
        "open_items": council.items.filter(meeting__isnull=True).select_related("case").order_by("id"),
        "meetings": councils.meetings_of(council)[:20],
    }
    return render(request, "mediation/council_detail.html", context)


def council_propose(request, pk):
    council = councils.council_get_for(request.user, pk)
    if not councils.may_record(request.user, council):
        raise Http404
    hotspots = councils.council_hotspots(council)
    form = ProposeForm(request.POST or None, hotspots=hotspots)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["source"] == "case":
                item = councils.item_propose_from_case(
                    actor=request.user,
                    council=council,
                    number=data["case"].strip(),
                    title=data["title"],
                    description=data["description"],
                    options=data["options"],
                )
            elif data["source"] == "hotspot":
                place, _sep, category = data["hotspot"].partition("|")
                item = councils.item_propose_from_hotspot(
                    actor=request.user, council=council, place_code=place, category_code=category
                )
            else:
                item = councils.item_propose(
                    actor=request.user,
                    council=council,
                    title=data["title"],
                    description=data["description"],
                    options=data["options"],
                )
        except Http404:
            form.add_error("case", _("No such case among those you may read."))
        except (InvalidInput, NotPermitted) as error:
            form.add_error(error.field if getattr(error, "field", None) in form.fields else None, str(error))
        else:
            messages.success(request, _("“%(title)s” is on the council's agenda.") % {"title": item.title})
            return redirect("mediation:council", council.pk)
    return render(request, "mediation/council_propose.html", {"council": council, "form": form})


def council_meeting_new(request, pk):
    council = councils.council_get_for(request.user, pk)
    if not councils.may_record(request.user, council):
        raise Http404
    members = list(council.members.filter(is_active=True).order_by("role", "name"))
    items = council.items.filter(meeting__isnull=True).order_by("id")
    form = MeetingForm(request.POST or None, members=members, items=items, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            meeting = councils.meeting_record(
                actor=request.user,
                council=council,
                held_on=form.cleaned_data["held_on"],
                place=form.cleaned_data["place"],
                present=[int(pk) for pk in form.cleaned_data["present"]],
                items=form.discussed(),
                published=form.cleaned_data["published"],
            )
        except (InvalidInput, NotPermitted) as error:
            form.add_error(error.field if getattr(error, "field", None) in form.fields else None, str(error))
        else:
            messages.success(request, _("The meeting of %(day)s is recorded.") % {"day": meeting.held_on})
            return redirect("mediation:council-meeting", meeting.pk)
    return render(request, "mediation/council_meeting_form.html", {"council": council, "form": form})


def _meeting_for(user, pk) -> Meeting:
    meeting = Meeting.objects.filter(pk=pk).select_related("council").first() if str(pk).isdigit() else None
    if meeting is None:
        raise Http404
    councils.council_get_for(user, meeting.council_id)  # 404 outside the reader's councils
    return meeting


def council_meeting(request, pk):
    meeting = _meeting_for(request.user, pk)
    council = councils.council_get_for(request.user, meeting.council_id)
    meeting = councils.meetings_of(council).get(pk=meeting.pk)
    context = {
        "council": council,
        "meeting": meeting,
        "may_record": councils.may_record(request.user, council),
        "case_form": DecisionCaseForm(),
        # A published task links to its page for those who read the publisher's tasks.
        "task_units": {unit.pk for unit in publishing_units_for(request.user)},
    }
    return render(request, "mediation/council_meeting.html", context)


@require_POST
def council_meeting_publish(request, pk):
    meeting = _meeting_for(request.user, pk)
    try:
        councils.meeting_publish(actor=request.user, meeting=meeting)
    except NotPermitted as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The meeting is published to the residents."))
    return redirect("mediation:council-meeting", meeting.pk)


@require_POST
def council_item_case(request, pk):
    item = AgendaItem.objects.filter(pk=pk).select_related("council__region").first() if str(pk).isdigit() else None
    if item is None or item.meeting_id is None:
        raise Http404
    councils.council_get_for(request.user, item.council_id)
    form = DecisionCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a category kind."))
        return redirect("mediation:council-meeting", item.meeting_id)
    try:
        case = councils.decision_open_case(
            actor=request.user,
            item=item,
            category=form.cleaned_data["category"],
            description=form.cleaned_data["description"],
        )
    except (InvalidInput, NotPermitted) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Case %(number)s is opened from the decision.") % {"number": case.number})
    return redirect("mediation:council-meeting", item.meeting_id)


def council_item_task(request, pk):
    """A carried decision published as a volunteer task (任务发布): the tasks page's form for the
    council's host unit; for who may open a case from it (the members, the host unit's staff)."""
    item = (
        AgendaItem.objects.filter(pk=pk).select_related("council", "meeting", "opened_task").first()
        if str(pk).isdigit()
        else None
    )
    if item is None or item.meeting_id is None:
        raise Http404
    council = councils.council_get_for(request.user, item.council_id)
    if not councils.may_record(request.user, council):
        raise Http404
    back = redirect("mediation:council-meeting", item.meeting_id)
    if item.opened_task_id:
        messages.info(
            request,
            _("This decision has already been published as the task “%(title)s”.") % {"title": item.opened_task.title},
        )
        return back
    if not item.decided:
        messages.error(request, _("Only a decision the council carried can become a task."))
        return back
    initial = {"title": item.title, "description": item.decision}
    form = DecisionTaskForm(request.POST or None, council=council, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            task = councils.decision_publish_task(actor=request.user, item=item, **form.cleaned_data)
        except (InvalidInput, NotPermitted) as error:
            field = getattr(error, "field", None)
            if field == "item":  # published meanwhile, or no longer a decision: nothing to correct here
                messages.error(request, str(error))
                return back
            form.add_error(field if field in form.fields else None, str(error))
        else:
            messages.success(
                request, _("The decision is published as the volunteer task “%(title)s”.") % {"title": task.title}
            )
            return back
    context = {"council": council, "item": item, "form": form}
    return render(request, "mediation/council_item_task.html", context, status=400 if form.errors else 200)


# --- public: the residents' notice ----------------------------------------------------------------


@login_not_required
def council_notice(request, pk):
    """The printable notice of a meeting: anyone once published; before, those who read the council."""
    meeting = Meeting.objects.filter(pk=pk).select_related("council__region").first() if str(pk).isdigit() else None
    if meeting is None:
        raise Http404
    if not meeting.published:
        councils.council_get_for(request.user, meeting.council_id)
    items = meeting.items.order_by("id")
    context = {
        "meeting": meeting,
        "council": meeting.council,
        "items": items,
        "present_count": meeting.present.count(),
        "member_count": CouncilMember.objects.filter(council=meeting.council_id, is_active=True).count(),
    }
    return render(request, "mediation/council_notice.html", context)


@login_not_required
def public_meetings(request):
    """/resident/councils/: the published meetings of every council, or of one community or street
    (`?place=<code>`), newest first."""
    place = (request.GET.get("place") or "").strip()
    if place and not (place.isdigit() and len(place) <= 15):
        place = ""
    places = Region.objects.filter(level__in=[Region.Level.STREET]).order_by("code").values_list("code", "name")
    meetings = councils.published_meetings(place or None)[:PUBLIC_LIMIT]
    return render(request, "mediation/council_public.html", {"meetings": meetings, "place": place, "places": places})
