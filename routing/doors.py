"""The two doors of an action on a case: a page's form and an API operation. Both do the same
three things, in the same order: fetch the case in the person's scope (404 outside it), validate
the input with their own form or serializer, call the stage's service. A refusal (a move the
lifecycle refuses, an action the person may not take, input the service refuses) becomes a
message on the page (`cases.http.shows_domain_errors`) or an error answer of the API
(`suqu.api.exception_handler`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from cases.http import form_errors_as_messages, shows_domain_errors
from cases.schema import CONFLICT
from routing.pickers import scope_pickers
from routing.selectors import case_get_for
from routing.serializers import CaseSerializer


def case_page(request, case):
    """Where a case action goes back to by default: the case page."""
    return reverse("cases:detail", args=[case.number])


def case_page_action(form_class, run, *, back=case_page):
    """A page action on a case: `run(request, case, data)` makes the move and returns the message
    to show, or (message, url) to go somewhere else than `back(request, case)` afterwards (the
    case a duplicate was merged into). A bad form goes back with each field's errors, nothing
    changed."""

    @login_required
    @require_POST
    @shows_domain_errors
    def view(request, number):
        case = case_get_for(request.user, number)
        # A unit or a place picked by name is looked for among what this person may see.
        form = scope_pickers(form_class(request.POST, request.FILES), request.user)
        if not form.is_valid():
            form_errors_as_messages(request, form)
            return redirect(back(request, case))
        outcome = run(request, case, form.cleaned_data)
        message, target = outcome if isinstance(outcome, tuple) else (outcome, None)
        messages.success(request, message)
        return redirect(target or back(request, case))

    return view


def case_api_action(serializer_class, run, *, answer=CaseSerializer):
    """An API operation on a case (`POST /api/v1/cases/<number>/<action>/`): `run(case=, actor=,
    **validated data)` makes the move; the answer is the case as the person now sees it. A `run`
    that answers something else (a preview that moves nothing) returns its own Response, and
    `answer` says so in the schema."""

    @extend_schema(request=serializer_class, responses={200: answer, 409: CONFLICT})
    @api_view(["POST"])
    def view(request, number):
        case = case_get_for(request.user, number)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = run(case=case, actor=request.user, **serializer.validated_data)
        if isinstance(outcome, Response):
            return outcome
        fresh = case_get_for(request.user, case.number)
        return Response(CaseSerializer(fresh, context={"request": request}).data)

    return view
