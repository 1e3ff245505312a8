"""Reads that decide where a case goes (its time limits: `deadlines.policies`). Nothing here writes.

Routing (按照难易程度分流交办): among the active rules for the case's category or its class whose
region is empty (the whole district) or contains the case's grid, the most specific wins: first the
smallest place (a local exception beats the district-wide rule, whatever its category), then the
exact category over its class. The rule's level then names the unit: the committee of the grid's
own community, the street office of the grid's street, or the rule's named unit.

The catch-all (兜底) is `unit=None`: no rule applies, or the unit a rule leads to is missing or
inactive, so the case stays with the district centre's dispatchers. It is deliberately not the
CENTRE unit: the centre does not handle cases, its dispatchers pick a unit by hand, and a lead
assignment to the centre would make the case look dispatched when nobody is working on it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from cases.models import Case, Category
from grids.models import Region
from routing.models import RoutingRule
from units.models import Unit

COMMUNITY_CODE_LENGTH = Region.CODE_LENGTHS[Region.Level.COMMUNITY]
STREET_CODE_LENGTH = Region.CODE_LENGTHS[Region.Level.STREET]

# The territorial unit kind each level resolves to, and how much of the grid code names its place.
_TERRITORIAL = {
    RoutingRule.Level.COMMUNITY: (Unit.Kind.COMMITTEE, COMMUNITY_CODE_LENGTH),
    RoutingRule.Level.STREET: (Unit.Kind.STREET_OFFICE, STREET_CODE_LENGTH),
}


@dataclass(frozen=True)
class RoutingDecision:
    """Where a case goes and why. `unit` None is the catch-all: the centre's dispatchers decide."""

    unit: Unit | None
    rule: RoutingRule | None
    level: str  # the matched rule's level (RoutingRule.Level), "" when no rule applies
    explanation: str

    @property
    def is_catch_all(self) -> bool:
        return self.unit is None


def rules_active() -> list[RoutingRule]:
    """Every active rule with what deciding needs, for callers that route many cases at once."""
    return list(RoutingRule.objects.filter(is_active=True).select_related("category", "region", "unit"))


def _rule_for(category: Category, grid_code: str, rules: Iterable[RoutingRule]) -> RoutingRule | None:
    """The most specific active rule for a category and a grid, from rules already in memory."""
    categories = {category.pk, category.parent_id} - {None}
    best, best_key = None, None
    for rule in rules:
        if not rule.is_active or rule.category_id not in categories:
            continue
        region_code = rule.region.code if rule.region_id else ""
        if not grid_code.startswith(region_code):
            continue
        # The place first, then the category: a local exception for a class beats the
        # district-wide rule for the kind. (category, region) is unique, so no two keys tie.
        key = (len(region_code), rule.category_id == category.pk)
        if best_key is None or key > best_key:
            best, best_key = rule, key
    return best


def _rules_query(category_ids: set, grid_codes: set[str]):
    prefixes = {code[:length] for code in grid_codes for length in Region.CODE_LENGTHS.values()}
    return RoutingRule.objects.filter(
        Q(region__isnull=True) | Q(region__code__in=prefixes), is_active=True, category_id__in=category_ids - {None}
    ).select_related("category", "region", "unit")


def _place_code(rule: RoutingRule, grid_code: str) -> str:
    return grid_code[: _TERRITORIAL[rule.level][1]]


def _territorial_units(wanted: set[tuple[str, str]]) -> tuple[dict, dict]:
    """Units by (kind, place code), and for places with no such unit the place's name: at most two
    queries, the second only when a unit is missing."""
    if not wanted:
        return {}, {}
    kinds = {kind for kind, _code in wanted}
    codes = {code for _kind, code in wanted}
    # Committees serve 12-digit places and street offices 9-digit ones, so asking for every kind
    # in every place brings back nothing unwanted; one unit per place is a database constraint.
    found = Unit.objects.filter(kind__in=kinds, region__code__in=codes).select_related("region")
    units = {(unit.kind, unit.region.code): unit for unit in found}
    missing = {code for _kind, code in wanted - set(units)}
    names = dict(Region.objects.filter(code__in=missing).values_list("code", "name")) if missing else {}
    return units, names


