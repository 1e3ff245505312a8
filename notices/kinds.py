"""The kinds of notice and the roles whose defaults the administrator sets."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("new case for your unit")
    WITHDRAWN = "withdrawn", _("case taken from your unit")
    DISPATCHED = "dispatched", _("a case you follow was dispatched")
    RETURNED = "returned", _("case returned to the dispatchers")
    EXTENSION_ASKED = "extension_asked", _("extension asked")
    EXTENSION_DECIDED = "extension_decided", _("extension decided")
    ASSIST = "assist", _("called in to assist")
    URGE = "urge", _("urged by the supervisor")
    SUPERVISE = "supervise", _("supervision")
    SET_DEADLINE = "set_deadline", _("new deadline")
    REOPENED = "reopened", _("reopened for redo")
    VERIFY = "verify", _("on-site check to do")
    RESOLVED = "resolved", _("a case you follow was resolved")
    CLOSED = "closed", _("a case you follow was closed")
    DEADLINE_WARNING = "deadline_warning", _("deadline warning")
    OVERDUE = "overdue", _("overdue")
    CHASE = "chase", _("chase notice")
    NOTICE = "notice", _("formal notice")
    # 结邻共建: a case of a community the agency is paired with is supervised (督办).
    PAIRED_SUPERVISE = "paired_supervise", _("a paired community's case supervised")
    # 需求对接 (not about a case): a paired community's new need, an offer on a community's need,
    # the committee's answer to an offer.
    NEED_POSTED = "need_posted", _("a paired community posted a need")
    OFFER_MADE = "offer_made", _("an offer to take up a need")
    OFFER_DECIDED = "offer_decided", _("an offer accepted or declined")


# Told in the inbox only (`notices.services.inbox_tell`): no SMS or email to choose for them.
INBOX_ONLY = frozenset({Kind.NEED_POSTED, Kind.OFFER_MADE, Kind.OFFER_DECIDED})
# The kinds a person (or the administrator, for a role) chooses SMS and email for.
SENT_KINDS = [(kind, label) for kind, label in Kind.choices if kind not in INBOX_ONLY]


class RoleChoice(models.TextChoices):
    """The roles of `units.selectors.Role`, as choices for the administrator."""

    DISPATCHER = "dispatcher", _("dispatcher")
    OFFICIAL = "official", _("district official")
    GRID_WORKER = "grid_worker", _("grid worker")
    STREET_STAFF = "street_staff", _("street office staff")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    DEPARTMENT_STAFF = "department_staff", _("department or utility staff")
    UNIT_HEAD = "unit_head", _("head of a unit")
