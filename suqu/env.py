"""Typed readers for environment variables.

Every setting that comes from the environment goes through one of these, so that a bad value stops
the process at start with a message naming the variable, instead of failing later somewhere else.
"""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_UNSET = object()


def _raw(name, default):
    value = os.environ.get(name)
    # An empty value counts as unset, so `SECURE_SSL_REDIRECT=` keeps the safe default
    # instead of quietly meaning "off".
    if value is not None and not value.strip():
        value = None
    if value is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"{name}: required but not set (see .env.example)")
        return None
    return value.strip()


def env_str(name, default=_UNSET):
    value = _raw(name, default)
    return default if value is None else value


def env_bool(name, default=_UNSET):
    value = _raw(name, default)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (1/0, true/false), got {value!r}")


def env_int(name, default=_UNSET, *, minimum=None):
    value = _raw(name, default)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_choice(name, default=_UNSET, *, choices):
    value = _raw(name, default)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def env_list(name, default=_UNSET):
    """A comma-separated list; empty items are dropped."""
    value = _raw(name, default)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name, default=_UNSET, *, schemes):
    value = _raw(name, default)
    if value is None:
        return default
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}: expected a URL like {schemes[0]}://host:port/..., got {redact_url(value)!r}"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        raise ImproperlyConfigured(f"{name}: the port in {redact_url(value)!r} is not a number") from None
    return value


def redact_url(url):
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
