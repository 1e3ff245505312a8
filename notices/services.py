"""Telling people: the notice table applied to a move of a case, the inbox's reads, people's
choices. Everything here runs in the transaction of the move it is about: a notice exists if and
only if its move committed, and its SMS and emails go through the outbox."""

import logging
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import Case, Priority
from cases.services import resident_link_hash, resident_link_issue
from escalation.models import DeadlineLimit, Supervision
from grids.models import GridPosting
from notices.kinds import Kind
from notices.models import Follow, NoticeSettings, Notification, Preference, QuietHours, RoleDefault, StatusLink
from notices.table import NOTICES
from notices.templates import render, renderer
from outbox.services import message_queue, messages_queue
from routing.models import Assignment
from units.models import Membership, Unit
from units.selectors import ROLE_BY_UNIT_KIND, Role

logger = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Shanghai")
# The resident's page stays reachable for a year after the message that carried its link.
STATUS_LINK_DAYS = 365


def _when(moment):
    return timezone.localtime(moment, TZ).strftime("%Y-%m-%d %H:%M")


def _parse(value):
    return datetime.fromisoformat(value) if value else None


class Moves:
    """Moves read together (a single move is a batch of one): each kind of row the table's groups
    and words need (the units the events name, the cases' lead assignments, the members of the
    units told, ...) is read once for all of them, when first asked for."""

    def __init__(self, events):
        self.moves = [Move(event, self) for event in events]
        self._read = {}

    def _once(self, name, read):
        if name not in self._read:
            self._read[name] = read()
        return self._read[name]

    def _case_ids(self):
        return {move.case.pk for move in self.moves}

    def units(self) -> dict:
        """{code: unit} of the units the events name, in one query."""

        def read():
            codes = {move.data.get(key) for move in self.moves for key in ("unit", "supervisor", "from_unit")}
            codes.discard(None)
            codes.discard("")
            return {u.code: u for u in Unit.objects.filter(code__in=codes).select_related("parent")}

        return self._once("units", read)

    def leads(self) -> dict:
        """{case id: its active lead assignment}, with the unit and its parent."""

        def read():
            leads = {}
            for lead in Assignment.objects.filter(
                case__in=self._case_ids(), role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES
            ).select_related("unit", "unit__parent"):
                leads.setdefault(lead.case_id, lead)
            return leads

        return self._once("leads", read)

    def supervisor_units(self) -> dict:
        """{case id: [unit ids supervising it now]}."""

        def read():
            rows = Supervision.objects.filter(case__in=self._case_ids(), ended_at__isnull=True)
            answer = {}
            for case_id, unit_id in rows.values_list("case_id", "unit_id").distinct():
                answer.setdefault(case_id, []).append(unit_id)
            return answer

        return self._once("supervisors", read)

    def paired(self) -> dict:
        """{community id: [the active units paired with it]} for the committees the events name."""

        def read():
            communities = {u.region_id for u in self.units().values() if u.kind == Unit.Kind.COMMITTEE and u.region_id}
            answer = {}
            rows = Unit.objects.filter(is_active=True, pairings__community_id__in=communities)
            for community_id, unit_id in rows.values_list("pairings__community_id", "pk"):
                answer.setdefault(community_id, []).append(unit_id)
            return answer

        return self._once("paired", read)

    def members_read(self, unit_ids):
        """Read the members of these units (beside those read before), in one query."""
        members = self._read.setdefault("members", {})
        missing = {pk for pk in unit_ids if pk is not None} - set(members)
        if not missing:
            return
        for pk in missing:
            members[pk] = []
        rows = Membership.objects.filter(unit__in=missing, user__is_active=True)
        for unit_id, user_id, role in rows.values_list("unit_id", "user_id", "role"):
            members[unit_id].append((user_id, role == Membership.Role.HEAD))

    def members(self, unit_ids) -> list:
        """(user id, is head) of everyone working in the units."""
        self.members_read(unit_ids)
        members = self._read["members"]
        return [person for pk in unit_ids if pk is not None for person in members[pk]]

    def dispatchers(self) -> list:
        return self._once(
            "dispatchers",
            lambda: list(
                Membership.objects.filter(unit__kind=Unit.Kind.CENTRE, user__is_active=True).values_list(
                    "user_id", flat=True
                )
            ),
        )

    def grid_workers(self) -> dict:
        def read():
            grids = {move.case.grid_id for move in self.moves}
            answer = {}
            rows = GridPosting.objects.filter(grid__code__in=grids, user__is_active=True)
            for grid, user_id in rows.values_list("grid__code", "user_id"):
                answer.setdefault(grid, []).append(user_id)
            return answer

        return self._once("grid_workers", read)

    def followers(self) -> dict:
        def read():
            answer = {}
            rows = Follow.objects.filter(case__in=self._case_ids(), user__is_active=True)
            for case_id, user_id in rows.values_list("case_id", "user_id"):
                answer.setdefault(case_id, []).append(user_id)
            return answer

        return self._once("followers", read)


