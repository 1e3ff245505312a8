"""The notice table: for every move of a case, who is told, what, and where the link leads.

One row per (move, kind of notice). `who` names a group of people (`notices.services.GROUPS`):
the units the move concerns, the dispatchers, the supervisors, the grid workers of the case's
grid, the people following the case, or the resident (by SMS only). Everyone in a group gets an
inbox notice; SMS and email follow each person's choices (`Preference`), or their role's
defaults set in the admin (`RoleDefault`), or, with neither, `heads_by` for the heads of units.
`urgent` notices ignore quiet hours (emergency cases are always urgent).

A move that is not in the table tells nobody; `tests/notices/test_table.py` holds every move of
`cases.lifecycle.TRANSITIONS` to either a row here or `SILENT`, so a new move cannot be forgotten.
"""

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from notices.kinds import Kind


class Tell(NamedTuple):
    kind: str
    who: str
    text: str = ""
    link: str = "workspace"  # a key of notices.services.LINKS
    when: str = ""  # a key of notices.services.CONDITIONS; empty: always
    heads_by: tuple = ()  # channels a head of a unit in the group gets unless they or their role chose
    urgent: bool = False
    template: str = ""  # for the resident: the SMS template


NOTICES: dict[str, tuple[Tell, ...]] = {
    "open": (Tell("", "caller", template="case_ack", when="caller_may_be_texted"),),
    "dispatch": (
        Tell(Kind.ASSIGNED, "event_unit", _("New case %(number)s: %(title)s")),
        Tell(Kind.DISPATCHED, "followers", _("Case %(number)s was given to %(unit)s."), link="case"),
    ),
    "redispatch": (
        Tell(Kind.ASSIGNED, "event_unit", _("New case %(number)s: %(title)s")),
        Tell(
            Kind.WITHDRAWN,
            "previous_unit",
            _("Case %(number)s was taken from your unit and given to %(unit)s."),
            link="queue",
        ),
        Tell(Kind.DISPATCHED, "followers", _("Case %(number)s was given to %(unit)s."), link="case"),
    ),
    # A reclassification that re-routes the case (routing/reclassify.py) is told like a re-dispatch;
    # one that leaves it where it is names no unit in its event, and tells nobody.
    "reclassify": (
        Tell(Kind.ASSIGNED, "event_unit", _("New case %(number)s: %(title)s")),
        Tell(
            Kind.WITHDRAWN,
            "previous_unit",
            _("Case %(number)s was reclassified and given to %(unit)s."),
            link="queue",
        ),
    ),
    "return": (
        Tell(
            Kind.RETURNED,
            "dispatchers",
            _("%(unit)s returned case %(number)s (%(reason)s): %(note)s"),
            link="console",
        ),
    ),
    "extend": (
        Tell(
            Kind.EXTENSION_ASKED,
            "dispatchers",
            _("%(unit)s asks to extend case %(number)s until %(until)s: %(note)s"),
            link="extensions",
            when="extension_asked",
        ),
        Tell(
            Kind.EXTENSION_ASKED,
            "street_over_lead",
            _("%(unit)s asks to extend case %(number)s until %(until)s: %(note)s"),
            link="case",
            when="extension_asked",
        ),
        Tell(
            Kind.EXTENSION_DECIDED,
            "lead",
            _("Extension of case %(number)s approved: the new deadline is %(until)s."),
            when="extension_approved",
        ),
        Tell(
            Kind.EXTENSION_DECIDED,
            "lead",
            _("Extension of case %(number)s refused: %(note)s"),
            when="extension_refused",
        ),
    ),
    "assist": (Tell(Kind.ASSIST, "event_unit", _("Case %(number)s: %(lead)s asks your unit to assist: %(note)s")),),
    "urge": (
        Tell(Kind.URGE, "lead", _("%(supervisor)s urges case %(number)s: %(note)s")),
        Tell(Kind.URGE, "supervisors", _("%(supervisor)s urges case %(number)s: %(note)s"), link="supervision"),
    ),
    "set_deadline": (
        Tell(Kind.SET_DEADLINE, "lead", _("%(supervisor)s set a new deadline for case %(number)s: %(until)s")),
        Tell(
            Kind.SET_DEADLINE,
            "supervisors",
            _("%(supervisor)s set a new deadline for case %(number)s: %(until)s"),
            link="supervision",
        ),
    ),
    "reopen": (
        Tell(Kind.REOPENED, "event_unit", _("Case %(number)s is reopened for redo: %(note)s")),
        Tell("", "caller", template="case_reopened", when="caller_has_phone"),
    ),
    "resolve": (
        Tell(
            Kind.VERIFY,
            "grid_workers",
            _("Case %(number)s is resolved: check the result on site."),
            link="verify",
            when="needs_verification",
        ),
        Tell(Kind.RESOLVED, "followers", _("Case %(number)s was resolved by %(unit)s."), link="case"),
        Tell("", "caller", template="case_resolved", when="caller_has_phone"),
    ),
    "close": (Tell(Kind.CLOSED, "followers", _("Case %(number)s is closed."), link="case"),),
    # The deadline sweep (escalation/services.py), each stage once.
    "deadline_warning": (
        Tell(Kind.DEADLINE_WARNING, "event_unit", _("Yellow light: case %(number)s, %(deadline)s due %(due)s.")),
    ),
    "overdue": (
        Tell(
            Kind.OVERDUE,
            "event_unit",
            _("Red light: case %(number)s is overdue (%(deadline)s, due %(due)s). %(title)s"),
            heads_by=("sms", "email"),
        ),
    ),
    "chase": (
        Tell(
            Kind.CHASE,
            "event_unit",
            _("Chase notice (催办): case %(number)s is overdue since %(due)s (%(deadline)s); act today."),
        ),
    ),
    "notice": (
        Tell(
            Kind.NOTICE,
            "event_unit_parent",
            _("Formal notice (通报): %(unit)s has let case %(number)s run overdue since %(due)s (%(deadline)s)."),
            link="case",
            heads_by=("sms", "email"),
        ),
        Tell(
            Kind.NOTICE,
            "event_unit",
            _("Formal notice (通报): %(unit)s has let case %(number)s run overdue since %(due)s (%(deadline)s)."),
        ),
    ),
    "supervise": (
        Tell(
            Kind.SUPERVISE,
            "supervisor_unit",
            _("Supervision (督办): %(supervisor)s supervises case %(number)s of %(unit)s, overdue since %(due)s."),
            link="supervision",
            urgent=True,
        ),
        Tell(
            Kind.SUPERVISE,
            "event_unit",
            _("Supervision (督办): %(supervisor)s supervises case %(number)s of %(unit)s, overdue since %(due)s."),
            heads_by=("sms", "email"),
            urgent=True,
        ),
        # 结邻共建: the agencies paired with the community whose committee lets the case run late
        # hear of it, so that they can offer help (docs/volunteers.md). Inbox only by default.
        Tell(
            Kind.PAIRED_SUPERVISE,
            "paired_agencies",
            _(
                "Supervision (督办): case %(number)s of %(unit)s, a community your unit is paired with, "
                "is overdue since %(due)s. %(title)s"
            ),
            link="contributions",
            when="lead_is_committee",
        ),
    ),
}

# Moves that tell nobody, and why.
SILENT = {
    "attach_call": "another call on a case: the unit sees the count on its case page",
    "answer": "answered on the phone: nobody else has work from it",
    "sign": "the unit signing for its own case",
    "assist_sign": "the assisting unit signing for its own part",
    "contact": "the unit's own record of calling the resident",
    "note": "a note on the timeline",
    "callback": "the centre's own call; a verdict that closes or reopens the case is a move of its own",
    "verify": "the grid worker's own check; its outcome is a move of its own",
    "merge": "the surviving case carries on; its units are unchanged",
    "close_invalid": "recorded as close",
    "exempt": "recorded as close",
    "reveal_phone": "an audit record",
    "task_publish": "the publishing unit's own task for volunteers; the volunteers see it on their page",
    "task_done": "the publisher's own confirmation of the volunteers' work; the lead unit reads it on the timeline",
    "mediate": "the lead unit or a dispatcher sent it; the point works it in its own list of mediations",
    "mediation_end": "the lead unit keeps the case and reads the record on its timeline; an agreement is a resolve",
    "council": "the proposing unit's own step; the council sees the item on its page",
    "council_settled": "the council's decision on the timeline; what it leads to (a case, a task) is told on its own",
}
