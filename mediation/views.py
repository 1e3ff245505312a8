"""The mediators' pages (评理说事, docs/mediation.md): the list of their points' mediations by state,
accepting a walk-in, the mediation's page (facts, parties with masked phones, sessions, the forms
of the moves its state allows: `MEDIATION_MOVES` decides which are offered), the printable 调解协议
and a case's "send to mediation". Each form posts to its own view, which fetches the mediation
through `mediation_get_for` (404 alike for missing and not yours) and calls the service; a bad form
or refused input shows the mediation's page again with the errors, nothing saved."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from cases.http import shows_domain_errors
from mediation import selectors, services
from mediation.forms import (
    STATE_FILTER,
    AgreementForm,
    NoteForm,
    OptionalNoteForm,
    ReferForm,
    ScheduleForm,
    SendForm,
    SessionForm,
    SignForm,
    WalkInForm,
)
from mediation.models import Agreement, Mediation, Party, Point, Session
from mediation.moves import MEDIATION_MOVES
from routing.selectors import case_get_for
from units.permissions import is_dispatcher, page_gate

PAGE_SIZE = 30
OPEN_STATES = [s for s in Mediation.State.values if s not in (Mediation.State.CLOSED, Mediation.State.REFERRED)]
# The next level up, for "refer up a level".
LEVEL_UP = {Point.Level.COMMUNITY: Point.Level.STREET, Point.Level.STREET: Point.Level.DISTRICT}


@login_required
def mediation_list(request):
    """The mediations of the person's points, by state (the open ones unless a state is chosen),
    newest first; the count of each state above."""
    page_gate(request.user, "mediation:list")
    mine = selectors.mediations_for(request.user)
    state = request.GET.get("state", "")
    if state not in Mediation.State.values:
        state = ""
    counts = dict(mine.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    rows = mine.filter(state=state) if state else mine.filter(state__in=OPEN_STATES)
    rows = rows.select_related("point", "case").prefetch_related(
        Prefetch("parties", queryset=Party.objects.order_by("id"))
    )
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    counts[""] = sum(counts.get(s, 0) for s in OPEN_STATES)
    tabs = [{"value": value, "label": label, "count": counts.get(value, 0)} for value, label in STATE_FILTER]
    context = {"page": page, "rows": list(page), "tabs": tabs, "state": state}
    return render(request, "mediation/list.html", context)


@login_required
def mediation_new(request):
    """Accept a walk-in at one of the person's points."""
    page_gate(request.user, "mediation:new")
    points = selectors.points_for(request.user).filter(is_active=True)
    form = WalkInForm(request.POST or None, points=points)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mediation = services.mediation_open(
                actor=request.user, point=data["point"], kind=data["kind"], facts=data["facts"], parties=data["parties"]
            )
        except (InvalidInput, NotPermitted) as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, _("The mediation is accepted."))
            return redirect("mediation:detail", mediation.pk)
    return render(request, "mediation/new.html", {"form": form})


def _field(form, error):
    name = getattr(error, "field", None)
    return name if name in form.fields else None


def _offered(mediation, action):
    return mediation.state in MEDIATION_MOVES[action].sources


def _detail(request, mediation, *, bound=None, status=200):
    """The mediation's page; `bound` = (action, form) re-shows one form with its errors."""
    parties = list(mediation.parties.all())
    sessions = list(mediation.sessions.prefetch_related("mediators", "parties_present").select_related("created_by"))
    for session in sessions:
        session.reasoning_labels = [Session.Reasoning(r).label for r in session.reasoning]
    # The forms for who works the mediation (its point's mediators and host staff); the others read.
    acts = services.works_at(request.user, mediation.point)
    forms = {
        "schedule": ScheduleForm(mediation=mediation) if _offered(mediation, "schedule") else None,
        "session": SessionForm(mediation=mediation) if _offered(mediation, "session") else None,
        "agreement": AgreementForm() if _offered(mediation, "agreement") else None,
        "no_agreement": NoteForm(prefix="none") if _offered(mediation, "no_agreement") else None,
        "sign": SignForm() if _offered(mediation, "sign") else None,
        "break": NoteForm(prefix="break") if _offered(mediation, "break") else None,
        "refer": ReferForm(prefix="refer") if _offered(mediation, "refer") else None,
        "close": OptionalNoteForm(prefix="close") if _offered(mediation, "close") else None,
    }
    if not acts:
        forms = dict.fromkeys(forms)
    if bound is not None:
        forms[bound[0]] = bound[1]
    context = {
        "mediation": mediation,
        "parties": parties,
        "sessions": sessions,
        "agreement": _agreement_of(mediation),
        "events": list(mediation.events.select_related("actor")),
        "forms": forms,
        # Who works the mediation, and dispatchers (as `party_phone_reveal` allows).
        "may_reveal": any(p.phone for p in parties) and (acts or is_dispatcher(request.user)),
    }
    return render(request, "mediation/detail.html", context, status=status)


def _agreement_of(mediation):
    try:
        return mediation.agreement
    except Agreement.DoesNotExist:
        return None


def _mediation(request, pk):
    return selectors.mediation_get_for(request.user, pk)


@login_required
def mediation_detail(request, pk):
    return _detail(request, _mediation(request, pk))


