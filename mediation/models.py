"""评理说事 and 议事会 (docs/mediation.md): mediation points at three levels with their mediators,
mediations (opened from a dispute case or by a walk-in) with their parties, sessions, agreements and
follow-ups; and the residents' deliberation councils with their meetings, agenda items, votes and
decisions. A mediation moves only through `mediation/moves.py`'s table (`cases.moves.rows_move`),
and every move is a `MediationEvent`, as a case's are `CaseEvent`s."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, mask_phone
from grids.models import Region
from units.models import Unit


class Kind(models.TextChoices):
    """说三事: the three kinds of dispute."""

    FAMILY = "family", _("family matters (家事)")
    PUBLIC = "public", _("public matters (公事)")
    FARMING = "farming", _("farming matters (农事)")


class Point(models.Model):
    """A mediation point (评理说事点) of the district, a street or a community/village: where it is,
    the kinds of dispute it takes, its mediators. `unit` is its host (the committee, the street
    office, the district's centre)."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street")
        COMMUNITY = "community", _("community or village")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    region = models.ForeignKey(Region, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("host unit"), on_delete=models.PROTECT, related_name="+")
    kinds = ArrayField(models.CharField(max_length=10, choices=Kind.choices), verbose_name=_("kinds taken"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mediation point")
        verbose_name_plural = _("mediation points")
        ordering = ["code"]
        indexes = [models.Index(fields=["level"], name="point_level")]

    def __str__(self):
        return self.name


class Mediator(models.Model):
    """A person who mediates at a point: a community elder, a lawyer, a police officer, a judge
    on call. With an account, they record sessions themselves."""

    class Role(models.TextChoices):
        ELDER = "elder", _("community elder")
        LAWYER = "lawyer", _("lawyer")
        POLICE = "police", _("police officer")
        JUDGE = "judge", _("judge on call")
        CADRE = "cadre", _("committee cadre")

    point = models.ForeignKey(Point, verbose_name=_("point"), on_delete=models.CASCADE, related_name="mediators")
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mediator_posts",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mediator")
        verbose_name_plural = _("mediators")
        ordering = ["point", "name"]

    def __str__(self):
        return self.name


class Mediation(models.Model):
    """A dispute taken to a mediation point: from a case (its lead unit or a dispatcher sent it) or
    a walk-in. `state` moves only through `mediation.moves.MEDIATION_MOVES`."""

    class State(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        SCHEDULED = "scheduled", _("scheduled")
        IN_SESSION = "in_session", _("in session")
        AGREEMENT = "agreement", _("agreement reached")
        NO_AGREEMENT = "no_agreement", _("no agreement")
        FOLLOW_UP = "follow_up", _("following up")
        REFERRED = "referred", _("referred out")
        CLOSED = "closed", _("closed")

    point = models.ForeignKey(Point, verbose_name=_("point"), on_delete=models.PROTECT, related_name="mediations")
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, null=True, blank=True, related_name="mediations"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    facts = models.TextField(_("facts"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACCEPTED)
    # Where it was referred out to (the court, a department): an outcome, not a move of ours.
    referred_to = models.CharField(_("referred to"), max_length=100, blank=True)
    # The mediation this one continues at a higher level (referred up).
    referred_from = models.OneToOneField(
        "self",
        verbose_name=_("referred from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_up",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("accepted by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("accepted at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation")
        verbose_name_plural = _("mediations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "accepted",
                        "scheduled",
                        "in_session",
                        "agreement",
                        "no_agreement",
                        "follow_up",
                        "referred",
                        "closed",
                    ]
                ),
                name="mediation_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["point", "state"], name="mediation_point_state"),
            models.Index(fields=["created_at"], name="mediation_created"),
        ]

    def __str__(self):
        return f"{self.point.code}-{self.pk}"


class Party(models.Model):
    """One side of a dispute: a name and contact details, protected like a caller's (masked;
    revealed only to who needs it, and the reveal is logged as a `MediationEvent`)."""

    mediation = models.ForeignKey(
        Mediation, verbose_name=_("mediation"), on_delete=models.CASCADE, related_name="parties"
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["id"]

    def __str__(self):
        return self.name

    @property
    def phone_masked(self):
        return mask_phone(self.phone)


class Session(models.Model):
    """A 评理会: when and where, the mediators and parties present, what each side said, the
    reasoning applied (情理、德理、法理) and the outcome."""

    class Reasoning(models.TextChoices):
        FEELING = "feeling", _("情理")
        MORALITY = "morality", _("德理")
        LAW = "law", _("法理")

    class Outcome(models.TextChoices):
        AGREEMENT = "agreement", _("agreement")
        NO_AGREEMENT = "no_agreement", _("no agreement")
        ADJOURNED = "adjourned", _("adjourned")

    mediation = models.ForeignKey(
        Mediation, verbose_name=_("mediation"), on_delete=models.CASCADE, related_name="sessions"
    )
    at = models.DateTimeField(_("at"))
    place = models.CharField(_("place"), max_length=200)
    mediators = models.ManyToManyField(Mediator, verbose_name=_("mediators"), related_name="sessions", blank=True)
    parties_present = models.ManyToManyField(Party, verbose_name=_("parties present"), related_name="+", blank=True)
    statements = models.TextField(_("what each side said"), blank=True)
    reasoning = ArrayField(
        models.CharField(max_length=10, choices=Reasoning.choices),
        verbose_name=_("reasoning"),
        default=list,
        blank=True,
    )
    record = models.TextField(_("record"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    held = models.BooleanField(_("held"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.mediation} {self.at:%Y-%m-%d}"


class Agreement(models.Model):
    """调解协议: generated from the session's record, printed, signed by the parties (a scan or a
    photo uploaded), followed up on its dates. A broken agreement reopens the mediation."""

    mediation = models.OneToOneField(
        Mediation, verbose_name=_("mediation"), on_delete=models.CASCADE, related_name="agreement"
    )
    terms = models.TextField(_("terms"))
    follow_up = ArrayField(models.DateField(), verbose_name=_("follow-up dates"), default=list, blank=True)
    signed_scan = models.FileField(_("signed copy"), upload_to="agreements/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)
    broken_at = models.DateTimeField(_("broken at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self):
        return f"{self.mediation}"


class MediationEvent(models.Model):
    """One move of a mediation (or a reveal of a party's phone): who, when, from and to, why.
    Never edited; the figures count these rows."""

    # What the timeline calls each action (the moves of mediation/moves.py, the opening, a reveal).
    LABELS = {
        "open": _("accepted"),
        "schedule": _("session scheduled"),
        "session": _("session held"),
        "agreement": _("agreement reached"),
        "no_agreement": _("no agreement"),
        "sign": _("signed copy kept"),
        "break": _("agreement broken"),
        "refer": _("referred"),
        "close": _("closed"),
        "reveal_phone": _("a party's phone revealed"),
    }

    mediation = models.ForeignKey(
        Mediation, verbose_name=_("mediation"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("mediation event")
        verbose_name_plural = _("mediation events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["action", "at"], name="mediationevent_action_at")]

    def __str__(self):
        return f"{self.mediation_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    @property
    def action_label(self):
        return self.LABELS.get(self.action, self.action)


class Council(models.Model):
    """A deliberation council (居民议事会, 民情恳谈会) of a community or a street, with its members and
    its quorum rule."""

    class Kind(models.TextChoices):
        RESIDENTS = "residents", _("residents' council (居民议事会)")
        HEARING = "hearing", _("public opinion forum (民情恳谈会)")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("community or street"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("host unit"), on_delete=models.PROTECT, related_name="+")
    # Quorum: at least this share of members present (percent), kept in the admin.
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (percent of members present)"), default=50)
    # A decision: more than this share of the votes cast are for it (percent).
    majority_percent = models.PositiveSmallIntegerField(_("majority (percent of votes cast)"), default=50)

    class Meta:
        verbose_name = _("deliberation council")
        verbose_name_plural = _("deliberation councils")
        ordering = ["region", "name"]

    def __str__(self):
        return self.name


class CouncilMember(models.Model):
    """A member of a council: a residents' representative, the committee, property management, a
    paired agency."""

    class Role(models.TextChoices):
        RESIDENT = "resident", _("residents' representative")
        COMMITTEE = "committee", _("committee")
        PROPERTY = "property", _("property management")
        AGENCY = "agency", _("paired agency")

    council = models.ForeignKey(Council, verbose_name=_("council"), on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="council_seats",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        ordering = ["council", "name"]

    def __str__(self):
        return self.name


class AgendaItem(models.Model):
    """A matter for a council: from a hotspot (未呼先应), from a case ("the residents must decide"),
    or from a member; discussed at a meeting, voted on and decided (or not)."""

    class Source(models.TextChoices):
        HOTSPOT = "hotspot", _("a hotspot")
        CASE = "case", _("a case")
        MEMBER = "member", _("a member")

    council = models.ForeignKey(Council, verbose_name=_("council"), on_delete=models.CASCADE, related_name="items")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    options = ArrayField(models.CharField(max_length=100), verbose_name=_("options"), default=list, blank=True)
    meeting = models.ForeignKey(
        "Meeting", verbose_name=_("meeting"), on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstain"), null=True, blank=True)
    decided = models.BooleanField(_("decided"), null=True, blank=True, help_text=_("Empty until voted on."))
    decision = models.TextField(_("decision"), blank=True)
    opened_case = models.ForeignKey(
        Case, verbose_name=_("case opened"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The volunteer task a decision was published as (任务发布): once per decision, like the case.
    opened_task = models.ForeignKey(
        "volunteers.Task",
        verbose_name=_("task published"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.title


class Meeting(models.Model):
    """A council meeting: when, who came (members present, for the quorum), published to the
    residents or not."""

    council = models.ForeignKey(Council, verbose_name=_("council"), on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField(_("held on"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    present = models.ManyToManyField(CouncilMember, verbose_name=_("members present"), related_name="+", blank=True)
    published = models.BooleanField(_("published to the residents"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("council meeting")
        verbose_name_plural = _("council meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.council} {self.held_on}"