class Move:
    """What the table's rows read about one move: the event, the case, the units it names (read
    with the other moves of its batch, `Moves`)."""

    def __init__(self, event, batch):
        self.event = event
        self.case = event.case
        self.data = event.data or {}
        self.batch = batch

    def unit(self, key="unit"):
        return self.batch.units().get(self.data.get(key) or "")

    def lead(self):
        return self.batch.leads().get(self.case.pk)

    def words(self):
        unit = self.unit()
        lead = self.lead()
        supervisor = self.unit("supervisor")
        limit = self.data.get("limit")
        until = _parse(self.data.get("until"))
        due = _parse(self.data.get("due"))
        return {
            "number": self.case.number,
            "title": self.case.title,
            "unit": unit.name if unit else (lead.unit.name if lead else ""),
            "lead": lead.unit.name if lead else "",
            "supervisor": supervisor.name if supervisor else "",
            "note": self.event.note,
            "reason": self.data.get("reason", ""),
            "until": _when(until) if until else "",
            "due": _when(due) if due else "",
            "deadline": DeadlineLimit(limit).label if limit in DeadlineLimit.values else "",
        }


def _members(units):
    """(user id, is head) of everyone working in `units`."""
    units = [unit for unit in units if unit is not None]
    if not units:
        return []
    return [
        (user_id, role == Membership.Role.HEAD)
        for user_id, role in Membership.objects.filter(unit__in=units, user__is_active=True).values_list(
            "user_id", "role"
        )
    ]


def _pk(unit):
    return unit.pk if unit is not None else None


def _street_over_lead(move):
    """The street office over the community holding the case (it decides its extensions)."""
    lead = move.lead()
    if lead is not None and lead.unit.kind == Unit.Kind.COMMITTEE:
        return [lead.unit.parent_id]
    return []


def _paired_agencies(move):
    """The agencies paired (结邻共建) with the community whose committee the event names."""
    unit = move.unit()
    if unit is None or unit.kind != Unit.Kind.COMMITTEE or unit.region_id is None:
        return []
    return move.batch.paired().get(unit.region_id, [])


# The groups of people the table names. Most are the members of some units: each of these answers
# the units' ids, and the members of all the units a batch of moves tells are read at once.
UNIT_GROUPS = {
    "event_unit": lambda move: [_pk(move.unit())],
    "event_unit_parent": lambda move: [move.unit().parent_id if move.unit() else None],
    "previous_unit": lambda move: [_pk(move.unit("from_unit"))],
    "supervisor_unit": lambda move: [_pk(move.unit("supervisor"))],
    "lead": lambda move: [move.lead().unit_id if move.lead() else None],
    "supervisors": lambda move: move.batch.supervisor_units().get(move.case.pk, []),
    "paired_agencies": _paired_agencies,
    "street_over_lead": _street_over_lead,
}
# The others answer [(user id, is head)] themselves.
PEOPLE_GROUPS = {
    "dispatchers": lambda move: [(user_id, False) for user_id in move.batch.dispatchers()],
    "grid_workers": lambda move: [(user_id, False) for user_id in move.batch.grid_workers().get(move.case.grid_id, [])],
    "followers": lambda move: [(user_id, False) for user_id in move.batch.followers().get(move.case.pk, [])],
}
GROUPS = {*UNIT_GROUPS, *PEOPLE_GROUPS}


def _people(move, who):
    if who in UNIT_GROUPS:
        return move.batch.members(UNIT_GROUPS[who](move))
    return PEOPLE_GROUPS[who](move)


