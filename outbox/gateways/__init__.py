"""The SMS vendors' adapters behind `SMS_BACKEND` (see `outbox.backends` for the interface and
`docs/configuration.md` for choosing and configuring one)."""

from django.conf import settings

from outbox.backends import DeliveryRejected


def vendor_template(message) -> str:
    """The id the vendor gave the message's template (`SMS_TEMPLATES`), or DeliveryRejected: a
    template nobody registered will not be registered by trying again."""
    template_id = settings.SMS_TEMPLATES.get(message.template)
    if not template_id:
        raise DeliveryRejected(
            f"no vendor template id for template {message.template or '(none)'!r}: register it with the vendor "
            "and add it to SMS_TEMPLATES",
            code="no_template",
        )
    return template_id
