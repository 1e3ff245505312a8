"""What every outside door shares: each call is recorded (`recorded`), whoever made it and
whatever the answer, once the door has said which key it was (`identified`)."""

import functools
import time
from urllib.parse import urlencode

from integrations.services import api_call_record

# Never written to the log: a key in the query string (Open311 sends `api_key` there).
SECRET_PARAMETERS = {"api_key"}


def identified(request, key):
    """The door found `key` valid: the call is recorded against it (and its system). Works with
    a Django request and with DRF's, which wraps one."""
    getattr(request, "_request", request).integration_key = key


def recorded(view):
    """Record the call in `ApiCall` after the view answers: method, path (without secrets),
    answer, duration, address, and the key if the door accepted one."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        started = time.monotonic()
        request.integration_key = None
        response = view(request, *args, **kwargs)
        query = [(name, value) for name, value in request.GET.items() if name not in SECRET_PARAMETERS]
        api_call_record(
            key=request.integration_key,
            method=request.method,
            path=request.path + (f"?{urlencode(query)}" if query else ""),
            status=response.status_code,
            duration_ms=(time.monotonic() - started) * 1000,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        return response

    return wrapper