CONDITIONS = {
    "extension_asked": lambda move: move.data.get("step") == "asked",
    "extension_approved": lambda move: move.data.get("step") == "approved",
    "extension_refused": lambda move: move.data.get("step") == "refused",
    "needs_verification": lambda move: move.case.category.requires_verification,
    # The acknowledgement: not to a caller who asked for confidentiality (the issue's rule).
    "caller_may_be_texted": lambda move: bool(move.case.caller_phone) and not move.case.caller_confidential,
    # Resolution and reopening: to every caller with a phone, as the resolution SMS always went.
    "caller_has_phone": lambda move: bool(move.case.caller_phone),
    # The case's lead (the unit the event names) is a community or village committee.
    "lead_is_committee": lambda move: move.unit() is not None and move.unit().kind == Unit.Kind.COMMITTEE,
}

# Where each notice's link leads (a URL name, with the case's number where it takes one).
LINKS = {
    "workspace": ("handling:workspace", True, ""),
    "case": ("cases:detail", True, ""),
    "queue": ("handling:queue", False, ""),
    "console": ("routing:console", False, "?tab=returned"),
    "extensions": ("routing:console-extensions", False, ""),
    "supervision": ("routing:supervision", False, ""),
    "verify": ("feedback:verify", True, ""),
    # A paired agency may not open the community's case: its 结邻共建 page instead.
    "contributions": ("volunteers:contributions", False, ""),
}


def _links(told) -> list[str]:
    """The link of each notice. Each URL is reversed once (reversing costs more than the rest of
    a notice): a case's link is the first one's with its number put in."""
    reversed_, links = {}, []
    for move, tell, _everyone, _text in told:
        url_name, takes_number, query = LINKS[tell.link]
        number = move.case.number if takes_number else ""
        if tell.link not in reversed_:
            reversed_[tell.link] = (number, reverse(url_name, args=[number]) if takes_number else reverse(url_name))
        first, url = reversed_[tell.link]
        links.append((url.replace(first, number, 1) if takes_number else url) + query)
    return links


def on_case_moved(sender, *, event, **kwargs):
    """The receiver of `cases.lifecycle.case_moved`: apply the table's rows for this move."""
    moves_tell([event])


def on_cases_moved(sender, *, events, **kwargs):
    """The receiver of `cases.lifecycle.cases_moved` (many moves at once: the deadline sweep)."""
    moves_tell(events)


def moves_tell(events):
    """Apply the notice table to the moves of `events`, all together: whatever the rows need is
    read once for the batch, the inbox rows are one INSERT and the SMS and emails one outbox
    write, however many moves (the resident's SMS, rare, are written one by one)."""
    events = [event for event in events if NOTICES.get(event.action)]
    if not events:
        return
    batch = Moves(events)
    with translation.override(settings.LANGUAGE_CODE):
        rows = [
            (move, tell)
            for move in batch.moves
            for tell in NOTICES[move.event.action]
            if not tell.when or CONDITIONS[tell.when](move)
        ]
        batch.members_read({pk for move, tell in rows if tell.who in UNIT_GROUPS for pk in UNIT_GROUPS[tell.who](move)})
        told, words = [], {}
        for move, tell in rows:
            if tell.who == "caller":
                _tell_the_resident(move, tell)
                continue
            people = dict(_people(move, tell.who))
            if move.event.actor_id is not None:
                # Nobody is told of their own move.
                people.pop(move.event.actor_id, None)
            if not people:
                continue
            if move not in words:
                words[move] = move.words()
            told.append((move, tell, people, (str(tell.text) % words[move])[:300]))
        _tell(told)


def _tell(told):
    """The inbox rows of every (move, row of the table, people, text), then the SMS and emails
    people chose."""
    if not told:
        return
    urls = _links(told)
    Notification.objects.bulk_create(
        Notification(user_id=user_id, case=move.case, kind=tell.kind, text=text, url=url)
        for (move, tell, people, text), url in zip(told, urls, strict=True)
        for user_id in people
    )
    chosen = _channels([(tell, people) for _move, tell, people, _text in told])
    told_more = sorted({pk for channels in chosen for pk, wanted in channels.items() if wanted})
    if not told_more:
        return
    quiet = quiet_hours_for(told_more)
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=told_more)}
    messages, staff_notice = [], renderer("staff_notice")
    for (move, tell, _everyone, text), url, channels in zip(told, urls, chosen, strict=True):
        urgent = tell.urgent or move.case.priority == Priority.EMERGENCY
        sms_text, params = staff_notice({"kind": Kind(tell.kind).label, "number": move.case.number})
        for pk in sorted(pk for pk, wanted in channels.items() if wanted):
            user, wanted = users[pk], channels[pk]
            if "sms" in wanted and user.phone:
                messages.append(
                    {
                        "channel": "sms",
                        "to": user.phone,
                        "text": sms_text,
                        "template": "staff_notice",
                        "params": params,
                        "key": f"notice:{move.event.pk}:{tell.kind}:{user.pk}:sms",
                        "emergency": urgent,
                        "user": user,
                        "quiet": quiet[user.pk],
                    }
                )
            if "email" in wanted and user.email:
                messages.append(
                    {
                        "channel": "email",
                        "to": user.email,
                        "text": f"{text}\n\n{settings.PUBLIC_URL}{url}",
                        "key": f"notice:{move.event.pk}:{tell.kind}:{user.pk}:email",
                        "user": user,
                    }
                )
    if messages:
        messages_queue(messages)


