from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

# Mobile (11 digits from 1), landline with area code (024-12345678), or a local 7–8 digit number.
phone_validator = RegexValidator(
    r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{7,8})$",
    _("Enter a mobile number of 11 digits or a landline such as 024-12345678."),
    code="invalid_phone",
)


class User(AbstractUser):
    """A person who signs in: grid worker, unit staff, dispatcher, official or administrator.

    What a user may see follows from their postings (grids) and memberships (units), never from
    `is_staff`, which only opens the configuration screens.
    """

    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    # Part of every session's signature (see _get_session_auth_hash): a new value ends every
    # session of this user at their next request ("log out everywhere"). Empty for most users.
    auth_epoch = models.CharField(_("sign-out epoch"), max_length=32, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.real_name or self.username

    def save(self, *args, **kwargs):
        # Every way of changing a password (the admin, `changepassword`, a password form) ends in
        # set_password() and save(), and deactivating ends in save(): here the API token dies
        # with the old password or the account. Sessions need nothing: their signature is made
        # from the password hash, and an inactive user's session is not accepted.
        ends_credentials = self._password is not None or (
            self.pk is not None and not self.is_active and User.objects.filter(pk=self.pk, is_active=True).exists()
        )
        super().save(*args, **kwargs)
        if ends_credentials:
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()

    def _get_session_auth_hash(self, secret=None):
        # Django's own signature (the HMAC of the password hash) with the sign-out epoch added;
        # with no epoch it is exactly Django's, so existing sessions stay valid.
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, self.password + self.auth_epoch, secret=secret, algorithm="sha256").hexdigest()

    @property
    def display_name(self):
        return self.real_name or self.username
