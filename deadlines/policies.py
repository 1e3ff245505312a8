"""Which SLA policy applies to a case, and the deadlines of a unit's part dispatched at a moment.

SLA policies: the most specific of (category, priority) > (category, any) > (class, priority) >
(class, any) > (no category, priority) > (no category, any); for an emergency the priority
outranks the category."""

from django.db.models import Q
from django.utils.translation import gettext as _

from cases.models import Category, Priority
from deadlines.models import LimitUnit, SlaPolicy
from deadlines.worktime import WorkCalendar


class NoDefaultSlaPolicy(Exception):
    """No SLA policy applies to a case: the default policy (no category, any priority) is missing."""


def sla_policy_for(*, category: Category | None, priority: str) -> SlaPolicy:
    """The most specific SLA policy for a category and priority, in one query: the category
    before its class before the defaults, and at each level a row for this priority before one for
    any priority. Emergencies are the exception: any emergency row beats every other row.

    Raises NoDefaultSlaPolicy when none applies, which can only happen when the default policy
    (no category, any priority) has been removed.
    """
    category_ids = {category.pk, category.parent_id} - {None} if category is not None else set()
    policies = SlaPolicy.objects.filter(
        Q(category__isnull=True) | Q(category_id__in=category_ids), priority__in={priority, ""}
    ).select_related("category")

    def rank(policy):
        if policy.category_id is None:
            level = 0
        elif category is not None and policy.category_id == category.pk:
            level = 2
        else:
            level = 1
        # An emergency keeps its emergency limits whatever category rows an admin adds: for
        # emergencies the priority outranks the category; otherwise the category does.
        if priority == Priority.EMERGENCY:
            return (policy.priority == priority, level)
        return (level, policy.priority == priority)

    best = max(policies, key=rank, default=None)
    if best is None:
        raise NoDefaultSlaPolicy(
            _(
                "No SLA policy applies to %(category)s (priority %(priority)s): add the default policy "
                "(no category, any priority) in the admin."
            )
            % {
                "category": category.name if category is not None else _("all categories"),
                "priority": dict(Priority.choices).get(priority, priority) if priority else _("any priority"),
            }
        )
    return best


def deadlines_for(*, case, at, calendar=None) -> dict:
    """The assignment deadlines of a case dispatched at `at`, from its SLA policy."""
    policy = sla_policy_for(category=case.category, priority=case.priority)
    return deadlines_from(policy, at, calendar or WorkCalendar.load())


def deadlines_from(policy, at, calendar) -> dict:
    """The assignment deadlines under `policy` of a part dispatched at `at`."""
    resolve_due = calendar.add(at, *policy.limit("resolve"))
    return {
        "sign_due": calendar.add(at, *policy.limit("sign")),
        "contact_due": calendar.add(at, *policy.limit("contact")),
        "resolve_due": resolve_due,
        "return_until": calendar.add(at, *policy.limit("return_window")),
        "extension_max_until": calendar.add(resolve_due, policy.extension_max_days, LimitUnit.WORKING_DAYS),
    }
