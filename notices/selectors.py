"""The inbox's reads: a person sees their own notices and nobody else's."""

from notices.models import Notification


def unread_count(user) -> int:
    """One indexed count (a partial index on unread rows), for the header's badge."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox_for(user, *, unread=None, kind=""):
    rows = Notification.objects.filter(user=user).select_related("case")
    if unread is not None:
        rows = rows.filter(read_at__isnull=unread)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-created_at", "-id")
