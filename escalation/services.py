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

import logging
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
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


def schedule(assignment, limit, due, *, calendar, policy) -> list[tuple[str, datetime]]:
    """The stages of one deadline and when each falls due, in order."""
    stages = []
    warn = warning_at(calendar, policy, assignment.dispatched_at, due)
    if warn < due:
        stages.append((Alert.Stage.WARNING, warn))
    stages.append((Alert.Stage.OVERDUE, due))
    stages.append((Alert.Stage.CHASE, _next_workday_start(calendar, due)))
    if assignment.unit.parent is not None:
        stages.append((Alert.Stage.NOTICE, calendar.add(due, policy.notice_after_days, LimitUnit.WORKING_DAYS)))
    if assignment.role == Assignment.Role.LEAD:
        for level, _unit in enumerate(supervisors_of(assignment.unit), start=1):
            days = policy.supervise_after_days + (level - 1) * policy.step_up_after_days
            stages.append((SUPERVISION_STAGES[level - 1], calendar.add(due, days, LimitUnit.WORKING_DAYS)))
    return stages


def _record(case, action, data, note=""):
    try:
        lifecycle.apply(case=case, action=action, actor=None, note=note, data=data)
    except lifecycle.TransitionNotAllowed:
        # An active assignment on a closed case is a data error to fix, not a reason to stop the
        # sweep: the alert stays recorded (nobody is told: notices follow the case's events).
        logger.warning("case %s: no %s event in status %s", case.number, action, case.status)


def _fire(assignment, limit, due, stage, now) -> Alert | None:
    """Happen once: insert the stage's alert; only the winner of the insert records the stage's
    event, and the notice table (notices/table.py) tells the unit, its heads and the supervisors."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(assignment=assignment, limit=limit, due=due, stage=stage, at=now)
    except IntegrityError:
        return None
    case, unit = assignment.case, assignment.unit
    data = {"unit": unit.code, "limit": limit, "due": due.isoformat(), "stage": stage}
    if stage in SUPERVISION_STAGES:
        level = SUPERVISION_STAGES.index(stage) + 1
        supervisor = supervisors_of(unit)[level - 1]
        _supervise(assignment=assignment, supervisor=supervisor, level=level, now=now, data=data)
    else:
        _record(case, STAGE_ACTIONS[stage], data)
    return alert


def _supervise(*, assignment, supervisor, level, now, data):
    case = assignment.case
    try:
        with transaction.atomic():
            Supervision.objects.create(case=case, assignment=assignment, unit=supervisor, level=level, started_at=now)
    except IntegrityError:
        # Already supervised at this level (another deadline of the same assignment got there
        # first): the alert is recorded, nothing is said twice.
        return
    _record(case, "supervise", {**data, "supervisor": supervisor.code, "level": level})


def assignment_check(*, assignment_id, now=None, calendar=None, policy=None) -> list[str]:
    """Fire every stage of the assignment that is due and not yet fired, then store when the
    next one falls due. Answers the stages fired.

    Keeps: each stage at most once (unique alerts), and `next_check_at` no later than the next
    unfired stage. Locks the case first, as every service does, so it never deadlocks with a
    person acting on the case; a case someone holds right now is skipped and looked at next time.
    """
    now = now or timezone.now()
    calendar = calendar or WorkCalendar.load()
    policy = policy or EscalationPolicy.current()
    fired = []
    with transaction.atomic():
        case_id = Assignment.objects.filter(pk=assignment_id).values_list("case_id", flat=True).first()
        locked = Case.objects.select_for_update(skip_locked=True).filter(pk=case_id).values_list("pk", flat=True)
        if case_id is None or locked.first() is None:
            return fired
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("case", "unit__parent__parent__parent")
            .filter(pk=assignment_id, state__in=Assignment.ACTIVE_STATES)
            .first()
        )
        if assignment is None:
            return fired
        done = set(Alert.objects.filter(assignment=assignment).values_list("limit", "due", "stage"))
        upcoming = []
        for limit, due in open_deadlines(assignment):
            for stage, at in schedule(assignment, limit, due, calendar=calendar, policy=policy):
                if (limit, due, stage) in done:
                    continue
                if at > now:
                    upcoming.append(at)
                elif _fire(assignment, limit, due, stage, now) is not None:
                    fired.append(stage)
        Assignment.objects.filter(pk=assignment.pk).update(next_check_at=min(upcoming, default=None))
    return fired


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
        for assignment_id in ids:
            try:
                fired += len(assignment_check(assignment_id=assignment_id, now=now, calendar=calendar, policy=policy))
            except Exception:
                logger.exception("deadline check of assignment %s failed", assignment_id)
    return {"checked": len(ids), "fired": fired, "ended": supervisions_end(now=now)}


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
