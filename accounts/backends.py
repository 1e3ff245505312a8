"""How a password signs a person in: Django's own check, minus the demo password in production."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from accounts.services import DEMO_PASSWORD


class PasswordBackend(ModelBackend):
    """Django's ModelBackend, refusing the documented demo password unless DEMO_PASSWORD_ALLOWED
    (which is DEBUG as the process started).

    The demo accounts of an earlier `load_demo` may linger in a database that goes into
    production; whatever account still has the published password cannot sign in with it (pages,
    the admin and the API token endpoint alike). Comparing the typed password costs nothing; the
    `accounts.W001` deploy check names the accounts that still have it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.DEMO_PASSWORD_ALLOWED and password == DEMO_PASSWORD:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