def inbox_tell(*, units, kind, text, url="", exclude=None) -> int:
    """Notices that are not about a case (the social half's needs and offers): a line in the
    inbox of everyone working in `units`, in the caller's transaction, written in the platform's
    language (`text` a callable, evaluated under it); the person acting (`exclude`) is not told.
    How many were told."""
    people = sorted({user_id for user_id, _head in _members(units)} - {getattr(exclude, "pk", exclude)})
    if not people:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        line = str(text())[:300]
    Notification.objects.bulk_create(Notification(user_id=pk, kind=kind, text=line, url=url) for pk in people)
    return len(people)


def channels_for(people: dict, tell) -> dict:
    """{user id: {"sms", "email"}}: each person's own choice for this kind, else what the
    defaults give them (`_from_defaults`)."""
    return _channels([(tell, people)])[0]


def _channels(told) -> list[dict]:
    """`channels_for` of each (row of the table, people), in four queries for all of them."""
    kinds = {tell.kind for tell, _people in told}
    everyone = {pk for _tell, people in told for pk in people}
    rows = Preference.objects.filter(kind__in=kinds, user_id__in=everyone).values("user_id", "kind", "sms", "email")
    own = {(row["user_id"], row["kind"]): _chosen(row) for row in rows}
    defaults = {}
    for row in RoleDefault.objects.filter(kind__in=kinds).values("role", "kind", "sms", "email"):
        defaults.setdefault(row["kind"], {})[row["role"]] = row
    roles = _roles_of(list(everyone)) if defaults else {}
    return [
        {
            user_id: own[user_id, tell.kind]
            if (user_id, tell.kind) in own
            else _from_defaults(roles.get(user_id, ()), is_head, defaults.get(tell.kind, {}), tell.heads_by)
            for user_id, is_head in people.items()
        }
        for tell, people in told
    ]


def _chosen(row) -> set:
    return {name for name in ("sms", "email") if row[name]}


def _from_defaults(roles, is_head, defaults, heads_by) -> set:
    """The administrator's defaults for the person's roles (any that says yes) for one kind, and
    for a head of a unit the table row's `heads_by` unless the administrator set a default for
    heads. `defaults`: {role: row} of that kind."""
    chosen = set().union(*(_chosen(defaults[role]) for role in roles if role in defaults))
    if is_head and Role.UNIT_HEAD not in defaults:
        chosen |= set(heads_by)
    return chosen


def _roles_of(user_ids) -> dict:
    """{user id: their roles (`units.selectors.Role`)}, for many people in two queries."""
    roles = {}
    for user_id, kind, role in Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "unit__kind", "role"
    ):
        roles.setdefault(user_id, set()).add(ROLE_BY_UNIT_KIND[kind])
        if role == Membership.Role.HEAD:
            roles[user_id].add(Role.UNIT_HEAD)
    for user_id in GridPosting.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True):
        roles.setdefault(user_id, set()).add(Role.GRID_WORKER)
    return roles


def quiet_hours_for(user_ids) -> dict:
    """{user id: (from, until) or None}: each person's own quiet hours, else the district's."""
    district = NoticeSettings.load()
    default = (district.quiet_from, district.quiet_until)
    own = {
        row.user_id: (row.starts, row.ends) if row.starts is not None else None
        for row in QuietHours.objects.filter(user_id__in=user_ids)
    }
    return {user_id: own.get(user_id, default) for user_id in user_ids}


# --- The resident -------------------------------------------------------------------------------


def status_link_issue(case) -> str:
    """A new token for the resident's page of `case` (only its hash is kept), readable for a year."""
    token = secrets.token_urlsafe(24)
    StatusLink.objects.create(
        case=case,
        token_hash=resident_link_hash(token),
        expires_at=timezone.now() + timedelta(days=STATUS_LINK_DAYS),
    )
    return token


