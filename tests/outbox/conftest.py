import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.outbox.backends import Provider
from tests.outbox.fakes import AliyunFake, TencentFake

# Short, so that a scripted timeout costs the test about a second.
TIMEOUT = 1
# The templates as registered with each vendor: its id → the variables in the template's order.
ALIYUN_TEMPLATES = {"SMS_460010001": ("number", "link"), "SMS_460010004": ("text",)}
TENCENT_TEMPLATES = {"2210001": ("number", "link"), "2210004": ("text",)}
SIGN_NAME = "苏家屯民呼我应"


@pytest.fixture
def provider(settings):
    """SMS go to the in-process test gateway, which starts empty and up."""
    settings.SMS_BACKEND = "tests.outbox.backends.ScriptedGateway"
    Provider.reset()
    return Provider


def _vendor_settings(settings, backend, fake, templates):
    settings.SMS_BACKEND = backend
    settings.SMS_KEY_ID = fake.key_id
    settings.SMS_KEY_SECRET = fake.secret
    settings.SMS_SIGN_NAME = SIGN_NAME
    settings.SMS_TEMPLATES = templates
    settings.SMS_ENDPOINT = fake.url
    settings.SMS_TIMEOUT = TIMEOUT


@pytest.fixture
def aliyun(settings):
    """SMS go to Alibaba Cloud's adapter, pointed at a local fake of dysmsapi."""
    fake = AliyunFake(
        key_id="LTAI5tTestKeyId0001",
        secret="aliyun-test-secret-0123456789",
        sign_name=SIGN_NAME,
        templates=ALIYUN_TEMPLATES,
        patience=TIMEOUT,
    )
    _vendor_settings(
        settings,
        "outbox.gateways.aliyun.AliyunSmsBackend",
        fake,
        {"case_ack": "SMS_460010001", "staff_notice": "SMS_460010004"},
    )
    yield fake
    fake.close()


@pytest.fixture
def tencent(settings):
    """SMS go to Tencent Cloud's adapter (the vendor's SDK), pointed at a local fake of its API."""
    fake = TencentFake(
        key_id="AKIDtestSecretId0001",
        secret="tencent-test-secret-0123456789",
        sign_name=SIGN_NAME,
        templates=TENCENT_TEMPLATES,
        patience=TIMEOUT,
        app_id="1400123456",
    )
    _vendor_settings(
        settings, "outbox.gateways.tencent.TencentSmsBackend", fake, {"case_ack": "2210001", "staff_notice": "2210004"}
    )
    settings.SMS_APP_ID = fake.app_id
    settings.SMS_REGION = "ap-guangzhou"
    yield fake
    fake.close()


def database_url_of_tests() -> str:
    """pytest-django's test database, for a process a test starts."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"


# A deliverer in a process of its own: what a Celery worker runs for one message.
_DELIVER = "import django; django.setup(); from outbox.services import message_deliver; message_deliver(message_id=%d)"


def vendor_environment(fake, backend, templates, **more):
    """The SMS_* variables that point a process at `fake`. Its timeout is long: the process must
    still be waiting for the answer when the test kills it."""
    return {
        "SMS_BACKEND": backend,
        "SMS_KEY_ID": fake.key_id,
        "SMS_KEY_SECRET": fake.secret,
        "SMS_SIGN_NAME": fake.sign_name,
        "SMS_TEMPLATES": ",".join(f"{key}={value}" for key, value in templates.items()),
        "SMS_ENDPOINT": fake.url,
        "SMS_TIMEOUT": "60",
        **more,
    }


def kill_mid_send(message, fake, environment):
    """Run `message_deliver` for `message` in a process of its own, configured by `environment`,
    and kill it (SIGKILL: nothing runs after) once `fake` has taken its SendSms and holds the answer."""
    fake.received.clear()
    fake.script("hold")
    env = {name: value for name, value in os.environ.items() if not name.startswith("SMS_")}
    env.update(DJANGO_SETTINGS_MODULE="suqu.settings", DATABASE_URL=database_url_of_tests(), **environment)
    process = subprocess.Popen(
        [sys.executable, "-c", _DELIVER % message.pk],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not fake.received.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the deliverer never reached the gateway: {process.communicate()[1][-2000:]}")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
