"""Scoped reads of 评理说事 (docs/mediation.md): a point's mediators and its host unit's staff read
and work its mediations; dispatchers and district officials read them all (officials only read).
Fetch-by-id answers 404 alike for "no such mediation" and "not yours"."""

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from cases import lifecycle
from mediation.models import Mediation, Point
from routing.dispatch import lead_assignment
from units.permissions import is_dispatcher, is_overseer
from units.selectors import postings_for


def points_for(user) -> QuerySet[Point]:
    """The points a person mediates at (an active mediator with an account) or hosts (staff of the
    point's unit)."""
    if not user.is_authenticated:
        return Point.objects.none()
    postings = postings_for(user)
    codes = [code for code, *_rest in postings.units]
    where = Q(unit__code__in=codes)
    if postings.mediator:
        where |= Q(mediators__user=user, mediators__is_active=True)
    if not codes and not postings.mediator:
        return Point.objects.none()
    return Point.objects.filter(where, is_active=True).distinct().order_by("code")


def mediations_for(user) -> QuerySet[Mediation]:
    """The mediations a person may read: everyone's for dispatchers and officials, their points'
    otherwise."""
    if not user.is_authenticated:
        return Mediation.objects.none()
    if is_overseer(user):
        return Mediation.objects.all()
    postings = postings_for(user)
    if not postings.units and not postings.mediator:
        return Mediation.objects.none()
    return Mediation.objects.filter(point__in=points_for(user).values("pk"))


def mediation_get_for(user, pk) -> Mediation:
    """One mediation in the person's scope, with its point and case; 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("No such mediation.")) from None
    mediation = (
        mediations_for(user).select_related("point", "point__unit", "point__region", "case").filter(pk=pk).first()
    )
    if mediation is None:
        raise Http404(_("No such mediation."))
    return mediation


def may_send_to_mediation(user, case, lead=None) -> bool:
    """A dispatcher, for any open case not yet resolved (registered, dispatched, returned, in
    progress); the case's lead unit's staff for a case it holds (dispatched or in progress): an
    agreement then resolves it (`services._case_take_up`). `lead`: the case's lead assignment
    when the caller has it already."""
    if not user.is_authenticated or not lifecycle.is_allowed("mediate", case.status):
        return False
    if is_dispatcher(user):
        return True
    lead = lead or lead_assignment(case)
    return lead is not None and any(code == lead.unit.code for code, *_rest in postings_for(user).units)
