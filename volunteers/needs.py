"""需求对接, needs matching: a community committee posts what its community needs (a service or a
resource); departments, public utilities and paired agencies (结邻共建) offer to take it up; the
committee accepts one offer (the need is matched, every other offer declined) and records the
result when the work is done (docs/volunteers.md, "Needs").

Who sees what: every unit that may offer sees every open need of the district, those of the
communities it is paired with first (an agency's own communities come first; a department, paired
with none, sees them all in order of posting). A committee sees and answers its own community's
needs. The need and its offers move only through `NEED_MOVES` and `OFFER_MOVES`: accepting is a
conditional UPDATE of the need (`open` → `matched`), so of two accepts at once, or one sent twice,
exactly one wins and the other is refused with nothing changed.
"""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from cases.errors import InvalidInput, NotPermitted
from cases.moves import rows_move
from notices.kinds import Kind
from notices.services import inbox_tell
from units.models import Pairing, Unit
from volunteers.models import Need, Offer
from volunteers.moves import NEED_MOVES, OFFER_MOVES

# The kinds of unit that take up a community's needs.
OFFERING_KINDS = (Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY, Unit.Kind.AGENCY)
TITLE_MAX = 100
TEXT_MAX = 2000


def committees_of(user) -> QuerySet[Unit]:
    """The community and village committees the user works in (with their community)."""
    return Unit.objects.filter(
        memberships__user=user, kind=Unit.Kind.COMMITTEE, is_active=True, region__isnull=False
    ).order_by("code")


def offering_units_of(user) -> QuerySet[Unit]:
    """The units the user works in that may offer to take up a need."""
    return Unit.objects.filter(memberships__user=user, kind__in=OFFERING_KINDS, is_active=True).order_by("code")


def _committee_for(actor, committee=None) -> Unit:
    """The committee `actor` acts for: the one given (if theirs), else their first."""
    mine = committees_of(actor)
    if committee is not None:
        mine = mine.filter(pk=committee.pk)
    found = mine.select_related("region").first()
    if found is None:
        raise NotPermitted(_("Only the staff of a community or village committee may do this."))
    return found


def _require_community_staff(actor, need) -> None:
    if not committees_of(actor).filter(region_id=need.community_id).exists():
        raise NotPermitted(_("Only the staff of the community's committee may do this."))


def _clean_text(value, field, *, required, limit):
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": limit}, field)
    return value


# --- the community's side ------------------------------------------------------------------------


@transaction.atomic
def need_post(*, actor, kind, title, description="", committee=None) -> Need:
    """A committee posts a need of its community; it is open to offers at once."""
    committee = _committee_for(actor, committee)
    if kind not in Need.Kind.values:
        raise InvalidInput(_("Choose a service or a resource."), "kind")
    need = Need.objects.create(
        community_id=committee.region_id,
        posted_by=committee,
        created_by=actor,
        kind=kind,
        title=_clean_text(title, "title", required=True, limit=TITLE_MAX),
        description=_clean_text(description, "description", required=False, limit=TEXT_MAX),
    )
    # 结邻共建: the agencies paired with the community hear of it first.
    inbox_tell(
        units=Unit.objects.filter(pairings__community_id=need.community_id),
        kind=Kind.NEED_POSTED,
        text=lambda: _("%(community)s needs: %(title)s") % {"community": committee.region.name, "title": need.title},
        url=reverse("volunteers:needs-open"),
        exclude=actor,
    )
    return need


@transaction.atomic
def offer_accept(*, offer, actor) -> Need:
    """The committee accepts `offer`: the need is matched to the offering unit and every other
    offer on it declined. Refused (nothing changed) if the need is no longer open: taken up by an
    accept that came first, done or withdrawn."""
    need = offer.need
    _require_community_staff(actor, need)
    # The conditional UPDATE is the lock: a second accept waits for the first to commit and then
    # finds the need no longer open.
    if not rows_move(Need.objects.filter(pk=need.pk), NEED_MOVES, "match", taken_by=offer.unit):
        raise InvalidInput(_("This need is no longer open: it was taken up, done or withdrawn."), "offer")
    if not rows_move(Offer.objects.filter(pk=offer.pk, need=need), OFFER_MOVES, "accept"):
        # Not reachable while offers move only with their need; kept as the table's own check.
        raise InvalidInput(_("This offer can no longer be accepted."), "offer")
    declined = list(Offer.objects.filter(need=need).exclude(pk=offer.pk).values_list("unit_id", flat=True))
    rows_move(Offer.objects.filter(need=need).exclude(pk=offer.pk), OFFER_MOVES, "decline")
    need.refresh_from_db()
    url = reverse("volunteers:needs-open")
    inbox_tell(
        units=[offer.unit_id],
        kind=Kind.OFFER_DECIDED,
        text=lambda: _("Your offer was accepted: %(title)s") % {"title": need.title},
        url=url,
        exclude=actor,
    )
    inbox_tell(
        units=declined,
        kind=Kind.OFFER_DECIDED,
        text=lambda: _("Another unit takes up %(title)s; your offer is declined with thanks.") % {"title": need.title},
        url=url,
        exclude=actor,
    )
    return need


