"""What a resident may read: the cases their confirmed number called about, and of each only
what the resident's own status page shows (docs/residents.md). Never a staff member's name,
never an internal note, never another caller's words or number."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from cases import lifecycle
from cases.models import Case, CaseEvent
from intake.models import Call
from routing.models import Assignment

# "My requests" shows the newest this many; older ones are still reachable by their number.
MINE_LIMIT = 50

# A case's status in words a resident understands.
STATUS_WORDS = {
    Case.Status.REGISTERED: _("Received, being passed to a unit"),
    Case.Status.DISPATCHED: _("Passed to a unit"),
    Case.Status.IN_PROGRESS: _("Being handled"),
    Case.Status.RETURNED: _("Being passed to another unit"),
    Case.Status.RESOLVED: _("Handled"),
    Case.Status.CLOSED: _("Closed"),
}
# The events whose note is the result a resident is told: the unit's resolution, or the answer
# given on the spot.
RESULT_ACTIONS = ("resolve", "answer")


@dataclass
class ResidentCase:
    """One case as its resident sees it."""

    case: Case
    unit_name: str
    result: str
    verdict_open: bool  # the resident may give their verdict now (the case's own caller, resolved)

    @property
    def status_words(self):
        return STATUS_WORDS.get(self.case.status, self.case.get_status_display())

    @property
    def finished(self) -> bool:
        return self.case.status in (Case.Status.RESOLVED, Case.Status.CLOSED)


def _calls_of(phone):
    return Call.objects.filter(caller_phone=phone)


def cases_of_phone(phone: str, *, limit=MINE_LIMIT) -> list[ResidentCase]:
    """The cases `phone` called about, through this page or a member of staff (any call with that
    number, so a case it added its voice to counts too), newest first. Three queries whatever the
    number of cases."""
    called = Exists(_calls_of(phone).filter(case=OuterRef("pk")))
    cases = list(Case.objects.filter(called).order_by("-created_at", "-id")[:limit])
    return _dress(cases, phone)


def case_of_phone(phone: str, number: str) -> ResidentCase:
    """One case `phone` called about; 404 for any other, alike for a case that does not exist."""
    case = Case.objects.filter(number=number).filter(Exists(_calls_of(phone).filter(case=OuterRef("pk")))).first()
    if case is None:
        raise Http404
    return _dress([case], phone)[0]


def own_words(phone: str, case: Case) -> list[Call]:
    """What this resident said about the case, call by call (never another caller's words)."""
    return list(_calls_of(phone).filter(case=case).order_by("created_at", "id"))


def _dress(cases, phone) -> list[ResidentCase]:
    if not cases:
        return []
    ids = [case.pk for case in cases]
    # The unit that has it now, or had it when it was resolved: not one that returned it.
    leads = {
        lead.case_id: lead.unit.name
        for lead in Assignment.objects.filter(
            case_id__in=ids,
            role=Assignment.Role.LEAD,
            state__in=[*Assignment.ACTIVE_STATES, Assignment.State.DONE],
        )
        .select_related("unit")
        .order_by("case_id", "-dispatched_at", "-id")
        .distinct("case_id")
    }
    results = dict(
        CaseEvent.objects.filter(case_id__in=ids, action__in=RESULT_ACTIONS)
        .order_by("case_id", "-at", "-id")
        .distinct("case_id")
        .values_list("case_id", "note")
    )
    dressed = []
    for case in cases:
        finished = case.status in (Case.Status.RESOLVED, Case.Status.CLOSED)
        dressed.append(
            ResidentCase(
                case=case,
                unit_name=leads.get(case.pk, ""),
                result=results.get(case.pk, "") if finished else "",
                verdict_open=case.caller_phone == phone and verdict_allowed(case),
            )
        )
    return dressed


def verdict_allowed(case) -> bool:
    """A resolved case waiting for its callback: the resident's own verdict would be it."""
    return case.status == Case.Status.RESOLVED and lifecycle.is_allowed("callback", case.status)
