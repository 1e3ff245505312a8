"""What the residents' tests share: reading the code from the SMS, as a resident reads it."""

import re

from django.conf import settings
from django.utils import timezone

from outbox.models import Message

PHONE = "13912345678"


def sent_code(phone=PHONE) -> str:
    """The code in the latest SMS to `phone`, read from the outbox's words."""
    message = Message.objects.filter(to=phone, template="resident_code").latest("id")
    return re.search(r"\d{6}", message.text).group()


def confirmed(client, phone=PHONE):
    """The client's browser with `phone` confirmed just now (the code flow has its own tests)."""
    session = client.session
    session["resident_phone"] = phone
    session["resident_verified_at"] = timezone.now().timestamp()
    session.save()
    # A signed-cookie session's key is its content: the browser must carry the new one.
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client