@transaction.atomic
def need_done(*, need, actor, result) -> Need:
    """The committee records what came of a matched need; it is done."""
    _require_community_staff(actor, need)
    result = _clean_text(result, "result", required=True, limit=TEXT_MAX)
    if not rows_move(Need.objects.filter(pk=need.pk), NEED_MOVES, "done", result=result):
        raise InvalidInput(_("Only a need that was taken up can be recorded as done."), "result")
    need.refresh_from_db()
    return need


@transaction.atomic
def need_withdraw(*, need, actor) -> Need:
    """The committee withdraws an open need (no longer needed); its offers are declined."""
    _require_community_staff(actor, need)
    if not rows_move(Need.objects.filter(pk=need.pk), NEED_MOVES, "withdraw"):
        raise InvalidInput(_("Only an open need can be withdrawn."), "need")
    rows_move(Offer.objects.filter(need=need), OFFER_MOVES, "decline")
    need.refresh_from_db()
    return need


def needs_of_community(user) -> QuerySet[Need]:
    """The needs of the communities whose committees the user works in, newest first."""
    return (
        Need.objects.filter(community__in=committees_of(user).values("region"))
        .select_related("community", "taken_by")
        .order_by("-created_at", "-id")
    )


def need_of_community_get(user, pk) -> Need | None:
    return needs_of_community(user).filter(pk=pk).first()


# --- the offering units' side --------------------------------------------------------------------


@transaction.atomic
def offer_make(*, need, actor, unit=None, note="") -> Offer:
    """A department, utility or paired agency offers to take up an open need: one offer per unit
    per need (a second one, or a double submit, is refused with nothing written)."""
    units = offering_units_of(actor)
    if unit is not None:
        units = units.filter(pk=unit.pk)
    unit = units.first()
    if unit is None:
        raise NotPermitted(_("Only a department, a public utility or a paired agency may offer to take up a need."))
    note = _clean_text(note, "note", required=False, limit=TEXT_MAX)
    # Read the need's state under a row lock: an accept in progress finishes first.
    state = Need.objects.select_for_update().filter(pk=need.pk).values_list("state", flat=True).first()
    if state != Need.State.OPEN:
        raise InvalidInput(_("This need is no longer open to offers."), "need")
    try:
        with transaction.atomic():
            offer = Offer.objects.create(need=need, unit=unit, note=note)
    except IntegrityError:
        message = _("%(unit)s has already offered to take this need up.") % {"unit": unit.name}
        raise InvalidInput(message, "need") from None
    inbox_tell(
        units=[need.posted_by_id],
        kind=Kind.OFFER_MADE,
        text=lambda: _("%(unit)s offers to take up %(title)s") % {"unit": unit.name, "title": need.title},
        url=reverse("volunteers:need", args=[need.pk]),
        exclude=actor,
    )
    return offer


def open_needs_for(user) -> QuerySet[Need]:
    """The open needs a unit of the user's may offer on: the whole district's, the needs of the
    communities one of the user's units is paired with first, then the newest. Each carries
    `paired` and `my_offer` (the state of the user's own units' offer, if any)."""
    units = offering_units_of(user)
    paired = Pairing.objects.filter(agency__in=units, community=OuterRef("community"))
    mine = Offer.objects.filter(need=OuterRef("pk"), unit__in=units).order_by("id").values("state")[:1]
    return (
        Need.objects.filter(state=Need.State.OPEN)
        .select_related("community", "posted_by")
        .annotate(paired=Exists(paired), my_offer=Subquery(mine))
        .order_by("-paired", "-created_at", "-id")
    )


def offers_of(user) -> QuerySet[Offer]:
    """The offers the user's units made, newest first, with their need."""
    return (
        Offer.objects.filter(unit__in=offering_units_of(user))
        .select_related("need", "need__community", "unit")
        .order_by("-created_at", "-id")
    )