def status_link_case(token) -> Case | None:
    """The case a resident's link names, or None for a link that is wrong or expired."""
    link = (
        StatusLink.objects.filter(token_hash=resident_link_hash(token or ""), expires_at__gt=timezone.now())
        .select_related("case")
        .first()
    )
    return link.case if link else None


def _tell_the_resident(move, tell):
    """An SMS to the caller through the outbox: the call is registered (at once, whatever the
    hour: they have just called), resolved (with the single-use link for their verdict) or
    being handled again."""
    case = move.case
    if not settings.PUBLIC_URL:
        logger.warning("PUBLIC_URL is not set: no SMS to the resident of case %s", case.number)
        return
    token = resident_link_issue(case=case) if tell.template == "case_resolved" else status_link_issue(case)
    text, params = render(tell.template, {"number": case.number, "token": token})
    message_queue(
        channel="sms",
        to=case.caller_phone,
        text=text,
        template=tell.template,
        params=params,
        key=f"resident:{move.event.pk}:{tell.template}",
        quiet=None if tell.template == "case_ack" else _district_quiet(),
    )


def _district_quiet():
    district = NoticeSettings.load()
    return (district.quiet_from, district.quiet_until)


# --- The inbox ----------------------------------------------------------------------------------


def notifications_read(*, user, ids=None) -> int:
    """Mark the person's own unread notices read: those in `ids`, or all of them. Answers how
    many changed; ids that are not theirs or already read change nothing."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def case_follow(*, case, user) -> None:
    """`user` hears when `case` is dispatched, resolved and closed."""
    Follow.objects.get_or_create(case=case, user=user)


def _defaults_of(user) -> dict:
    """{kind: {"sms", "email"}}: what the defaults alone give `user` for every kind, in three
    queries."""
    roles = _roles_of([user.pk]).get(user.pk, set())
    by_kind = {}
    for row in RoleDefault.objects.values("role", "kind", "sms", "email"):
        by_kind.setdefault(row["kind"], {})[row["role"]] = row
    is_head = Role.UNIT_HEAD in roles
    return {kind: _from_defaults(roles, is_head, by_kind.get(kind, {}), _heads_by(kind)) for kind in Kind.values}


@transaction.atomic
def preferences_save(*, user, channels: dict, quiet) -> None:
    """Save a person's choices: {kind: {"sms", "email"}} and their quiet hours: (from, until),
    None for none at all, or "district" for the district's default. A kind left as the defaults
    give it keeps no row of its own, so it follows the defaults when the administrator changes them."""
    defaults = _defaults_of(user)
    same = [kind for kind, chosen in channels.items() if set(chosen) == defaults[kind]]
    Preference.objects.filter(user=user, kind__in=same).delete()
    for kind, chosen in channels.items():
        if kind not in same:
            Preference.objects.update_or_create(
                user=user, kind=kind, defaults={"sms": "sms" in chosen, "email": "email" in chosen}
            )
    if quiet == "district":
        QuietHours.objects.filter(user=user).delete()
        return
    starts, ends = quiet if quiet else (None, None)
    QuietHours.objects.update_or_create(user=user, defaults={"starts": starts, "ends": ends})


def _heads_by(kind):
    """The channels the table gives heads for `kind` by default (red lights, notices, supervision)."""
    rows = (tell for tells in NOTICES.values() for tell in tells)
    return next((tell.heads_by for tell in rows if tell.kind == kind and tell.heads_by), ())


def preferences_for(user) -> dict:
    """The form's initial values: what this person hears by SMS and email for each kind now
    (their own choice, else the defaults), and their quiet hours. A handful of queries, not a
    few per kind."""
    chosen = _defaults_of(user)
    for row in Preference.objects.filter(user=user).values("kind", "sms", "email"):
        chosen[row["kind"]] = _chosen(row)
    initial = {}
    for kind, channels in chosen.items():
        initial[f"{kind}__sms"] = "sms" in channels
        initial[f"{kind}__email"] = "email" in channels
    own = QuietHours.objects.filter(user=user).first()
    if own is None:
        initial["quiet_mode"] = "district"
    elif own.starts is None:
        initial["quiet_mode"] = "none"
    else:
        initial.update(quiet_mode="own", quiet_from=own.starts, quiet_until=own.ends)
    return initial
