"""The deadline sweep (一呼百应): warnings, overdue alerts, chase notices, formal notices and
supervision up the levels, and the supervisor's actions on a supervised case.

For every active assignment and each deadline it still has to meet (sign-for, first contact,
resolution) the stages fall due at moments computed from the deadline, the work calendar and the
`EscalationPolicy`:

- warning 黄灯: the policy's share (75%) of the time to the deadline has gone by; to the unit.
- overdue 红灯: at the deadline; to the unit, and its heads by SMS and email.
- chase 催办: the start of the next working day; to the unit.
- notice 通报: after N overdue working days (5); to the level above, and the unit.
- supervision 督办: after M overdue working days (7), then one level further up every K more (5);
  to the supervising unit, the unit, and its heads by SMS.

Supervision is of the lead unit's part only: a committee's case is supervised by its street office,
then by the district leadership; a street office's or a department's by the leadership.

Exactly once: each stage is an `Alert` row under a unique constraint, inserted in the same
transaction as its notifications, case event and outbox messages. Of two sweeps (or a sweep re-run
after a crash) only one insert wins; the loser writes nothing. The sweep reads the assignments
whose `next_check_at` has come (a partial index), so its cost follows what is due now.
"""

import itertools
import logging
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.models import Case
from deadlines.models import LimitUnit
from deadlines.worktime import TZ, WorkCalendar
from escalation.models import Alert, DeadlineLimit, EscalationPolicy, Supervision
from notices.models import NoticeSettings
from notices.templates import render
from outbox.services import message_queue
from routing.dispatch import lead_assignment
from routing.models import Assignment
from routing.selectors import next_due, supervision_acting_for
from units.models import Membership, Unit

logger = logging.getLogger(__name__)

SWEEP_BATCH = 1000
SUPERVISION_STAGES = (Alert.Stage.SUPERVISE_1, Alert.Stage.SUPERVISE_2, Alert.Stage.SUPERVISE_3)
# The case event written for each stage (status-keeping moves in cases/lifecycle.py).
STAGE_ACTIONS = {
    Alert.Stage.WARNING: "deadline_warning",
    Alert.Stage.OVERDUE: "overdue",
    Alert.Stage.CHASE: "chase",
    Alert.Stage.NOTICE: "notice",
}


def _when(moment):
    return timezone.localtime(moment, TZ).strftime("%Y-%m-%d %H:%M")


def _next_workday_start(calendar, moment):
    """The start of office hours on the first working day after `moment`'s day."""
    day = timezone.localtime(moment, TZ).date() + timedelta(days=1)
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=TZ) + timedelta(microseconds=calendar.periods[0][0])


def warning_at(calendar, policy, start, due):
    """When the policy's share of the working time between `start` and `due` has gone by, so
    that nights and weekends do not bring a warning early. A deadline with less than a working
    hour in it (an emergency reported at night, counted in calendar hours) is shared out on the
    clock instead."""
    share = Decimal(policy.warning_percent) / 100
    working = Decimal(str(calendar.working_seconds_between(start, due)))
    if working < 3600:
        return start + (due - start) * float(share)
    return calendar.add(start, working * share / 3600, LimitUnit.WORKING_HOURS)


def supervisors_of(unit) -> list[Unit]:
    """The units that supervise `unit`'s cases, level by level: its escalation parents."""
    chain, above = [], unit.parent
    while above is not None and len(chain) < len(SUPERVISION_STAGES):
        chain.append(above)
        above = above.parent
    return chain


def open_deadlines(assignment) -> list[tuple[str, datetime]]:
    """The deadlines the assignment still has to meet."""
    deadlines = []
    if assignment.state == Assignment.State.WAITING:
        deadlines.append((DeadlineLimit.SIGN, assignment.sign_due))
    if assignment.contact_due is not None and assignment.contacted_at is None:
        deadlines.append((DeadlineLimit.CONTACT, assignment.contact_due))
    deadlines.append((DeadlineLimit.RESOLVE, assignment.resolve_due))
    return deadlines


