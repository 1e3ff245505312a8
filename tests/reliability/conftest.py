"""Fixtures of the reliability suite.

Servers and processes of a test's own, for the fault tests (test_faults.py). Those stop and restart
servers, so they never touch the PostgreSQL and Redis that `make test` shares between its pytest
workers: each starts its own on a free port (`suqu.devservices`), and every server, process and
folder a fixture starts is gone when the test ends, however it ends.
"""

import http.client
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.db import connection

from suqu.celery import app
from suqu.devservices import EmbeddedPostgres, EmbeddedRedis, free_port
from tests.template_db import restore_migrated

BASE_DIR = Path(settings.BASE_DIR)


def database_url_of_tests() -> str:
    """The URL of pytest-django's test database, for a process this test starts."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"


def stop_group(process, *, timeout=10):
    """Stop a process started with start_new_session and its children: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def scratch_folder(prefix) -> Path:
    # Not pytest's tmp_path: that one is private to root, and PostgreSQL runs as `nobody` here.
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def _point_celery_at(url):
    app.conf.broker_url = url
    # kombu keeps a pool per URL: without this the old pool would hand out connections to the
    # old server.
    app._pool = None
    app.amqp._producer_pool = None


class DedicatedRedis:
    """A redis-server of the test's own, which it may stop and start again on the same port."""

    def __init__(self, root):
        self.server = EmbeddedRedis(root, throwaway=True)
        self.url = self.server.start()
        self.port = urlsplit(self.url).port

    def stop(self):
        self.server.stop()

    def start(self):
        self.server.start(port=self.port)


@pytest.fixture
def dedicated_redis():
    """A Redis of this test's own (stopped and restarted at will), with this process's Celery
    client publishing to it. Results still go to the shared Redis: nothing here waits for a
    result while its own Redis is down."""
    folder = scratch_folder("suqu-faults-redis-")
    original = app.conf.broker_url
    redis = None
    try:
        redis = DedicatedRedis(folder)
        _point_celery_at(redis.url)
        yield redis
    finally:
        if redis is not None:
            app.pool.force_close_all()
            redis.stop()
        _point_celery_at(original)
        shutil.rmtree(folder, ignore_errors=True)


class Processes:
    """Processes a test starts (Celery workers, gunicorn), each in its own process group, with its
    output in a log file; all are stopped at the end of the test."""

    def __init__(self, folder):
        self.folder = folder
        self.started = []

    def start(self, name, command, env):
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop_all
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.name = name
        self.started.append((process, log))
        return process

    def kill(self, process):
        """SIGKILL: the process and its children die at once, in the middle of whatever they do."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def log(self, process) -> str:
        return (self.folder / f"{process.name}.log").read_text(errors="replace")

    def stop_all(self):
        for process, log in reversed(self.started):
            stop_group(process)
            log.close()

    def celery_worker(self, name, *, redis_url, **env):
        """`celery -A suqu worker --pool solo` against the test database and `redis_url`."""
        command = [sys.executable, "-m", "celery", "-A", "suqu", "worker", "--pool", "solo", "-l", "info"]
        command += ["-n", f"{name}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat"]
        return self.start(name, command, {"DATABASE_URL": database_url_of_tests(), "REDIS_URL": redis_url, **env})

    def gunicorn(self, *, database_url, redis_url, env=()):
        """suqu under gunicorn as in production (suqu/gunicorn_conf.py, DEBUG off), on a free
        port, answering plain HTTP on 127.0.0.1; returns (process, port) once it answers."""
        port = free_port()
        command = [
            sys.executable, "-m", "gunicorn", "suqu.wsgi:application",
            "-c", "python:suqu.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
        process = self.start(
            "gunicorn",
            command,
            {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                # Production's configuration, sized for a test on a small machine.
                "WEB_CONCURRENCY": "2",
                "WEB_THREADS": "2",
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1",
                "SECURE_SSL_REDIRECT": "0",
                **dict(env),
            },
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return process, port
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start:\n{self.log(process)[-3000:]}") from None
                time.sleep(0.2)


@pytest.fixture
def processes():
    folder = scratch_folder("suqu-faults-proc-")
    started = Processes(folder)
    try:
        yield started
    finally:
        started.stop_all()
        shutil.rmtree(folder, ignore_errors=True)


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own, which it may stop and start on the same port."""

    def __init__(self, root):
        self.server = EmbeddedPostgres(root, throwaway=True)
        self.url = self.server.start()
        self.port = self.server.port

    def stop(self):
        self.server.stop()

    def start(self):
        self.server.start(port=self.port)

    def load_world(self, password):
        """Copy the tests' migrated schema into the cluster's database (tests/template_db.py) and
        load the tests' world (tests/reliability/world.py, whose `migrate` then finds nothing to
        do) in a process of its own, so that this process's connections stay on the test database."""
        restore_migrated(self.url, self.server.bin)
        result = subprocess.run(
            [sys.executable, "-m", "tests.reliability.world", password],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": self.url},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def throwaway_postgres():
    folder = scratch_folder("suqu-faults-pg-")
    postgres = None
    try:
        postgres = ThrowawayPostgres(folder / "postgres")
        yield postgres
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
