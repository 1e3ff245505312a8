"""`make run` stops everything it started on SIGTERM, even when the signal arrives twice (make
passes Ctrl-C on to its child, and the launcher also watches its parent); with DEBUG off it serves
like production."""

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.template_db import drop_database, migrated_database

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command_lines(processes):
    """The command lines of those still there (a child may end, or be a zombie, meanwhile)."""
    lines = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            lines.append(" ".join(process.cmdline()))
    return lines


@pytest.fixture(scope="module")
def database_url():
    """A database of the module's own on the test run's server, migrated (a copy of the tests'
    template: what is tested here is the starting and the stopping, not the migrations)."""
    name = f"suqu_run_{secrets.token_hex(5)}"
    yield migrated_database(name)
    drop_database(name)


def test_sigterm_twice_leaves_nothing_running(tmp_path, database_url):
    # The launcher uses the test run's real servers (REDIS_URL, a database of its own) and its own port.
    launcher = subprocess.Popen(
        [sys.executable, "-m", "suqu.devservices", "run"],
        cwd=BASE_DIR,
        # A few cases of demo history: starting and stopping is what is tested here.
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": str(free_port()),
            "SUQU_LOCAL_DIR": str(tmp_path),
            "SUQU_DEMO_CASES": "60",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started = time.monotonic()
    for line in launcher.stdout:
        if "suqu is running at" in line:
            break
        assert time.monotonic() - started < 120, "the platform did not start"
    children = []
    while time.monotonic() - started < 120:
        children = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(command_lines(children))
        # The worker's pool is up once the worker has forked its children.
        if "runserver" in names and "beat" in names and names.count("worker") >= 2:
            break
        time.sleep(0.2)
    assert launcher.poll() is None, "the launcher died after starting"
    launcher.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    # A second signal while it is stopping (make passes Ctrl-C on; the parent watcher fires).
    launcher.send_signal(signal.SIGTERM)
    output, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 0, output[-2000:]
    assert "SIGTERM: stopping" in output
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert [" ".join(p.cmdline()) for p in alive] == []


def test_with_debug_off_it_serves_gunicorn_and_answers_once_it_says_so(tmp_path, database_url):
    """`make run` with production settings: gunicorn (sized by suqu/gunicorn_conf.py) instead of
    runserver, no demo accounts, and the address printed only once it answers."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SUQU_LOCAL_DIR": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "2",
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "suqu.devservices", "run"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    # Read everything it and its children print, all along: a pipe nobody reads fills up and
    # blocks whoever writes next.
    lines, running = [], threading.Event()

    def read():
        for line in launcher.stdout:
            lines.append(line)
            if "suqu is running at" in line:
                running.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert running.wait(180), "".join(lines[-30:])
        # Answering already: no wait between the message and the first request.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        assert response.status in (200, 503)  # 503 until the first Celery heartbeat
        assert "database" in json.loads(response.read())["checks"]
        names = " ".join(command_lines(psutil.Process(launcher.pid).children(recursive=True)))
        assert "gunicorn" in names
        assert "runserver" not in names
        assert not any("demo logins" in line for line in lines)
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(60)
        finally:
            # Whatever it failed to stop is stopped here, so no test leaves processes behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(launcher.pid, signal.SIGKILL)
        reader.join(10)
    assert launcher.returncode == 0, "".join(line for line in lines if "[suqu]" in line or "rror" in line)
    assert "SIGTERM: stopping" in "".join(lines)