# The stages that come in this order and before every later one (a notice and a supervision come
# at least a working day after the deadline, so after the chase): a reader of a schedule may stop
# at the first of these still to come.
EARLY_STAGES = (Alert.Stage.WARNING, Alert.Stage.OVERDUE, Alert.Stage.CHASE)


def schedule(assignment, limit, due, *, calendar, policy, fired=frozenset()) -> Iterator[tuple[str, datetime]]:
    """The stages of one deadline and when each falls due, in order, each computed when asked
    for; those in `fired` (already done) are left out without computing their moment."""
    if Alert.Stage.WARNING not in fired:
        warn = warning_at(calendar, policy, assignment.dispatched_at, due)
        if warn < due:
            yield Alert.Stage.WARNING, warn
    if Alert.Stage.OVERDUE not in fired:
        yield Alert.Stage.OVERDUE, due
    if Alert.Stage.CHASE not in fired:
        yield Alert.Stage.CHASE, _next_workday_start(calendar, due)
    if assignment.unit.parent is not None and Alert.Stage.NOTICE not in fired:
        yield Alert.Stage.NOTICE, calendar.add(due, policy.notice_after_days, LimitUnit.WORKING_DAYS)
    if assignment.role == Assignment.Role.LEAD:
        for level, _unit in enumerate(supervisors_of(assignment.unit), start=1):
            if SUPERVISION_STAGES[level - 1] not in fired:
                days = policy.supervise_after_days + (level - 1) * policy.step_up_after_days
                yield SUPERVISION_STAGES[level - 1], calendar.add(due, days, LimitUnit.WORKING_DAYS)


def _alerts_insert(due_now, now) -> set:
    """Insert the alerts of the stages due now, in one statement; answers the keys (assignment
    id, limit, due, stage) of those inserted here. A stage another sweep fired already (or fires
    at this moment: the insert waits for its commit) conflicts and is not answered."""
    if not due_now:
        return set()
    columns = list(zip(*((assignment.pk, limit, due, stage) for assignment, limit, due, stage in due_now), strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Alert._meta.db_table} (assignment_id, "limit", due, stage, at)
            SELECT v.assignment_id, v.limit, v.due, v.stage, %s
            FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::text[]) WITH ORDINALITY
                AS v(assignment_id, "limit", due, stage, n)
            ORDER BY v.n
            ON CONFLICT DO NOTHING
            RETURNING assignment_id, "limit", due, stage""",
            [now, *(list(column) for column in columns)],
        )
        return set(cursor.fetchall())


def _supervisions_insert(wanted, now) -> set:
    """Start the supervisions of `wanted` ({(assignment id, level): (assignment, supervisor)}),
    in one statement; answers the keys of those started here (one may be in force already:
    another deadline of the same assignment got there first, in an earlier sweep)."""
    if not wanted:
        return set()
    rows = [(assignment.case_id, assignment.pk, unit.pk, level) for (_pk, level), (assignment, unit) in wanted.items()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Supervision._meta.db_table} (case_id, assignment_id, unit_id, level, started_at)
            SELECT v.case_id, v.assignment_id, v.unit_id, v.level, %s
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::int[]) WITH ORDINALITY
                AS v(case_id, assignment_id, unit_id, level, n)
            ORDER BY v.n
            ON CONFLICT DO NOTHING
            RETURNING assignment_id, level""",
            [now, *(list(column) for column in zip(*rows, strict=True))],
        )
        return set(cursor.fetchall())


