"""Writes about user accounts: demo accounts, API tokens, signing a person out everywhere."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User

DEMO_PASSWORD = "suqu-demo"
# Every demo account, in the order the README and `make run` list them.
DEMO_USERNAMES = [
    "admin",
    "dispatcher",
    "official",
    "gridworker",
    "community",
    "street",
    "dept",
    "volunteer",
    "mediator",
    "council",
]


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


def system_user_ensure(*, username, real_name) -> User:
    """The account a door without staff records its calls under (the residents' own page, an
    integrating system): it signs in nowhere (no usable password, no posting), it only names who
    registered a case. Safe to call twice."""
    user, created = User.objects.get_or_create(username=username, defaults={"real_name": real_name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def user_sign_out_everywhere(*, user) -> None:
    """End every session and the API token of `user`: their next request must sign in again.

    Sessions are not searched for (they are signed blobs, not rows per user): a new sign-out epoch
    changes the signature every session of the user carries, so none of them is accepted again.
    """
    with transaction.atomic():
        user.auth_epoch = secrets.token_hex(16)
        user.save(update_fields=["auth_epoch"])
        Token.objects.filter(user=user).delete()


def token_issue(*, user) -> Token:
    """The user's API token: the current one while it lasts, a new one once it has expired
    (API_TOKEN_DAYS), so that a token leaked long ago stops working on its own."""
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and token_expired(token):
            token.delete()
            token = None
        if token is None:
            token = Token.objects.create(user=user)
    return token


def token_expires_at(token):
    return token.created + timedelta(days=settings.API_TOKEN_DAYS)


def token_expired(token) -> bool:
    return timezone.now() >= token_expires_at(token)
