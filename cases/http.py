"""The page door's one place for domain errors: they become a message the person can act on."""

import functools

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRefresh

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed


def safe_next(request, default):
    """The `next` a form posted if it is a path on this site; otherwise `default`.

    Only a path: `redirect()` takes any other text for a URL name, and a `next` of "abc" would end
    in NoReverseMatch (a 500) instead of the page the person came from."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def form_errors_as_messages(request, form):
    """A form posted from another page: each field's errors become a message, named by its label."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))


def shows_domain_errors(view):
    """Run a POST view; a refused move, a forbidden action or refused input ends in a message on
    the page the person came from, with nothing changed."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (TransitionNotAllowed, NotPermitted, InvalidInput) as error:
            messages.error(request, str(error))
            if getattr(request, "htmx", False):
                # A partial swap would put a whole page inside a fragment: reload the page
                # instead, which shows the message and the fresh state.
                return HttpResponseClientRefresh()
            back = request.headers.get("HX-Current-URL") or request.META.get("HTTP_REFERER") or ""
            if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                back = "/"
            return redirect(back)

    return wrapper
