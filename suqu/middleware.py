"""Middleware of the whole site: the language, what input may enter at all, and the answer when the
database cannot be reached."""

import re
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _


class LanguageMiddleware:
    """Simplified Chinese unless this browser chose another language with the header's switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language; many office machines
    are set to English while their users read Chinese first, so only an explicit choice counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# --- What input may enter -----------------------------------------------------------------------

# PostgreSQL cannot store NUL in text ("text fields cannot contain NUL"), and a lone UTF-16
# surrogate (which JSON's "\ud800" escape produces) cannot be encoded as UTF-8 to send it there.
# Both would end in a 500 deep inside a query; they are refused at the door instead.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(text) -> str | None:
    """Why `text` cannot be stored, in words a person can act on; None when it can."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return _("Contains a NUL character (\\0), which cannot be stored; remove it.")
    return _("Contains an unpaired surrogate character, which is not valid Unicode text; remove it.")


def unstorable_in(value, path=""):
    """The first (field, reason) in a parsed structure (dicts, lists, strings, keys too) that
    cannot be stored, or None. `field` is a dotted path: `photos.0.name`."""
    # An explicit stack: a structure nested deeper than Python's recursion limit must not crash us.
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            reason = unstorable_reason(item)
            if reason:
                return where or "non_field_errors", reason
        elif isinstance(item, dict):
            for key, child in item.items():
                key_text = str(key)
                reason = unstorable_reason(key_text)
                if reason:
                    return where or "non_field_errors", reason
                stack.append((f"{where}.{key_text}" if where else key_text, child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}.{index}" if where else str(index), child) for index, child in enumerate(item))
    return None


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def refusal(request, status, field, reason, code="invalid"):
    """The answer to input refused before any view ran: the API's JSON error shape
    (`suqu/api.py`), or a short page in the person's language."""
    if is_api(request):
        body = {"code": code, "detail": f"{field}: {reason}" if field else reason}
        if field:
            body["errors"] = {field: [reason]}
        return JsonResponse(body, status=status)
    text = escape(f"{field}: {reason}" if field else reason)
    page = (
        f'<!doctype html><html lang="{translation.get_language()}"><meta charset="utf-8">'
        f'<title>{status}</title><p>{text}</p><p><a href="javascript:history.back()">{escape(_("Back"))}</a></p>'
    )
    return HttpResponse(page, status=status)


class InputGuardMiddleware:
    """One door for every request: refuse what PostgreSQL or our validators cannot take before a
    query is built. A NUL in the path is a page that cannot exist (404); in the query string or a
    form field it is a 400 naming the field. JSON bodies are checked by the API's parser
    (`suqu.parsers.BoundedJSONParser`), which also bounds their depth."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if unstorable_reason(request.path_info):
            # No page has such a name; answering as for any unknown path.
            if is_api(request):
                return refusal(request, 404, "", _("Not found."), code="not_found")
            raise Http404
        refused = self._check(request)
        return refused or self.get_response(request)

    def _check(self, request):
        found = self._first_unstorable(request.GET.lists())
        if found:
            return refusal(request, 400, *found)
        if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.content_type in {
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        }:
            try:
                found = self._first_unstorable(request.POST.lists()) or self._first_unstorable(
                    (name, [upload.name for upload in uploads]) for name, uploads in request.FILES.lists()
                )
            except (RequestDataTooBig, TooManyFieldsSent) as exc:
                return refusal(request, 413, "", _("The request is too large: %(reason)s") % {"reason": exc})
            if found:
                return refusal(request, 400, *found)
        return None

    @staticmethod
    def _first_unstorable(pairs):
        for name, values in pairs:
            for text in (name, *values):
                reason = unstorable_reason(text)
                if reason:
                    # The field's name is echoed back: without the character that cannot be shown.
                    return _UNSTORABLE.sub("\ufffd", name), reason
        return None


# --- When the database cannot be reached ----------------------------------------------------------

# A refused or broken connection, PostgreSQL restarting, the connection pool exhausted for
# DB_POOL_TIMEOUT seconds (psycopg_pool.PoolTimeout is an OperationalError): all of them pass if
# the client tries again in a moment, so they are a 503 with Retry-After, never a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def unavailable(request):
    if is_api(request):
        response = JsonResponse(
            {"code": "unavailable", "detail": _("The service is busy or restarting; try again in a few seconds.")},
            status=503,
        )
    else:
        response = refusal(request, 503, "", _("The service is busy or restarting; try again in a few seconds."))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Outermost: a request that failed because the database could not be reached answers 503.

    A view's failure arrives in `process_exception`. A failure in another middleware (the session
    saved on the way out) has already been turned into a 500 by Django's own handler by the time
    it gets here, so the `got_request_exception` signal marks the request and the 500 is replaced.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "_suqu_database_unavailable", False):
            return unavailable(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return unavailable(request)
        return None


@receiver(got_request_exception, dispatch_uid="suqu.middleware.mark_database_unavailable")
def _mark_database_unavailable(sender, request=None, **kwargs):
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        request._suqu_database_unavailable = True
