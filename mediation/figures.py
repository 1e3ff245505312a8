"""The figures of 评理说事 and 议事会 (docs/mediation.md, "Figures"): for a place and a period, the
mediations accepted, sessions held, agreements and no agreements (and so the success rate),
referrals up a level and out, broken agreements — by the point's level, by street and by kind;
and the councils' meetings held, items decided, cases opened from decisions and how many of those
are closed — by street.

Where and when each counts:

- a mediation is *accepted* at its point on the day it was created (`Mediation.created_at`); a
  mediation referred up is a new mediation at the higher point, accepted there on that day;
- sessions, agreements, no agreements, referrals and broken agreements are the `MediationEvent`s
  of those moves (`session`, `agreement`, `no_agreement`, `refer`, `break`) on the day of the
  event, at the point of the mediation they moved: a referral up counts at the point it left. A
  `refer` event with a non-empty `data["to"]` (the court, a department) is out; any other (it
  names the higher point) is up a level;
- the success rate is agreements / (agreements + no agreements) of the period, None without either;
- a place holds the points whose region's code starts with its code (a street: its own point and
  its communities'); a point's street is the first nine digits of its region's code (the
  district's own point has none: its key is the district's code);
- a meeting is *held* on `held_on`; its items decided (`decided` true), the cases they opened and
  how many of those are closed now count on the meeting's day, at the council's place.

Every figure comes from one grouped query (the mediations accepted; the events, every move in one
query with conditional counts; the meetings; the items), grouped by (level, street, kind) and added
up here, so a page costs the same few queries whatever the number of streets, points or kinds.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.db.models.functions import Substr

from cases.models import Case
from grids.models import Region
from mediation.models import AgendaItem, Kind, Mediation, MediationEvent, Meeting, Point
from units.models import Unit

STREET_LENGTH = 9
# The mediation figures in the order of the page's cards and the exports' columns; `success_rate`
# is computed from two of them.
COUNTS = ("accepted", "sessions", "agreements", "no_agreements", "referred_up", "referred_out", "broken")
MEDIATION_FIGURES = (*COUNTS[:4], "success_rate", *COUNTS[4:])
DELIBERATION_FIGURES = ("meetings", "items_decided", "cases_opened", "cases_closed")
# MediationEvent.action → the figure it counts for (`refer` is split by its data).
EVENT_FIGURES = {"session": "sessions", "agreement": "agreements", "no_agreement": "no_agreements", "break": "broken"}


@dataclass
class MediationFigures:
    accepted: int = 0
    sessions: int = 0
    agreements: int = 0
    no_agreements: int = 0
    referred_up: int = 0
    referred_out: int = 0
    broken: int = 0

    @property
    def success_rate(self):
        """Agreements of all the sessions that ended either way; None when none ended."""
        ended = self.agreements + self.no_agreements
        return self.agreements / ended if ended else None

    def add(self, values: dict):
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + (values.get(name) or 0))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in MEDIATION_FIGURES}


@dataclass
class DeliberationFigures:
    meetings: int = 0
    items_decided: int = 0
    cases_opened: int = 0
    cases_closed: int = 0

    def add(self, values: dict):
        for name in DELIBERATION_FIGURES:
            setattr(self, name, getattr(self, name) + (values.get(name) or 0))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in DELIBERATION_FIGURES}


@dataclass
class Figures:
    total: MediationFigures
    by_level: dict  # Point.Level value → MediationFigures, every level present
    by_street: dict  # street code (or the district's code for its own point) → MediationFigures
    by_kind: dict  # Kind value → MediationFigures, every kind present
    deliberation: DeliberationFigures
    deliberation_by_street: dict  # street code (or the district's) → DeliberationFigures


def _in(name, period) -> dict:
    return {f"{name}__gte": period.start, f"{name}__lt": period.end}


def _days(name, period) -> dict:
    return {f"{name}__gte": period.first, f"{name}__lte": period.last}


def _mediation_rows(period, prefix="", *, by="street"):
    """(key, level, kind, {figure: n}) from the two grouped queries of the mediation figures;
    `by` is "street" (the point's street) or "unit" (the point's host unit)."""
    point = "point__"
    key = Substr(f"{point}region__code", 1, STREET_LENGTH) if by == "street" else F(f"{point}unit_id")
    accepted = (
        Mediation.objects.filter(**{f"{point}region__code__startswith": prefix}, **_in("created_at", period))
        .annotate(key=key, level=F(f"{point}level"))
        .values("key", "level", "kind")
        .annotate(accepted=Count("id"))
        .order_by()
    )
    for row in accepted:
        yield row["key"], row["level"], row["kind"], {"accepted": row["accepted"]}
    point = "mediation__point__"
    key = Substr(f"{point}region__code", 1, STREET_LENGTH) if by == "street" else F(f"{point}unit_id")
    # Out: the event names where to (`mediation_refer` records `{"to": …}`); up a level otherwise
    # (it records the higher point).
    out = Q(action="refer", data__has_key="to") & ~Q(data__to="")
    counts = {figure: Count("id", filter=Q(action=action)) for action, figure in EVENT_FIGURES.items()}
    events = (
        MediationEvent.objects.filter(
            **{f"{point}region__code__startswith": prefix},
            action__in=(*EVENT_FIGURES, "refer"),
            **_in("at", period),
        )
        .annotate(key=key, level=F(f"{point}level"), kind=F("mediation__kind"))
        .values("key", "level", "kind")
        .annotate(
            **counts, referred_up=Count("id", filter=Q(action="refer") & ~out), referred_out=Count("id", filter=out)
        )
        .order_by()
    )
    for row in events:
        yield row.pop("key"), row.pop("level"), row.pop("kind"), row


def _deliberation_rows(period, prefix="", *, by="street"):
    """(key, {figure: n}) from the two grouped queries of the councils' figures."""
    key = Substr("council__region__code", 1, STREET_LENGTH) if by == "street" else F("council__unit_id")
    meetings = (
        Meeting.objects.filter(council__region__code__startswith=prefix, **_days("held_on", period))
        .annotate(key=key)
        .values("key")
        .annotate(meetings=Count("id"))
        .order_by()
    )
    for row in meetings:
        yield row.pop("key"), row
    meeting = "meeting__council__"
    key = Substr(f"{meeting}region__code", 1, STREET_LENGTH) if by == "street" else F(f"{meeting}unit_id")
    opened = Q(decided=True, opened_case__isnull=False)
    items = (
        AgendaItem.objects.filter(
            **{f"{meeting}region__code__startswith": prefix}, decided=True, **_days("meeting__held_on", period)
        )
        .annotate(key=key)
        .values("key")
        .annotate(
            items_decided=Count("id"),
            cases_opened=Count("id", filter=opened),
            cases_closed=Count("id", filter=opened & Q(opened_case__status=Case.Status.CLOSED)),
        )
        .order_by()
    )
    for row in items:
        yield row.pop("key"), row


