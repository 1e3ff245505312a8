from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.real_name or self.username

    @property
    def display_name(self):
        return self.real_name or self.username
