"""The sign-in forms of the pages and the admin."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class BoundedUsernameMixin:
    """Django's sign-in forms set the username's `max_length` after the field is built, so the
    limit is only the widget's `maxlength`, never checked: a longer name went on to
    `authenticate()`, and django-axes then failed to record the failed sign-in (its username
    column holds 255 characters) with a 500. Checked here, a longer name is a form error and no
    sign-in is attempted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminLoginForm(BoundedUsernameMixin, AdminAuthenticationForm):
    pass