def _moves(fired, now) -> list:
    """The case events of the stages fired, in the order they fired: one per stage, and for a
    supervision stage one when the supervision at that level starts (once per level)."""
    wanted = {}
    for assignment, _limit, _due, stage in fired:
        if stage in SUPERVISION_STAGES:
            level = SUPERVISION_STAGES.index(stage) + 1
            wanted.setdefault((assignment.pk, level), (assignment, supervisors_of(assignment.unit)[level - 1]))
    started = _supervisions_insert(wanted, now)
    moves = []
    for assignment, limit, due, stage in fired:
        case = assignment.case
        data = {"unit": assignment.unit.code, "limit": limit, "due": due.isoformat(), "stage": stage}
        if stage not in SUPERVISION_STAGES:
            moves.append((case, STAGE_ACTIONS[stage], data))
            continue
        level = SUPERVISION_STAGES.index(stage) + 1
        if (assignment.pk, level) in started:
            # Already supervised at this level otherwise: the alert is recorded, nothing is said twice.
            started.discard((assignment.pk, level))
            supervisor = wanted[assignment.pk, level][1]
            moves.append((case, "supervise", {**data, "supervisor": supervisor.code, "level": level}))
    allowed = []
    for case, action, data in moves:
        if lifecycle.is_allowed(action, case.status):
            allowed.append((case, action, data))
        else:
            # An active assignment on a closed case is a data error to fix, not a reason to stop
            # the sweep: the alert stays recorded (nobody is told: notices follow the case's events).
            logger.warning("case %s: no %s event in status %s", case.number, action, case.status)
    return allowed


