"""Alibaba Cloud SMS (阿里云短信服务): the dysmsapi RPC API, version 2017-05-25.

- `send`: `SendSms` with the template's vendor id (`SMS_TEMPLATES`), its variables as the JSON
  object `TemplateParam`, and `OutId` = the outbox message id, so that `lookup` can recognise it.
- `lookup`: `QuerySendDetails` for the number on the day(s) the message may have been handed
  over, matched on `OutId`. Alibaba Cloud lists a message there as soon as it has taken it
  (SendStatus 1, "waiting for the handset's receipt"), so a deliverer that died is settled
  without texting the resident twice.
- `reports`: `QuerySendDetails` for each accepted message: SendStatus 3 delivered, 2 failed (its
  `ErrCode` says why), 1 still waiting (asked again on the next poll).

Signed here with the standard library (urllib, hmac), not with Alibaba's SDK: the SDK
(`alibabacloud-dysmsapi20170525`) drags about 18 packages, aiohttp and APScheduler among them,
into every web and worker process for two calls whose signature (RPC v1, HMAC-SHA1) is a few
lines.
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from outbox.backends import DeliveryFailed, DeliveryRejected, Receipt, Report, mainland_mobile
from outbox.gateways import vendor_template

logger = logging.getLogger(__name__)

API_VERSION = "2017-05-25"
ENDPOINT = "https://dysmsapi.aliyuncs.com"
# SendDate and ReceiveDate are China's dates and times.
CHINA = ZoneInfo("Asia/Shanghai")
# QuerySendDetails: at most 50 rows a page, and only the last 30 days.
PAGE_SIZE = 50
KEPT_DAYS = 30

# Answers that trying again will not change: the number, the template, the signature, the
# account or our keys are wrong. The message is marked failed and the code shown to an admin.
PERMANENT = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.MONTH_LIMIT_CONTROL",
        "isp.RAM_PERMISSION_DENY",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidTimeStamp.Expired",
    }
)
# Answers worth another try: throttling (per number per minute/hour/day), the day's limit set in
# the console (it resets at midnight), the platform's own trouble, a nonce that happened to repeat.
TRANSIENT = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "SignatureNonceUsed"})
TRANSIENT_PREFIXES = ("isp.", "Throttling", "ServiceUnavailable", "InternalError")
PERMANENT_PREFIXES = ("isv.", "InvalidAccessKeyId", "Signature", "InvalidParameter", "MissingParameter", "Forbidden")


def _error(code: str, message: str) -> Exception:
    reason = f"{code}: {message}" if message else code
    if code in PERMANENT:
        return DeliveryRejected(reason, code=code)
    if code in TRANSIENT or code.startswith(TRANSIENT_PREFIXES):
        return DeliveryFailed(reason, code=code)
    if code.startswith(PERMANENT_PREFIXES):
        return DeliveryRejected(reason, code=code)
    # A code this adapter does not know: retried until the cap, with the code on the row.
    return DeliveryFailed(reason, code=code)


def percent_encode(value: str) -> str:
    """RFC 3986, as Alibaba Cloud's signature wants it: only A-Z a-z 0-9 - _ . ~ stay as they are
    (a space is %20, not +; * is %2A)."""
    return quote(str(value), safe="-_.~")


def signature(method: str, params: dict, secret: str) -> str:
    """Alibaba Cloud's RPC signature v1: HMAC-SHA1, keyed with the secret and "&", over
    METHOD&%2F&percent_encode(the canonical query: the parameters sorted by name, each name
    and value percent-encoded), in Base64."""
    canonical = "&".join(f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params))
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _china_time(text):
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except (TypeError, ValueError):
        return None


class AliyunSmsBackend:
    """SMS through Alibaba Cloud; configured by SMS_KEY_ID, SMS_KEY_SECRET, SMS_SIGN_NAME,
    SMS_TEMPLATES, SMS_ENDPOINT and SMS_TIMEOUT."""

    def __init__(self):
        self.key_id = settings.SMS_KEY_ID
        self.secret = settings.SMS_KEY_SECRET
        self.sign_name = settings.SMS_SIGN_NAME
        self.url = (settings.SMS_ENDPOINT or ENDPOINT).rstrip("/") + "/"
        self.timeout = settings.SMS_TIMEOUT

    def _call(self, action: str, **params) -> dict:
        """One signed POST; answers the JSON body when its Code is OK, raises otherwise."""
        query = {
            "AccessKeyId": self.key_id,
            "Action": action,
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            # Unique per request: Alibaba Cloud refuses a nonce it has seen (a replayed request).
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            **{name: str(value) for name, value in params.items()},
        }
        query["Signature"] = signature("POST", query, self.secret)
        # POST, so that numbers and the variables stay out of URLs that proxies and logs keep.
        body = "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in query.items())
        request = Request(
            self.url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except HTTPError as error:  # 4xx/5xx: the body still says why
            status, raw = error.code, error.read()
        except TimeoutError as error:
            raise DeliveryFailed(f"{action}: no answer within {self.timeout} s", code="timeout") from error
        except (OSError, http.client.HTTPException) as error:  # refused, unreachable, DNS, TLS, cut off
            raise DeliveryFailed(f"{action}: {error}", code="network") from error
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not answer.get("Code"):
            raise DeliveryFailed(f"{action}: HTTP {status} without an answer", code=f"http_{status}")
        if answer["Code"] != "OK":
            raise _error(answer["Code"], answer.get("Message", ""))
        return answer

    def send(self, message) -> Receipt:
        number = mainland_mobile(message.to)
        if number is None:
            raise DeliveryRejected("not a mainland China mobile number", code="not_mobile")
        params = {
            "PhoneNumbers": number,
            "SignName": self.sign_name,
            "TemplateCode": vendor_template(message),
            "OutId": str(message.pk),
        }
        if message.params:
            params["TemplateParam"] = json.dumps(dict(message.params), ensure_ascii=False)
        answer = self._call("SendSms", **params)
        return Receipt(provider_id=answer.get("BizId", ""), code=answer["Code"])

    def _details(self, number, day, **narrow):
        """Every QuerySendDetails row for `number` on `day` (yyyyMMdd), page by page."""
        page = 1
        while True:
            answer = self._call(
                "QuerySendDetails", PhoneNumber=number, SendDate=day, PageSize=PAGE_SIZE, CurrentPage=page, **narrow
            )
            rows = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            yield from rows
            if len(rows) < PAGE_SIZE or page * PAGE_SIZE >= int(answer.get("TotalCount") or 0):
                return
            page += 1

    def _days_handed_over(self, message):
        """The China dates on which the message may have reached Alibaba Cloud, the latest first:
        from when it was written to its last hand-over (plus the time a request may take, which
        may cross midnight), within the 30 days QuerySendDetails covers."""
        now = timezone.now()
        last = min(now, (message.claimed_at or now) + timedelta(seconds=self.timeout + 60)).astimezone(CHINA).date()
        first = max(message.created_at.astimezone(CHINA).date(), now.astimezone(CHINA).date() - timedelta(KEPT_DAYS))
        days = []
        while last >= first:
            days.append(last.strftime("%Y%m%d"))
            last -= timedelta(days=1)
        return days

    def lookup(self, message) -> Receipt | None:
        number = mainland_mobile(message.to)
        if number is None:
            return None
        try:
            for day in self._days_handed_over(message):
                for row in self._details(number, day):
                    if row.get("OutId") == str(message.pk):
                        # QuerySendDetails does not repeat the BizId; reports find the message by
                        # OutId as well.
                        return Receipt(provider_id="", code="OK")
        except DeliveryRejected as error:
            # Our keys or the account, not the message: the gateway cannot say now.
            raise DeliveryFailed(str(error), code=error.code) from error
        return None

    def reports(self, messages) -> list[Report]:
        found = []
        for message in messages:
            number = mainland_mobile(message.to)
            if number is None or message.sent_at is None:
                continue
            day = message.sent_at.astimezone(CHINA).strftime("%Y%m%d")
            narrow = {"BizId": message.provider_id} if message.provider_id else {}
            try:
                rows = [row for row in self._details(number, day, **narrow) if row.get("OutId") == str(message.pk)]
            except (DeliveryFailed, DeliveryRejected) as error:
                # Not answering now: the next poll asks again for what is still waiting.
                logger.warning("Alibaba Cloud SMS reports: %s", error)
                break
            if not rows or int(rows[0].get("SendStatus") or 1) == 1:
                continue  # not yet reported by the carrier
            row = rows[0]
            found.append(
                Report(
                    provider_id=message.provider_id,
                    delivered=int(row["SendStatus"]) == 3,
                    code=row.get("ErrCode") or "",
                    at=_china_time(row.get("ReceiveDate")),
                    message_id=message.pk,
                )
            )
        return found
