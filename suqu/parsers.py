"""What every API door accepts: JSON bounded in depth and size, with nothing PostgreSQL cannot store.

A module of its own, importing no DRF views: DRF imports it while loading its settings.
"""

import json
import re

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from suqu.middleware import unstorable_in

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
# Deeper than any body the API takes (a call is two levels); far below Python's recursion limit.
MAX_JSON_DEPTH = 32


class BoundedJSONParser(parsers.JSONParser):
    """The JSON parser of every API door (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

    The body's size is bounded by DATA_UPLOAD_MAX_MEMORY_SIZE before it is read (Django refuses a
    larger one; the exception handler below answers 413 in JSON). Its nesting is bounded here: a
    body of 100,000 `[` would otherwise exhaust the C decoder's recursion. Strings and keys that
    PostgreSQL cannot store (NUL, lone surrogates) are refused naming the field, before any
    serializer or query sees them.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(_("The body is not valid %(encoding)s text.") % {"encoding": encoding}) from exc
        too_deep = _nesting_exceeds(text, MAX_JSON_DEPTH)
        if too_deep:
            raise exceptions.ParseError(
                _("JSON nested deeper than %(depth)d levels is not accepted.") % {"depth": MAX_JSON_DEPTH}
            )
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise exceptions.ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        found = unstorable_in(data)
        if found:
            field, reason = found
            raise exceptions.ValidationError({field: [reason]})
        return data


def _refuse_constant(name):
    # NaN and Infinity are not JSON (RFC 8259) and no field of ours can hold them.
    raise ValueError(f"{name} is not a JSON value")


def _nesting_exceeds(text, limit) -> bool:
    """Whether the brackets outside strings nest deeper than `limit`, counted without recursion."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False
