"""Tencent Cloud SMS (腾讯云短信): API 3.0, version 2021-01-11, through the vendor's own SDK
(`tencentcloud-sdk-python-sms`, which needs only `requests`), which signs with TC3-HMAC-SHA256.

- `send`: `SendSms` with the template's vendor id (`SMS_TEMPLATES`), its variables' values in the
  template's order (`TemplateParamSet`: Tencent Cloud numbers them {1}, {2}, ...), and
  `SessionContext` = the outbox message id.
- `lookup`: `PullSmsSendStatusByPhoneNumber` for the number since the message was written,
  matched on `SessionContext`. Two limits of the vendor (docs/configuration.md): a message is
  listed there only once the carrier's delivery report has come in, and `SessionContext` is
  repeated there only when Tencent Cloud's support has switched that on for the account.
  Otherwise a message whose deliverer died is not found and is sent again.
- `reports`: `PullSmsSendStatus`, a queue: each report is handed out once, whichever message it is
  for, and is matched by its `SerialNo`.
"""

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from outbox.backends import DeliveryFailed, DeliveryRejected, Receipt, Report, mainland_mobile
from outbox.gateways import vendor_template

logger = logging.getLogger(__name__)

# PullSmsSendStatusByPhoneNumber looks back at most 7 days; both pulls answer at most 100 rows.
LOOKBACK = timedelta(days=7)
PULL_LIMIT = 100
# Reports pulled in one poll at most (the queue keeps the rest for the next poll).
PULL_PAGES = 10

# Answers worth another try: frequency limits, the platform's trouble, the network (the SDK calls
# a refused connection or a timeout ClientNetworkError, an HTTP error ServerNetworkError).
TRANSIENT_PREFIXES = (
    "LimitExceeded",
    "RequestLimitExceeded",
    "InternalError",
    "ClientNetworkError",
    "ServerNetworkError",
    "ResourceUnavailable",
)
# Answers trying again will not change: the template or signature is not approved, the number is
# wrong or has opted out, the package is used up, our keys are wrong.
PERMANENT_PREFIXES = (
    "AuthFailure",
    "FailedOperation",
    "InvalidParameter",
    "MissingParameter",
    "UnauthorizedOperation",
    "UnsupportedOperation",
    "InvalidAction",
)


def _error(code: str, message: str) -> Exception:
    reason = f"{code}: {message}" if message else code
    if code.startswith(TRANSIENT_PREFIXES):
        return DeliveryFailed(reason, code=code)
    if code.startswith(PERMANENT_PREFIXES):
        return DeliveryRejected(reason, code=code)
    # A code this adapter does not know: retried until the cap, with the code on the row.
    return DeliveryFailed(reason, code=code)


def _e164(number: str) -> str:
    return f"+86{number}"


class TencentSmsBackend:
    """SMS through Tencent Cloud; configured by SMS_KEY_ID (SecretId), SMS_KEY_SECRET (SecretKey),
    SMS_APP_ID (SmsSdkAppId), SMS_SIGN_NAME, SMS_TEMPLATES, SMS_REGION, SMS_ENDPOINT, SMS_TIMEOUT."""

    def __init__(self):
        self.app_id = settings.SMS_APP_ID
        self.sign_name = settings.SMS_SIGN_NAME
        http = HttpProfile(reqMethod="POST", reqTimeout=settings.SMS_TIMEOUT)
        if settings.SMS_ENDPOINT:
            # A private gateway (or the tests' fake): its host, and http if it says so.
            parts = urlsplit(settings.SMS_ENDPOINT)
            http = HttpProfile(
                protocol=parts.scheme, endpoint=parts.netloc, reqMethod="POST", reqTimeout=settings.SMS_TIMEOUT
            )
        self.client = sms_client.SmsClient(
            credential.Credential(settings.SMS_KEY_ID, settings.SMS_KEY_SECRET),
            settings.SMS_REGION,
            ClientProfile(httpProfile=http),
        )

    def _call(self, action: str, request):
        try:
            return getattr(self.client, action)(request)
        except TencentCloudSDKException as error:
            raise _error(error.get_code() or "", error.get_message() or "") from error

    def send(self, message) -> Receipt:
        number = mainland_mobile(message.to)
        if number is None:
            raise DeliveryRejected("not a mainland China mobile number", code="not_mobile")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [_e164(number)]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = vendor_template(message)
        request.TemplateParamSet = [value for _name, value in message.params]
        request.SessionContext = str(message.pk)
        answer = self._call("SendSms", request)
        # One number, one status: a refusal of this number (wrong, opted out, its frequency
        # limit) comes here rather than as the request's error.
        status = (answer.SendStatusSet or [None])[0]
        if status is None:
            raise DeliveryFailed("SendSms answered without a status", code="no_status")
        if status.Code != "Ok":
            raise _error(status.Code or "", status.Message or "")
        return Receipt(provider_id=status.SerialNo or "", code=status.Code)

    def lookup(self, message) -> Receipt | None:
        number = mainland_mobile(message.to)
        if number is None:
            return None
        now = timezone.now()
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.PhoneNumber = _e164(number)
        request.SmsSdkAppId = self.app_id
        request.BeginTime = int(
            max(message.created_at - timedelta(minutes=1), now - LOOKBACK + timedelta(minutes=1)).timestamp()
        )
        request.EndTime = int(now.timestamp())
        request.Offset = 0  # the vendor's documentation: always 0
        request.Limit = PULL_LIMIT
        try:
            answer = self._call("PullSmsSendStatusByPhoneNumber", request)
        except DeliveryRejected as error:
            # Our keys or the account, not the message: the gateway cannot say now.
            raise DeliveryFailed(str(error), code=error.code) from error
        for status in answer.PullSmsSendStatusSet or []:
            if status.SessionContext == str(message.pk):
                return Receipt(provider_id=status.SerialNo or "", code="Ok")
        return None

    def reports(self, messages) -> list[Report]:
        # The queue holds the reports of every message of the app, not only of `messages`; the
        # outbox matches each by SerialNo.
        found = []
        for _page in range(PULL_PAGES):
            request = models.PullSmsSendStatusRequest()
            request.SmsSdkAppId = self.app_id
            request.Limit = PULL_LIMIT
            try:
                answer = self._call("PullSmsSendStatus", request)
            except (DeliveryFailed, DeliveryRejected) as error:
                logger.warning("Tencent Cloud SMS reports: %s", error)
                break
            rows = answer.PullSmsSendStatusSet or []
            for row in rows:
                received = row.UserReceiveTime
                found.append(
                    Report(
                        provider_id=row.SerialNo or "",
                        delivered=row.ReportStatus == "SUCCESS",
                        code=row.Description or row.ReportStatus or "",
                        at=datetime.fromtimestamp(received, tz=UTC) if received else None,
                    )
                )
            if len(rows) < PULL_LIMIT:
                break
        return found