def figures(*, region, period) -> Figures:
    """Everything the page and the export show for `region` (the district or a street; a
    community reads its own points and councils) and `period` (`feedback.metrics.Period`)."""
    prefix = region.code
    total = MediationFigures()
    by_level = {level: MediationFigures() for level in Point.Level.values}
    by_kind = {kind: MediationFigures() for kind in Kind.values}
    by_street = {}
    for key, level, kind, values in _mediation_rows(period, prefix):
        for bucket in (total, by_level[level], by_kind[kind], by_street.setdefault(key, MediationFigures())):
            bucket.add(values)
    deliberation = DeliberationFigures()
    deliberation_by_street = {}
    for key, values in _deliberation_rows(period, prefix):
        deliberation.add(values)
        deliberation_by_street.setdefault(key, DeliberationFigures()).add(values)
    return Figures(total, by_level, by_street, by_kind, deliberation, deliberation_by_street)


def tables_of(seen: Figures, region) -> dict:
    """The page's tables, each a list of (key, label, figures or None): "level" and "kind" (every
    level and kind), and for the district "street" and "council" (the district's own point and
    councils first, then each street). The export writes these same rows."""
    tables = {
        "level": [(level, label, seen.by_level[level]) for level, label in Point.Level.choices],
        "kind": [(kind, label, seen.by_kind[kind]) for kind, label in Kind.choices],
        "street": [],
        "council": [],
    }
    if region.level == Region.Level.DISTRICT:
        places = [(region.code, region.name)]
        places += list(Region.objects.filter(parent=region).order_by("code").values_list("code", "name"))
        tables["street"] = [(code, name, seen.by_street.get(code)) for code, name in places]
        tables["council"] = [(code, name, seen.deliberation_by_street.get(code)) for code, name in places]
    return tables


@dataclass
class UnitFigures:
    mediation: MediationFigures = field(default_factory=MediationFigures)
    deliberation: DeliberationFigures = field(default_factory=DeliberationFigures)


def unit_figures(*, units, period) -> dict:
    """{unit pk: UnitFigures} for the monthly ranking's detail: a street office's street (its
    points and councils, the communities' included); any other unit the points and councils it
    hosts. The street offices' regions, then four grouped queries for the street offices and four
    for the others, whatever their number."""
    result = {unit.pk: UnitFigures() for unit in units}
    offices = {unit.region_id: unit.pk for unit in units if unit.kind == Unit.Kind.STREET_OFFICE and unit.region_id}
    streets = {}
    if offices:
        for pk, code in Region.objects.filter(pk__in=offices).values_list("pk", "code"):
            streets[code] = offices[pk]
    hosts = {unit.pk for unit in units if unit.pk not in offices.values()}
    for by, keys in (("street", streets), ("unit", {pk: pk for pk in hosts})):
        if not keys:
            continue
        for key, _level, _kind, values in _mediation_rows(period, by=by):
            if key in keys:
                result[keys[key]].mediation.add(values)
        for key, values in _deliberation_rows(period, by=by):
            if key in keys:
                result[keys[key]].deliberation.add(values)
    return result
