"""Local stand-ins for the SMS vendors' APIs, for the gateway tests: one threaded HTTP server per
vendor on 127.0.0.1, checking every request the way the vendor documents it, with their own
implementation of each signature (not the adapters'), checked against the vendors' own worked
examples in the tests. A request that is not signed right is answered with the vendor's signature
error, so a broken signer fails the tests instead of passing against a lenient fake.

What a fake answers to SendSms is scripted (`fake.script("isv.BUSINESS_LIMIT_CONTROL", "ok")`),
one outcome per SendSms, then "ok":

- "ok": accepted; answers the vendor's id for it (BizId, SerialNo).
- "late": accepted, but the answer comes after the client stopped waiting (past SMS_TIMEOUT).
- "timeout": not accepted, and no answer in time.
- "hold": accepted; the answer waits until `fake.release` is set (a deliverer killed meanwhile).
- "http500": the API's front answers 500 with no body the client can read.
- a vendor error code: answered as that vendor answers it.

`fake.report(message_id, delivered, code)` is the carrier's delivery report coming in; the
lookup and report calls answer from what was accepted and reported.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
MAINLAND = re.compile(r"1[3-9]\d{9}")


class FakeGateway:
    """The vendor-neutral part: the server, the script, and what was received and accepted."""

    def __init__(self, *, key_id, secret, sign_name, templates, patience):
        self.key_id, self.secret, self.sign_name = key_id, secret, sign_name
        # The templates registered with the vendor: id → variable names in order.
        self.templates = templates
        # How long the client waits (SMS_TIMEOUT): "timeout" and "late" answer after it.
        self.patience = patience
        self.outcomes = deque()
        self.lock = threading.Lock()
        self.calls = []  # (action, parameters) of every request that passed the checks
        self.refused = []  # the error code of every request refused at the checks
        self.accepted = []  # what the vendor took: one dict per message it would text
        self.received = threading.Event()  # a "hold" SendSms has arrived
        self.release = threading.Event()
        self.serials = count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                fake.handle(self)

            def do_GET(self):
                fake.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def script(self, *outcomes):
        self.outcomes.extend(outcomes)

    def sends(self) -> int:
        """SendSms requests that reached the vendor properly signed (whatever it answered)."""
        return sum(1 for action, _params in self.calls if action == "SendSms")

    def accepted_ids(self) -> list[str]:
        return [row["message_id"] for row in self.accepted]

    def report(self, message_id, *, delivered=True, code=None):
        """The carrier's delivery report for the accepted message `message_id` comes in."""
        with self.lock:
            for row in self.accepted:
                if row["message_id"] == str(message_id):
                    row["report"] = (delivered, code or (self.DELIVERED if delivered else "FAIL"))
                    row["reported_at"] = datetime.now(UTC)
                    return
        raise AssertionError(f"message {message_id} was not accepted")

    def handle(self, request):
        try:
            status, body = self.answer(request)
        except _Refused as refusal:
            with self.lock:
                self.refused.append(refusal.code)
            status, body = refusal.status, self.error_body(refusal.code, refusal.message)
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b"upstream error"
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json" if body is not None else "text/html")
            request.send_header("Content-Length", str(len(raw)))
            request.end_headers()
            request.wfile.write(raw)
        except OSError:
            pass  # the client stopped waiting (a timeout) or was killed

    def take(self, record):
        """Run the next scripted outcome for a well-formed SendSms; answers (status, body) or
        raises the vendor's error. `record` is what the vendor keeps when it accepts."""
        with self.lock:
            self.calls.append(("SendSms", record))
            outcome = self.outcomes.popleft() if self.outcomes else "ok"
        if outcome == "timeout":
            time.sleep(self.patience + 0.5)
            raise _Refused(self.BUSY, "the answer came too late", status=504)
        if outcome == "http500":
            return 500, None
        if outcome not in ("ok", "late", "hold"):
            self.refuse_send(outcome)
        with self.lock:
            record["provider_id"] = self.new_provider_id()
            record["accepted_at"] = datetime.now(UTC)
            self.accepted.append(record)
        if outcome == "late":
            time.sleep(self.patience + 0.5)
        if outcome == "hold":
            self.received.set()
            self.release.wait(60)
        return 200, self.send_answer(record)


