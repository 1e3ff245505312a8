"""一呼百应, the social half: volunteer teams and their volunteers, the tasks units publish for them
(任务发布, campaigns across communities), the needs communities post and units take up (需求对接),
the standing services residents book (预约服务), the points ledger (志愿活动积分) and its rewards, and
the monthly joint meetings with the paired agencies (结邻共建 联席会议). See docs/volunteers.md.

Every stateful row here (task, sign-up, need, offer, booking, redemption) moves only through its
table of moves in `volunteers/moves.py` (`cases.moves.rows_move`)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from grids.models import Region
from units.models import Unit


def _skills():
    return ArrayField(
        models.CharField(max_length=20),
        verbose_name=_("skills"),
        default=list,
        blank=True,
        help_text=_("One per line."),
    )


class Team(models.Model):
    """A volunteer team (党员志愿服务队): a unit of kind `social` that can take work (called in on a
    case like any unit), with its level, leader, skills and the area it serves. The district has
    62 district-level teams, 12 street teams, 178 community or village teams and 9 special squads."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("district department team")
        STREET = "street", _("street team")
        COMMUNITY = "community", _("community or village team")
        SPECIAL = "special", _("special squad")

    unit = models.OneToOneField(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="team")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    # Home: the district, a street or a community (the unit's own region is the same place).
    home = models.ForeignKey(Region, verbose_name=_("home"), on_delete=models.PROTECT, related_name="+")
    # Where it serves: its home, or wider (a special squad serves the whole district).
    area = models.ForeignKey(Region, verbose_name=_("service area"), on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(
        "Volunteer", verbose_name=_("leader"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    skills = _skills()
    # A department team's own department (区直 teams are its staff volunteering).
    sponsor = models.ForeignKey(
        Unit, verbose_name=_("sponsor"), on_delete=models.SET_NULL, null=True, blank=True, related_name="teams"
    )

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["unit__code"]
        indexes = [models.Index(fields=["level"], name="team_level")]

    def __str__(self):
        return self.unit.name


class Volunteer(models.Model):
    """A person who volunteers: their own account (a phone page and the API), phone, skills,
    when they are free, and the teams they are in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="volunteer"
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    home = models.ForeignKey(
        Region, verbose_name=_("lives in"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skills = _skills()
    availability = models.CharField(
        _("availability"), max_length=100, blank=True, help_text=_("When they are free: weekends, evenings...")
    )
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), through="TeamMember", related_name="volunteers")
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["phone"], name="volunteer_phone")]

    def __str__(self):
        return self.name


class TeamMember(models.Model):
    """A volunteer in a team."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="members")
    volunteer = models.ForeignKey(Volunteer, verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="teammember_once")]

    def __str__(self):
        return f"{self.volunteer_id} · {self.team_id}"


class Campaign(models.Model):
    """A campaign (创城、创卫、防汛...) a unit runs across many communities: one task per community."""

    class Kind(models.TextChoices):
        CIVILISED_CITY = "civilised", _("civilised city (创城)")
        HYGIENE = "hygiene", _("hygienic city (创卫)")
        FLOOD = "flood", _("flood prevention (防汛)")
        EPIDEMIC = "epidemic", _("epidemic prevention (疫情防控)")
        OTHER = "other", _("other")

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    publisher = models.ForeignKey(Unit, verbose_name=_("publisher"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Task(models.Model):
    """Work a unit publishes for volunteers (任务发布): from a case, a need of its own, or a campaign;
    with a place, a time window, the skills and number of people wanted, and a sign-up deadline.
    `taken` counts the live sign-ups; a sign-up is accepted by a conditional UPDATE of it
    (`taken < wanted`), so two volunteers never both take the last place."""

    class Source(models.TextChoices):
        CASE = "case", _("from a case")
        OWN = "own", _("a need of its own")
        CAMPAIGN = "campaign", _("a campaign")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("confirmed")
        CANCELLED = "cancelled", _("cancelled")

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.OWN)
    publisher = models.ForeignKey(Unit, verbose_name=_("publisher"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), on_delete=models.PROTECT, related_name="+"
    )
    # Where: a street, a community or a grid; teams and volunteers whose area holds it see it.
    region = models.ForeignKey(Region, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    starts = models.DateTimeField(_("starts"))
    ends = models.DateTimeField(_("ends"))
    deadline = models.DateTimeField(_("sign up by"))
    skills = _skills()
    wanted = models.PositiveIntegerField(_("people wanted"))
    taken = models.PositiveIntegerField(_("signed up"), default=0)
    emergency = models.BooleanField(_("emergency"), default=False, help_text=_("Points carry the emergency bonus."))
    # Addressed to one team or paired agency (结邻共建), or open to every team of the area.
    addressed_to = models.ForeignKey(
        Unit, verbose_name=_("for"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("published at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["-starts", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["open", "done", "cancelled"]), name="task_state_valid"),
            models.CheckConstraint(condition=Q(taken__lte=models.F("wanted")), name="task_not_overfull"),
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="task_ends_after_start"),
            models.CheckConstraint(condition=Q(wanted__gte=1), name="task_wants_someone"),
        ]
        indexes = [
            models.Index(fields=["region", "starts"], condition=Q(state="open"), name="task_open_region"),
            models.Index(fields=["publisher", "state"], name="task_publisher_state"),
            # The social-forces dashboard's period reads (dashboards/social.py).
            models.Index(fields=["created_at"], name="task_created_at"),
            models.Index(fields=["confirmed_at"], condition=Q(state="done"), name="task_done_at"),
        ]

    def __str__(self):
        return self.title


class Signup(models.Model):
    """A volunteer signed up for a task: checked in and out on the day (times, an optional photo),
    then confirmed by the publisher with the hours credited."""

    class State(models.TextChoices):
        SIGNED = "signed", _("signed up")
        CHECKED_IN = "checked_in", _("checked in")
        CHECKED_OUT = "checked_out", _("checked out")
        CONFIRMED = "confirmed", _("confirmed")
        WITHDRAWN = "withdrawn", _("withdrawn")
        ABSENT = "absent", _("did not come")

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="signups"
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SIGNED)
    # The team that signed the volunteer up (its leader or staff, for members), or none: themselves.
    team = models.ForeignKey(
        Team, verbose_name=_("signed up by team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    photo = models.ImageField(_("photo"), upload_to="tasks/%Y/%m/", blank=True)
    hours = models.DecimalField(_("hours credited"), max_digits=5, decimal_places=2, null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "volunteer"], name="signup_once"),
            models.CheckConstraint(
                condition=Q(state__in=["signed", "checked_in", "checked_out", "confirmed", "withdrawn", "absent"]),
                name="signup_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "state"], name="signup_volunteer_state"),
            # The social-forces dashboard's hours of a period (dashboards/social.py).
            models.Index(fields=["confirmed_at"], condition=Q(state="confirmed"), name="signup_confirmed_at"),
        ]

    def __str__(self):
        return f"{self.volunteer} · {self.task}"


class Need(models.Model):
    """需求对接: a community posts what it needs (a service, a resource); departments and paired
    agencies offer to take it up; the accepted offer's result is recorded."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("a service")
        RESOURCE = "resource", _("a resource")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        MATCHED = "matched", _("taken up")
        DONE = "done", _("done")
        WITHDRAWN = "withdrawn", _("withdrawn")

    community = models.ForeignKey(Region, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    posted_by = models.ForeignKey(Unit, verbose_name=_("posted by"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    taken_by = models.ForeignKey(
        Unit, verbose_name=_("taken up by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    matched_at = models.DateTimeField(_("taken up at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["open", "matched", "done", "withdrawn"]), name="need_state_valid"
            ),
        ]

    def __str__(self):
        return self.title


class Offer(models.Model):
    """A unit's offer to take up a need; the community accepts one (the need is matched)."""

    class State(models.TextChoices):
        OFFERED = "offered", _("offered")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")

    need = models.ForeignKey(Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="offers")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OFFERED)
    created_at = models.DateTimeField(_("offered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["need", "unit"], name="offer_once"),
            models.CheckConstraint(
                condition=Q(state__in=["offered", "accepted", "declined"]), name="offer_state_valid"
            ),
        ]

    def __str__(self):
        return f"{self.unit} → {self.need}"


class Service(models.Model):
    """A standing service a team offers (爱心食堂 meals, meal delivery, health checks, errands),
    with how many residents it can serve a day."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(_("residents a day"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("standing service")
        verbose_name_plural = _("standing services")
        ordering = ["team", "name"]

    def __str__(self):
        return self.name


class ServiceDay(models.Model):
    """One day of a service: its capacity and how many are booked. A booking takes a place by a
    conditional UPDATE (`booked < capacity`), so two clerks booking the last place at once get one
    booking and one refusal."""

    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("day"))
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(_("booked"), default=0)

    class Meta:
        verbose_name = _("service day")
        verbose_name_plural = _("service days")
        constraints = [
            models.UniqueConstraint(fields=["service", "day"], name="serviceday_once"),
            models.CheckConstraint(condition=Q(booked__lte=models.F("capacity")), name="serviceday_not_overbooked"),
        ]

    def __str__(self):
        return f"{self.service} {self.day}: {self.booked}/{self.capacity}"


class Booking(models.Model):
    """A resident's place on a day of a service (预约服务), booked by a community clerk or by the
    resident on their own page; the team confirms it and records it done (and who served)."""

    class State(models.TextChoices):
        BOOKED = "booked", _("booked")
        CONFIRMED = "confirmed", _("confirmed")
        DONE = "done", _("served")
        CANCELLED = "cancelled", _("cancelled")

    day = models.ForeignKey(ServiceDay, verbose_name=_("day"), on_delete=models.PROTECT, related_name="bookings")
    resident_name = models.CharField(_("resident"), max_length=50)
    resident_phone = models.CharField(_("resident's phone"), max_length=20)
    address = models.CharField(_("address"), max_length=200, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    served_by = models.ForeignKey(
        Volunteer, verbose_name=_("served by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.BOOKED)
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    done_at = models.DateTimeField(_("served at"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["booked", "confirmed", "done", "cancelled"]), name="booking_state_valid"
            ),
        ]
        # The social-forces dashboard's bookings served in a period (dashboards/social.py).
        indexes = [models.Index(fields=["done_at"], condition=Q(state="done"), name="booking_done_at")]

    def __str__(self):
        return f"{self.resident_name} · {self.day}"


class PointRule(models.Model):
    """How many points a kind of work earns, kept in the admin: per confirmed task hour, per
    booking served, and the bonus for an emergency task (per hour)."""

    class Kind(models.TextChoices):
        TASK_HOUR = "task_hour", _("per task hour")
        BOOKING = "booking", _("per booking served")
        EMERGENCY_HOUR = "emergency", _("emergency bonus per hour")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, unique=True)
    points = models.PositiveIntegerField(_("points"))

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.points}"


class Reward(models.Model):
    """Something a community offers for points, with its stock (never below zero)."""

    community = models.ForeignKey(Region, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    cost = models.PositiveIntegerField(_("points"))
    stock = models.PositiveIntegerField(_("in stock"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["community", "cost"]
        constraints = [models.CheckConstraint(condition=Q(stock__gte=0), name="reward_stock_not_negative")]

    def __str__(self):
        return self.name


class PointEntry(models.Model):
    """One line of a volunteer's points ledger: earned (a confirmed task, a booking served), spent
    (a reward), or corrected with a reason. Never edited, never deleted: a correction is a new line.
    The balance is the sum; spending locks the volunteer's row and checks it first."""

    class Kind(models.TextChoices):
        TASK = "task", _("task")
        BOOKING = "booking", _("booking served")
        REDEMPTION = "redemption", _("reward")
        CORRECTION = "correction", _("correction")

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="points"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    signup = models.OneToOneField(
        Signup, verbose_name=_("sign-up"), on_delete=models.PROTECT, null=True, blank=True, related_name="points_entry"
    )
    booking = models.OneToOneField(
        Booking, verbose_name=_("booking"), on_delete=models.PROTECT, null=True, blank=True, related_name="points_entry"
    )
    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Where the points were earned, written with the line: the task's place, or the home of the
    # team serving the booking; empty for rewards and corrections. The social-forces dashboard
    # groups the month's lines by it without joining back through the sign-up or the booking.
    place_code = models.CharField(_("place"), max_length=15, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A correction says why; earned and spent lines point at what earned or bought them.
            models.CheckConstraint(
                condition=~Q(kind="correction") | ~Q(reason=""), name="pointentry_correction_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "created_at"], name="pointentry_volunteer_at"),
            # The social-forces dashboard's points awarded in a period, by place (dashboards/social.py):
            # the period's lines an index-only range.
            models.Index(
                fields=["created_at"],
                include=["place_code", "points"],
                condition=Q(kind__in=["task", "booking"], points__gt=0),
                name="pointentry_earned_place_at",
            ),
            # The month's points rankings (volunteers.points.ranking_*: EARNED_KINDS, every amount):
            # the month's lines an index range instead of a scan of the whole ledger.
            models.Index(
                fields=["created_at"],
                include=["volunteer", "points"],
                condition=Q(kind__in=["task", "booking", "correction"]),
                name="pointentry_ranked_at",
            ),
        ]

    def __str__(self):
        return f"{self.volunteer} {self.points:+d}: {self.reason}"


class Meeting(models.Model):
    """结邻共建's monthly joint meeting (联席会议) of a community with its paired agencies: who came,
    and the problems taken up, each of which may become a case or a task."""

    community = models.ForeignKey(Region, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("held on"))
    convened_by = models.ForeignKey(Unit, verbose_name=_("convened by"), on_delete=models.PROTECT, related_name="+")
    attendees = models.ManyToManyField(Unit, verbose_name=_("agencies present"), related_name="meetings", blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.community} {self.held_on}"


class MeetingProblem(models.Model):
    """A problem a joint meeting took up, the agency that took it, and the case or task it became."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="problems")
    text = models.TextField(_("problem"))
    agency = models.ForeignKey(
        Unit, verbose_name=_("taken up by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("problem taken up")
        verbose_name_plural = _("problems taken up")
        ordering = ["id"]

    def __str__(self):
        return self.text[:40]
