"""`manage.py check --deploy`: our own warning for demo accounts left in a production database."""

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from accounts.services import DEMO_PASSWORD, DEMO_USERNAMES


@register(Tags.security, deploy=True)
def demo_accounts_check(app_configs=None, **kwargs):
    if settings.DEMO_PASSWORD_ALLOWED:
        return []
    from accounts.models import User

    try:
        # Only the demo usernames: hashing the password of every account would take minutes.
        # hashers.check_password, not User.check_password: a check must not upgrade a hash in place.
        accounts = User.objects.filter(username__in=DEMO_USERNAMES, is_active=True).order_by("username")
        lingering = [user.username for user in accounts if check_password(DEMO_PASSWORD, user.password)]
    except DatabaseError:
        # No database yet (a build step): nothing can linger in it.
        return []
    if not lingering:
        return []
    return [
        Warning(
            f"{len(lingering)} active account(s) still have the demo password: {', '.join(lingering)}.",
            hint="They cannot sign in while DEBUG is off; set a new password or deactivate them in the admin.",
            id="accounts.W001",
        )
    ]
