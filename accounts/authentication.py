"""The API's token authentication. A module of its own: DRF imports it while its views module is
still loading, so it must not import views."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.services import token_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused once the token is API_TOKEN_DAYS old.

    A token also ends when its user's password changes, the user is deactivated or signed out
    everywhere, or an administrator deletes it (admin → 令牌): see accounts/models.py."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(_("Token expired; ask for a new one at /api/v1/auth/token/."))
        return user, token
