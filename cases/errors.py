"""Domain errors every stage raises; each door (a page, the API) turns them into a response in one
place: suqu/api.py for the API, the views' `domain_errors` helper for the pages."""


class NotPermitted(Exception):
    """The actor's postings do not allow this action (API: 403). `field` names the input that
    asked for it, when there is one (a grid the person does not cover)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class InvalidInput(Exception):
    """The request cannot be carried out as asked (API: 400). `field` names the input at fault."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class IdempotencyKeyReused(Exception):
    """An idempotency key already used for a different request (API: 422, as the IETF
    Idempotency-Key draft asks): replaying the first answer would hide that the second request
    was never carried out."""