def _next_checks_store(next_checks):
    """Each assignment's next check (None: nothing left to fire), in one statement."""
    if not next_checks:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Assignment._meta.db_table} AS a SET next_check_at = v.at
            FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE a.id = v.id""",
            [list(next_checks), list(next_checks.values())],
        )


def assignments_check(*, ids, now=None, calendar=None, policy=None) -> list[str]:
    """Fire every stage of the assignments `ids` that is due and not yet fired, then store when
    the next one of each falls due. Answers the stages fired.

    Set-based: the same statements for one assignment or a thousand (lock the cases, read the
    assignments and their alerts, insert the alerts, start the supervisions, write the events and
    the notices, store the next checks); the schedules are computed here from the rows read.

    Keeps: each stage at most once (unique alerts; only the stages whose insert won are told),
    and `next_check_at` no later than the next unfired stage. Locks the cases first, as every
    service does, in one statement that skips those someone holds right now (a person acting on
    one, another sweep): they are looked at next time, so the sweep never waits for a person nor
    deadlocks with one.
    """
    now = now or timezone.now()
    calendar = calendar or WorkCalendar.load()
    policy = policy or EscalationPolicy.current()
    with transaction.atomic():
        cases = {
            case.pk: case
            for case in Case.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk__in=Assignment.objects.filter(pk__in=ids).values("case_id"))
            .order_by("pk")
        }
        if not cases:
            return []
        assignments = list(
            Assignment.objects.select_for_update()
            .filter(pk__in=ids, case__in=list(cases), state__in=Assignment.ACTIVE_STATES)
            .order_by("pk")
        )
        if not assignments:
            return []
        done = {}
        for assignment_id, limit, due, stage in Alert.objects.filter(assignment__in=assignments).values_list(
            "assignment_id", "limit", "due", "stage"
        ):
            done.setdefault((assignment_id, limit, due), set()).add(stage)
        units = _units()
        due_now, next_checks = [], {}
        for assignment in assignments:
            assignment.case, assignment.unit = cases[assignment.case_id], units[assignment.unit_id]
            upcoming = []
            for limit, due in open_deadlines(assignment):
                fired = done.get((assignment.pk, limit, due), frozenset())
                for stage, at in schedule(assignment, limit, due, calendar=calendar, policy=policy, fired=fired):
                    if at <= now:
                        due_now.append((assignment, limit, due, stage))
                        continue
                    upcoming.append(at)
                    if stage in EARLY_STAGES:
                        break  # every later stage of this deadline comes after this one
            next_checks[assignment.pk] = min(upcoming, default=None)
        won = _alerts_insert(due_now, now)
        fired = [row for row in due_now if (row[0].pk, *row[1:]) in won]
        lifecycle.apply_many(_moves(fired, now))
        _next_checks_store(next_checks)
    return [stage for _assignment, _limit, _due, stage in fired]


def _units() -> dict:
    """{id: unit} of every unit, each with its parent (the levels of supervision), in one query:
    a district has a few hundred, fewer than the assignments of a busy sweep."""
    units = {unit.pk: unit for unit in Unit.objects.all()}
    for unit in units.values():
        unit.parent = units.get(unit.parent_id)
    return units


def assignment_check(*, assignment_id, now=None, calendar=None, policy=None) -> list[str]:
    """`assignments_check` of one assignment."""
    return assignments_check(ids=[assignment_id], now=now, calendar=calendar, policy=policy)


def supervisions_end(*, now=None) -> int:
    """End the supervisions whose assignment is no longer active (resolved, returned, withdrawn).
    Reads only supervisions in force."""
    return (
        Supervision.objects.filter(ended_at__isnull=True)
        .exclude(assignment__state__in=Assignment.ACTIVE_STATES)
        .update(ended_at=now or timezone.now())
    )


def deadlines_sweep(*, now=None, limit=SWEEP_BATCH) -> dict:
    """One run of the sweep: the assignments whose next check has come, oldest first.

    Safe to run twice, beside itself, and after a crash: every stage is an insert under a unique
    constraint, and a run that died half-way leaves `next_check_at` where it was, so the next run
    picks the rest up.
    """
    now = now or timezone.now()
    ids = list(
        Assignment.objects.filter(state__in=Assignment.ACTIVE_STATES, next_check_at__lte=now)
        .order_by("next_check_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    fired = 0
    if ids:
        calendar, policy = WorkCalendar.load(), EscalationPolicy.current()
        for batch in itertools.batched(ids, SWEEP_BATCH):
            fired += _batch_check(batch, now=now, calendar=calendar, policy=policy)
    return {"checked": len(ids), "fired": fired, "ended": supervisions_end(now=now)}


def _batch_check(ids, **context) -> int:
    """`assignments_check` of a batch in one transaction. Should it fail, each assignment of the
    batch is checked by itself, so that one that cannot be checked (a deadline in a year the work
    calendar does not cover) holds back only itself."""
    try:
        return len(assignments_check(ids=ids, **context))
    except Exception:
        if len(ids) == 1:
            logger.exception("deadline check of assignment %s failed", ids[0])
            return 0
        logger.warning("deadline check of %s assignments failed; checking each by itself", len(ids), exc_info=True)
        return sum(_batch_check((assignment_id,), **context) for assignment_id in ids)


def digests_send(*, now=None) -> int:
    """The daily digest to every unit head, on working days, from the time and with the counts
    the administrator set (`notices.NoticeSettings`): the unit's cases overdue, due today, waiting
    to be signed for. Once per head, unit and day (the outbox key; the settings row records the
    day it ran, so the task can run every few minutes); units with nothing to count get no
    message. Answers the number of messages handed to the outbox. Written in the platform's
    language, whatever language the process running it has active."""
    with translation.override(settings.LANGUAGE_CODE):
        return _digests_send(now=now)


def _digests_send(*, now):
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    local = timezone.localtime(now, TZ)
    today = local.date()
    digest = NoticeSettings.load()
    if not calendar.is_workday(today) or local.time() < digest.digest_at or digest.digest_sent_on == today:
        return 0
    end_of_day = datetime.combine(today + timedelta(days=1), time(), tzinfo=TZ)
    heads = Membership.objects.filter(role=Membership.Role.HEAD, user__is_active=True, unit__is_active=True)
    counts = (
        Assignment.objects.filter(state__in=Assignment.ACTIVE_STATES, unit__in=heads.values("unit"))
        .annotate(due=next_due())
        .values("unit")
        .annotate(
            overdue=Count("id", filter=Q(due__lt=now)),
            today=Count("id", filter=Q(due__gte=now, due__lt=end_of_day)),
            waiting=Count("id", filter=Q(state=Assignment.State.WAITING)),
        )
    )
    parts = [
        (digest.digest_overdue, "overdue", _("%(count)s cases overdue")),
        (digest.digest_due_today, "today", _("%(count)s due today")),
        (digest.digest_waiting, "waiting", _("%(count)s waiting to be signed for")),
    ]
    parts = [(field, words) for wanted, field, words in parts if wanted]
    by_unit = {row["unit"]: row for row in counts if any(row[field] for field, _words in parts)}
    channels = [name for name, wanted in (("sms", digest.digest_sms), ("email", digest.digest_email)) if wanted]
    written = 0
    with transaction.atomic():
        # Of two runs at once, one records the day and sends; the other stops here.
        if not NoticeSettings.objects.filter(pk=digest.pk).exclude(digest_sent_on=today).update(digest_sent_on=today):
            return 0
        for membership in heads.filter(unit__in=list(by_unit)).select_related("user", "unit"):
            row, head, unit = by_unit[membership.unit_id], membership.user, membership.unit
            counted = "，".join(str(words % {"count": row[field]}) for field, words in parts)
            words_ = {"unit": unit.name, "date": today.isoformat(), "counts": counted}
            text = _("%(unit)s, %(date)s: %(counts)s.") % words_
            for channel in channels:
                to = head.phone if channel == "sms" else head.email
                if not to:
                    continue
                sms_text, params = (
                    render("staff_digest", {"unit": unit.name, "date": today.strftime("%m月%d日"), "counts": counted})
                    if channel == "sms"
                    else (text, ())
                )
                message_queue(
                    channel=channel,
                    to=to,
                    text=sms_text,
                    template="staff_digest" if channel == "sms" else "",
                    params=params,
                    key=f"digest:{today}:{unit.pk}:{head.pk}:{channel}",
                    user=head,
                )
                written += 1
    return written


# The supervisor's actions. Each is allowed through a supervision in force (routing.selectors
# .supervision_acting_for); the page and the API call these.


def _supervision_for(case, actor):
    supervision = supervision_acting_for(actor, case)
    if supervision is None:
        raise NotPermitted(_("Only a unit supervising this case may do this."))
    return supervision


def case_urge(*, case, actor, note) -> Supervision:
    """A supervisor urges the unit handling the case (a note its staff see in their inbox and on
    the case's timeline)."""
    with lifecycle.moving(case, "urge", actor, note=note) as move:
        case = move.case
        supervision = _supervision_for(case, actor)
        if not note.strip():
            raise InvalidInput(_("Write what you ask of the unit."), "note")
        move.check()
        move.data["supervisor"] = supervision.unit.code
    return supervision


def case_set_deadline(*, case, actor, until, reason) -> Assignment:
    """A supervisor gives the lead unit a new resolution deadline. The sweep looks at the
    assignment again at once, so a nearer deadline is warned about in time; a new deadline starts
    its stages afresh."""
    with lifecycle.moving(case, "set_deadline", actor, note=reason) as move:
        case = move.case
        supervision = _supervision_for(case, actor)
        if not reason.strip():
            raise InvalidInput(_("Say why the deadline changes."), "reason")
        now = timezone.now()
        if until <= now:
            raise InvalidInput(_("The deadline must be in the future."), "until")
        move.check()
        lead = lead_assignment(case)
        move.data.update(
            {"supervisor": supervision.unit.code, "from": lead.resolve_due.isoformat(), "until": until.isoformat()}
        )
        Assignment.objects.filter(pk=lead.pk).update(resolve_due=until, next_check_at=now)
    lead.refresh_from_db()
    return lead