def _decide(
    *, category: Category, grid: Region, rule: RoutingRule | None, units: dict, place_names: dict
) -> RoutingDecision:
    names = {"category": category.name, "grid": grid.name}
    if rule is None:
        return RoutingDecision(
            unit=None,
            rule=None,
            level="",
            explanation=_("No rule for %(category)s in %(grid)s: it stays with the district centre's dispatchers.")
            % names,
        )
    names["rule"] = rule.pk
    if rule.level == RoutingRule.Level.UNIT:
        unit = rule.unit
    else:
        kind, _length = _TERRITORIAL[rule.level]
        place = _place_code(rule, grid.code)
        unit = units.get((kind, place))
        if unit is None:
            names["place"] = place_names.get(place, place)
            message = (
                _(
                    "Rule #%(rule)d sends %(category)s in %(grid)s to the committee of %(place)s, but it has none: "
                    "it stays with the district centre's dispatchers."
                )
                if rule.level == RoutingRule.Level.COMMUNITY
                else _(
                    "Rule #%(rule)d sends %(category)s in %(grid)s to the street office of %(place)s, but it has "
                    "none: it stays with the district centre's dispatchers."
                )
            )
            return RoutingDecision(unit=None, rule=rule, level=rule.level, explanation=message % names)
    names["unit"] = unit.name
    if not unit.is_active:
        return RoutingDecision(
            unit=None,
            rule=rule,
            level=rule.level,
            explanation=_(
                "Rule #%(rule)d sends %(category)s in %(grid)s to %(unit)s, but that unit is inactive: "
                "it stays with the district centre's dispatchers."
            )
            % names,
        )
    names["level"] = {
        RoutingRule.Level.COMMUNITY: _("community level"),
        RoutingRule.Level.STREET: _("street level"),
        RoutingRule.Level.UNIT: _("named unit"),
    }[rule.level]
    names["scope"] = (
        _("local exception for %(place)s") % {"place": rule.region.name} if rule.region_id else _("whole district")
    )
    if rule.category_id == category.pk:
        message = _("%(category)s in %(grid)s goes to %(unit)s because of rule #%(rule)d (%(level)s, %(scope)s).")
    else:
        names["class"] = rule.category.name
        message = _(
            "%(category)s in %(grid)s goes to %(unit)s because of rule #%(rule)d for its class %(class)s "
            "(%(level)s, %(scope)s)."
        )
    return RoutingDecision(unit=unit, rule=rule, level=rule.level, explanation=message % names)


def route_for(*, category: Category, grid: Region, rules: Iterable[RoutingRule] | None = None) -> RoutingDecision:
    """Where a case of `category` in `grid` goes, and why.

    Pass `rules` (from `rules_active()`) to decide many cases without reading the rules each time.
    At most three queries: the rules (unless given), the committee or street office (community
    and street levels only), and the place's name when that unit is missing.
    """
    if rules is None:
        rules = _rules_query({category.pk, category.parent_id}, {grid.code})
    rule = _rule_for(category, grid.code, rules)
    wanted = set()
    if rule is not None and rule.level in _TERRITORIAL:
        wanted.add((_TERRITORIAL[rule.level][0], _place_code(rule, grid.code)))
    units, place_names = _territorial_units(wanted)
    return _decide(category=category, grid=grid, rule=rule, units=units, place_names=place_names)


def routes_for_many(cases: Iterable[Case]) -> dict[int, RoutingDecision]:
    """route_for for every case, by case id, in a constant number of queries (at most five: the
    categories and grids not already loaded on the cases, the rules, the territorial units, and the
    names of places whose unit is missing), however many cases there are."""
    cases = list(cases)
    if not cases:
        return {}
    category_field, grid_field = Case._meta.get_field("category"), Case._meta.get_field("grid")
    categories = {case.category_id: case.category for case in cases if category_field.is_cached(case)}
    if missing := {case.category_id for case in cases} - set(categories):
        categories.update(Category.objects.in_bulk(missing))
    grids = {case.grid_id: case.grid for case in cases if grid_field.is_cached(case)}
    if missing := {case.grid_id for case in cases} - set(grids):
        grids.update(Region.objects.in_bulk(missing, field_name="code"))

    category_ids = {pk for category in categories.values() for pk in (category.pk, category.parent_id)}
    rules = list(_rules_query(category_ids, set(grids)))
    chosen = {}
    wanted = set()
    for case in cases:
        key = (case.category_id, case.grid_id)
        if key not in chosen:
            rule = _rule_for(categories[case.category_id], case.grid_id, rules)
            chosen[key] = rule
            if rule is not None and rule.level in _TERRITORIAL:
                wanted.add((_TERRITORIAL[rule.level][0], _place_code(rule, case.grid_id)))
    units, place_names = _territorial_units(wanted)

    decisions = {
        key: _decide(category=categories[key[0]], grid=grids[key[1]], rule=rule, units=units, place_names=place_names)
        for key, rule in chosen.items()
    }
    return {case.pk: decisions[(case.category_id, case.grid_id)] for case in cases}


def decision_without(decision: RoutingDecision, codes) -> RoutingDecision:
    """`decision`, unless the unit it names is one of `codes` (the units that returned the case):
    then no unit, saying why, so that a case a unit gave back is not proposed to it again."""
    if decision.unit is None or decision.unit.code not in codes:
        return decision
    return RoutingDecision(
        unit=None,
        rule=decision.rule,
        level=decision.level,
        explanation=_("%(unit)s returned this case, so it is not proposed again: choose a unit.")
        % {"unit": decision.unit.name},
    )