class _Refused(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --- Alibaba Cloud --------------------------------------------------------------------------------


def aliyun_encode(value):
    """Alibaba Cloud's percent-encoding: RFC 3986 unreserved characters stay, all else is %XX."""
    return "".join(
        char if re.fullmatch(r"[A-Za-z0-9\-_.~]", char) else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in value
    )


def aliyun_signature(method, params, secret):
    """The vendor's RPC signature v1, as its documentation describes it step by step."""
    pairs = sorted((aliyun_encode(name), aliyun_encode(value)) for name, value in params.items())
    canonical = "&".join(f"{name}={value}" for name, value in pairs)
    string_to_sign = method + "&" + aliyun_encode("/") + "&" + aliyun_encode(canonical)
    key = (secret + "&").encode()
    return base64.b64encode(hmac.new(key, string_to_sign.encode(), "sha1").digest()).decode()


class AliyunFake(FakeGateway):
    """dysmsapi 2017-05-25: SendSms and QuerySendDetails, RPC signature v1."""

    DELIVERED = "DELIVERED"
    BUSY = "isp.SYSTEM_ERROR"
    # Errors of the API's front: answered with an HTTP error status. The business codes (isv.*,
    # isp.*) come with 200.
    FRONT = {
        "SignatureDoesNotMatch": 400,
        "InvalidAccessKeyId.NotFound": 404,
        "InvalidTimeStamp.Expired": 400,
        "SignatureNonceUsed": 400,
        "MissingParameter": 400,
        "Throttling.User": 400,
        "ServiceUnavailable": 503,
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.nonces = set()

    def error_body(self, code, message):
        return {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message, "HostId": "dysmsapi"}

    def new_provider_id(self):
        return f"{next(self.serials):015d}^0"

    def answer(self, request):
        method = request.command
        if method == "POST":
            if request.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                raise _Refused("InvalidParameter", "a form body is expected")
            raw = request.rfile.read(int(request.headers.get("Content-Length", 0))).decode()
        else:
            raw = urlsplit(request.path).query
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
        params = dict(pairs)
        if len(params) != len(pairs):
            raise _Refused("InvalidParameter", "a parameter is repeated")
        self.check_common(method, params)
        action = params["Action"]
        if action == "SendSms":
            return self.send_sms(params)
        if action == "QuerySendDetails":
            return self.query_send_details(params)
        raise _Refused("InvalidAction.NotFound", f"Specified api is not found: {action}", status=404)

    def check_common(self, method, params):
        for name in ("AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce", "SignatureVersion",
                     "Timestamp", "Version", "Signature"):  # fmt: skip
            if not params.get(name):
                raise _Refused("MissingParameter", f"{name} is mandatory for this action.")
        fixed = {"Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Version": "2017-05-25"}
        for name, value in fixed.items():
            if params[name] != value:
                raise _Refused("InvalidParameter", f"{name} must be {value}, got {params[name]}")
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _Refused("InvalidTimeStamp.Format", "Specified time stamp is not valid.") from None
        if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
            raise _Refused("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        if params["AccessKeyId"] != self.key_id:
            raise _Refused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404)
        unsigned = {name: value for name, value in params.items() if name != "Signature"}
        expected = aliyun_signature(method, unsigned, self.secret)
        if not hmac.compare_digest(params["Signature"], expected):
            raise _Refused("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        with self.lock:
            if params["SignatureNonce"] in self.nonces:
                raise _Refused("SignatureNonceUsed", "Specified signature nonce was used already.")
            self.nonces.add(params["SignatureNonce"])

    def send_sms(self, params):
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise _Refused("MissingParameter", f"{name} is mandatory for this action.")
        if not MAINLAND.fullmatch(params["PhoneNumbers"]):
            return 200, self.error_body("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params["SignName"] != self.sign_name:
            return 200, self.error_body("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        variables = self.templates.get(params["TemplateCode"])
        if variables is None:
            return 200, self.error_body("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return 200, self.error_body("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(values, dict) or not all(isinstance(value, str) for value in values.values()):
            return 200, self.error_body("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if set(values) != set(variables):
            return 200, self.error_body("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        record = {
            "message_id": params.get("OutId", ""),
            "number": params["PhoneNumbers"],
            "template": params["TemplateCode"],
            "params": values,
        }
        try:
            return self.take(record)
        except _SendRefused as refusal:
            status = self.FRONT.get(refusal.code, 200)
            return status, self.error_body(refusal.code, "scripted")

    def refuse_send(self, code):
        raise _SendRefused(code)

    def send_answer(self, record):
        return {"RequestId": str(uuid.uuid4()).upper(), "BizId": record["provider_id"], "Code": "OK", "Message": "OK"}

    def query_send_details(self, params):
        with self.lock:
            self.calls.append(("QuerySendDetails", params))
        for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
            if not params.get(name):
                raise _Refused("MissingParameter", f"{name} is mandatory for this action.")
        if not re.fullmatch(r"\d{8}", params["SendDate"]):
            return 200, self.error_body("isv.INVALID_PARAMETERS", "SendDate: yyyyMMdd")
        size, page = int(params["PageSize"]), int(params["CurrentPage"])
        if not 1 <= size <= 50 or page < 1:
            return 200, self.error_body("isv.INVALID_PARAMETERS", "PageSize 1-50, CurrentPage from 1")
        with self.lock:
            rows = [
                row
                for row in self.accepted
                if row["number"] == params["PhoneNumber"]
                and row["accepted_at"].astimezone(CHINA).strftime("%Y%m%d") == params["SendDate"]
                and params.get("BizId", row["provider_id"]) == row["provider_id"]
            ]
        details = [self.detail(row) for row in rows[(page - 1) * size : page * size]]
        return 200, {
            "RequestId": str(uuid.uuid4()).upper(),
            "Code": "OK",
            "Message": "OK",
            "TotalCount": len(rows),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
        }

    def detail(self, row):
        report = row.get("report")
        china = "%Y-%m-%d %H:%M:%S"
        return {
            "PhoneNum": row["number"],
            "SendStatus": 1 if report is None else 3 if report[0] else 2,
            "ErrCode": "" if report is None else report[1],
            "TemplateCode": row["template"],
            "Content": f"【{self.sign_name}】" + "，".join(row["params"].values()),
            "SendDate": row["accepted_at"].astimezone(CHINA).strftime(china),
            "ReceiveDate": row["reported_at"].astimezone(CHINA).strftime(china) if report else "",
            "OutId": row["message_id"],
        }


class _SendRefused(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


# --- Tencent Cloud --------------------------------------------------------------------------------


def tc3_signature(secret, *, method, path, query, headers, signed_headers, payload, timestamp, service):
    """TC3-HMAC-SHA256 as the vendor's documentation computes it: the canonical request, the
    string to sign with the credential scope (UTC date/service/tc3_request), and the key derived
    from the secret through the date, the service and "tc3_request"."""
    canonical_headers = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed_headers.split(";"))
    canonical_request = "\n".join(
        [method, path, query, canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    day = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{day}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )

    def step(key, text):
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = step(step(step(("TC3" + secret).encode(), day), service), "tc3_request")
    return hmac.new(signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


class TencentFake(FakeGateway):
    """SMS API 3.0, version 2021-01-11: SendSms, PullSmsSendStatusByPhoneNumber, PullSmsSendStatus;
    TC3-HMAC-SHA256."""

    DELIVERED = "DELIVRD"
    BUSY = "InternalError.Timeout"
    # Refusals of the one number (SendStatusSet[0].Code) rather than of the request (Error).
    PER_NUMBER = (
        "LimitExceeded.",
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
    )

    def __init__(self, *, app_id, region="ap-guangzhou", **kwargs):
        super().__init__(**kwargs)
        self.app_id, self.region = app_id, region

    def error_body(self, code, message):
        return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}

    def new_provider_id(self):
        return f"2645:{next(self.serials):020d}"

    def answer(self, request):
        if request.command != "POST" or urlsplit(request.path).path != "/":
            raise _Refused("InvalidAction", "POST / only", status=200)
        payload = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.check_signature(headers, payload)
        if headers.get("x-tc-version") != "2021-01-11":
            raise _Refused("NoSuchVersion", "The requested version does not exist.", status=200)
        if headers.get("x-tc-region") not in {"ap-guangzhou", "ap-beijing", "ap-nanjing"}:
            raise _Refused("UnsupportedRegion", "The region is not supported.", status=200)
        try:
            body = json.loads(payload)
        except ValueError:
            raise _Refused("FailedOperation.JsonParseFail", "the body is not JSON", status=200) from None
        if body.get("SmsSdkAppId") != self.app_id:
            raise _Refused("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId does not exist.", status=200)
        action = headers["x-tc-action"]
        if action == "SendSms":
            return self.send_sms(body)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self.pull_by_number(body)
        if action == "PullSmsSendStatus":
            return self.pull(body)
        raise _Refused("InvalidAction", f"{action} does not exist", status=200)

    def check_signature(self, headers, payload):
        for name in ("authorization", "content-type", "host", "x-tc-action", "x-tc-timestamp", "x-tc-version"):
            if not headers.get(name):
                raise _Refused("MissingParameter", f"the header {name} is missing", status=200)
        match = _AUTHORIZATION.fullmatch(headers["authorization"])
        if match is None:
            raise _Refused("AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256", status=200)
        if abs(time.time() - int(headers["x-tc-timestamp"])) > 300:
            raise _Refused("AuthFailure.SignatureExpire", "signature expired", status=200)
        if match["id"] != self.key_id:
            raise _Refused("AuthFailure.SecretIdNotFound", "The SecretId is not found.", status=200)
        signed = match["signed"].split(";")
        if not {"content-type", "host"} <= set(signed) or signed != sorted(signed):
            raise _Refused("AuthFailure.SignatureFailure", "content-type and host must be signed, sorted", status=200)
        day = datetime.fromtimestamp(int(headers["x-tc-timestamp"]), UTC).strftime("%Y-%m-%d")
        if match["service"] != "sms" or match["day"] != day:
            raise _Refused("AuthFailure.SignatureFailure", "the credential scope is wrong", status=200)
        expected = tc3_signature(
            self.secret,
            method="POST",
            path="/",
            query="",
            headers=headers,
            signed_headers=match["signed"],
            payload=payload,
            timestamp=headers["x-tc-timestamp"],
            service="sms",
        )
        if not hmac.compare_digest(match["signature"], expected):
            raise _Refused("AuthFailure.SignatureFailure", "The provided credentials could not be validated.", 200)

    def send_sms(self, body):
        numbers = body.get("PhoneNumberSet") or []
        if not numbers:
            raise _Refused("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty", status=200)
        if body.get("SignName") != self.sign_name:
            raise _Refused("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误", status=200)
        variables = self.templates.get(body.get("TemplateId"))
        if variables is None:
            raise _Refused("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配", status=200)
        values = body.get("TemplateParamSet") or []
        if len(values) != len(variables) or not all(isinstance(value, str) for value in values):
            raise _Refused("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "模板变量个数不匹配", status=200)
        number = numbers[0]
        if len(numbers) != 1 or not (number.startswith("+86") and MAINLAND.fullmatch(number[3:])):
            return 200, self.status_answer(number, body, "InvalidParameterValue.IncorrectPhoneNumber")
        record = {
            "message_id": body.get("SessionContext", ""),
            "number": number,
            "template": body["TemplateId"],
            "params": values,
        }
        try:
            return self.take(record)
        except _SendRefused as refusal:
            if refusal.code.startswith(self.PER_NUMBER):
                return 200, self.status_answer(number, body, refusal.code)
            raise _Refused(refusal.code, "scripted", status=200) from None

    def refuse_send(self, code):
        raise _SendRefused(code)

    def status_answer(self, number, body, code, serial=""):
        status = {
            "SerialNo": serial,
            "PhoneNumber": number,
            "Fee": 1 if code == "Ok" else 0,
            "SessionContext": body.get("SessionContext", ""),
            "Code": code,
            "Message": "send success" if code == "Ok" else code,
            "IsoCode": "CN",
        }
        return {"Response": {"SendStatusSet": [status], "RequestId": str(uuid.uuid4())}}

    def send_answer(self, record):
        return self.status_answer(
            record["number"], {"SessionContext": record["message_id"]}, "Ok", record["provider_id"]
        )

    def status_row(self, row):
        delivered, code = row["report"]
        return {
            "UserReceiveTime": int(row["reported_at"].timestamp()),
            "CountryCode": "86",
            "SubscriberNumber": row["number"][3:],
            "PhoneNumber": row["number"],
            "SerialNo": row["provider_id"],
            "ReportStatus": "SUCCESS" if delivered else "FAIL",
            "Description": code,
            # Repeated only when the vendor's support has switched it on; this fake has.
            "SessionContext": row["message_id"],
        }

    def pull_by_number(self, body):
        with self.lock:
            self.calls.append(("PullSmsSendStatusByPhoneNumber", body))
        for name in ("BeginTime", "Limit", "PhoneNumber"):
            if body.get(name) is None:
                raise _Refused("MissingParameter", f"{name} is missing", status=200)
        if body.get("Offset") != 0:
            raise _Refused("InvalidParameterValue.OffsetVerifyFail", "Offset must be 0", status=200)
        if not 0 < body["Limit"] <= 100:
            raise _Refused("InvalidParameterValue.LimitVerifyFail", "Limit 1-100", status=200)
        begin = body["BeginTime"]
        if begin < time.time() - 7 * 86400:
            raise _Refused("InvalidParameterValue.BeginTimeVerifyFail", "at most 7 days back", status=200)
        end = body.get("EndTime") or time.time()
        with self.lock:
            # Listed once the carrier's report is in, as the vendor does.
            rows = [
                self.status_row(row)
                for row in self.accepted
                if row["number"] == body["PhoneNumber"]
                and "report" in row
                and begin <= row["accepted_at"].timestamp() <= end
            ]
        return 200, {"Response": {"PullSmsSendStatusSet": rows[: body["Limit"]], "RequestId": str(uuid.uuid4())}}

    def pull(self, body):
        with self.lock:
            self.calls.append(("PullSmsSendStatus", body))
            limit = body.get("Limit") or 0
            if not 0 < limit <= 100:
                raise _Refused("InvalidParameterValue.LimitVerifyFail", "Limit 1-100", status=200)
            # A queue: each report is handed out once.
            waiting = [row for row in self.accepted if "report" in row and not row.get("pulled")][:limit]
            for row in waiting:
                row["pulled"] = True
            rows = [self.status_row(row) for row in waiting]
        return 200, {"Response": {"PullSmsSendStatusSet": rows, "RequestId": str(uuid.uuid4())}}