def _action(action, form_factory, run, message):
    """A move posted from the mediation's page: `form_factory(request, mediation)` parses,
    `run(request, mediation, data)` calls the service. A bad form or refused input re-shows the
    page with the errors (nothing saved); a move the state does not allow comes back as a message."""

    @login_required
    @require_POST
    @shows_domain_errors
    def view(request, pk):
        mediation = _mediation(request, pk)
        form = form_factory(request, mediation)
        if form.is_valid():
            try:
                target = run(request, mediation, form.cleaned_data)
            except InvalidInput as error:
                form.add_error(_field(form, error), str(error))
            else:
                messages.success(request, message)
                # `run` answers a URL to go to, or whatever its service answered (then: back here).
                return redirect(target if isinstance(target, str) else reverse("mediation:detail", args=[mediation.pk]))
        return _detail(request, mediation, bound=(action, form), status=400)

    return view


def _schedule(request, mediation, data):
    services.mediation_schedule(mediation=mediation, actor=request.user, **data)


def _session(request, mediation, data):
    services.mediation_session(
        mediation=mediation,
        actor=request.user,
        present=list(data["present"]),
        mediators=list(data["mediators"]),
        statements=data["statements"],
        reasoning=list(data["reasoning"]),
        record=data["record"],
    )


def _agreement(request, mediation, data):
    services.mediation_agreement(
        mediation=mediation, actor=request.user, terms=data["terms"], follow_up=data["follow_up"]
    )


def _refer(request, mediation, data):
    if data["where"] == ReferForm.UP:
        level = LEVEL_UP.get(mediation.point.level)
        if level is None:
            raise InvalidInput(_("A district point cannot refer further up; refer it out instead."), "where")
        higher = services.mediation_refer(mediation=mediation, actor=request.user, level=level, note=data["note"])
        # The higher point's mediation, if the person may see it (else back to this one).
        if selectors.mediations_for(request.user).filter(pk=higher.pk).exists():
            return reverse("mediation:detail", args=[higher.pk])
        return None
    services.mediation_refer(mediation=mediation, actor=request.user, to=data["to"], note=data["note"])
    return None


mediation_schedule = _action(
    "schedule",
    lambda request, m: ScheduleForm(request.POST, mediation=m),
    _schedule,
    _("The session is scheduled."),
)
mediation_session = _action(
    "session", lambda request, m: SessionForm(request.POST, mediation=m), _session, _("The session is recorded.")
)
mediation_agreement = _action(
    "agreement", lambda request, m: AgreementForm(request.POST), _agreement, _("The agreement is recorded.")
)
mediation_no_agreement = _action(
    "no_agreement",
    lambda request, m: NoteForm(request.POST, prefix="none"),
    lambda request, m, data: services.mediation_no_agreement(mediation=m, actor=request.user, note=data["note"]),
    _("Recorded: no agreement."),
)
mediation_sign = _action(
    "sign",
    lambda request, m: SignForm(request.POST, request.FILES),
    lambda request, m, data: services.mediation_sign(mediation=m, actor=request.user, scan=data["scan"]),
    _("The signed copy is kept; the follow-up dates run."),
)
mediation_break = _action(
    "break",
    lambda request, m: NoteForm(request.POST, prefix="break"),
    lambda request, m, data: services.mediation_break(mediation=m, actor=request.user, note=data["note"]),
    _("The agreement is broken: the mediation is taken up again."),
)
mediation_refer = _action(
    "refer", lambda request, m: ReferForm(request.POST, prefix="refer"), _refer, _("The mediation is referred.")
)
mediation_close = _action(
    "close",
    lambda request, m: OptionalNoteForm(request.POST, prefix="close"),
    lambda request, m, data: services.mediation_close(mediation=m, actor=request.user, note=data["note"]),
    _("The mediation is closed."),
)


@login_required
def agreement_print(request, pk):
    """The 调解协议 laid out for printing: header, parties, facts, terms, follow-up, signatures."""
    mediation = _mediation(request, pk)
    agreement = _agreement_of(mediation)
    if agreement is None:
        raise Http404
    sessions = list(mediation.sessions.filter(held=True).prefetch_related("mediators"))
    mediators = []
    for session in sessions:
        mediators.extend(m for m in session.mediators.all() if m not in mediators)
    context = {
        "mediation": mediation,
        "agreement": agreement,
        "parties": list(mediation.parties.all()),
        "mediators": mediators,
        "reasoning": sorted({Session.Reasoning(r).label for s in sessions for r in s.reasoning}, key=str),
    }
    return render(request, "mediation/agreement_print.html", context)


@login_required
@require_POST
@shows_domain_errors
def party_reveal_phone(request, pk, party_id):
    """htmx: the party's full number for who may see it; the reveal is recorded."""
    mediation = _mediation(request, pk)
    party = mediation.parties.filter(pk=party_id).first()
    if party is None:
        raise Http404
    phone = services.party_phone_reveal(party=party, actor=request.user)
    return render(request, "mediation/_phone.html", {"phone": phone, "party": party})


@login_required
@require_POST
@shows_domain_errors
def case_send(request, number):
    """A case's "send to mediation" (its lead unit's staff, a dispatcher): the service decides."""
    case = case_get_for(request.user, number)
    form = SendForm(request.POST, case=case)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("cases:detail", case.number)
    mediation = services.case_mediate(
        case=case, actor=request.user, point=form.cleaned_data["point"], note=form.cleaned_data["note"]
    )
    messages.success(
        request, _("The case is sent to %(point)s for mediation.") % {"point": form.cleaned_data["point"].name}
    )
    if selectors.mediations_for(request.user).filter(pk=mediation.pk).exists():
        return redirect("mediation:detail", mediation.pk)
    return redirect("cases:detail", case.number)
