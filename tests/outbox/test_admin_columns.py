"""The outbox's admin names its columns for what they hold: the recipient column is the recipient
(its label, "to", was translated as a deadline's "截止日期")."""

import re

import pytest

from outbox.models import Message, SentSms
from outbox.services import message_queue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def recipient_header(client, url):
    """The text of the changelist's header over the `to` column."""
    response = client.get(url)
    assert response.status_code == 200
    cell = re.search(r'<th scope="col" class="[^"]*column-to[^"]*">(.*?)</th>', response.text, re.S).group(1)
    return re.sub(r"<[^>]+>", "", cell).strip()


@pytest.mark.parametrize("model", [Message, SentSms])
def test_the_recipient_column_says_recipient(client, model):
    # A row of each, so that the changelist draws its table.
    message_queue(channel="sms", to="13800138000", text="您反映的问题已受理。", key="ack:1", quiet=None)
    SentSms.objects.create(message_id=1, to="13800138000", text="您反映的问题已受理。")
    client.force_login(UserFactory(username="t_admin", is_staff=True, is_superuser=True))
    assert recipient_header(client, f"/admin/outbox/{model._meta.model_name}/") == "接收方"
