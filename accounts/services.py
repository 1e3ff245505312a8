"""Writes about user accounts."""

from django.conf import settings
from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "suqu-demo"
# Every demo account, in the order the README and `make run` list them.
DEMO_USERNAMES = ["admin", "dispatcher", "official", "gridworker", "community", "street", "dept"]


class DemoDataRefused(Exception):
    """Demo accounts with a known password must never exist on a production system."""


@transaction.atomic
def demo_user_ensure(*, username, real_name="", superuser=False) -> User:
    """Create the demo account if missing; an existing one keeps its data and gets the demo password.

    Refuses unless DEBUG is on, so a production database never holds a known password.
    """
    if not settings.DEBUG:
        raise DemoDataRefused("demo accounts are only created when DEBUG is on")
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"real_name": real_name, "is_staff": superuser, "is_superuser": superuser},
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user
