"""`make run` stops everything it started on SIGTERM, even when the signal arrives twice (make
passes Ctrl-C on to its child, and the launcher also watches its parent); with DEBUG off it serves
like production.

One launch does both (a launch is some 30 CPU-seconds: the launcher, migrate, the data, the web
server, the Celery worker and beat): the one with DEBUG off, whose children are gunicorn (a master
and its workers), the worker (and its pool) and beat. What only DEBUG on starts, runserver, whose
autoreloader serves from a child of its own, is stopped the launcher's way on its own below."""

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

from suqu.devservices import _stop_groups, demo_usernames, wait_for_web, web_command
from tests.factories import UserFactory
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


def kill_leftovers(processes):
    """Whatever a failed stop left running is killed here, so no test leaves processes behind."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


@pytest.fixture(scope="module")
def database_url():
    """A database of the module's own on the test run's server, migrated (a copy of the tests'
    template: what is tested here is the starting and the stopping, not the migrations)."""
    name = f"suqu_run_{secrets.token_hex(5)}"
    yield migrated_database(name)
    drop_database(name)


def test_with_debug_off_it_serves_gunicorn_once_it_says_so_and_two_sigterms_stop_everything(tmp_path, database_url):
    """`make run` with production settings: gunicorn (sized by suqu/gunicorn_conf.py) instead of
    runserver, no demo accounts, and the address printed only once it answers. Then SIGTERM, and
    a second one while it is stopping: it ends cleanly and nothing it started is left."""
    port = free_port()
    # The launcher uses the test run's real servers (REDIS_URL, a database of its own) and its own port.
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
    lines, ready, stopping = [], threading.Event(), threading.Event()

    def read():
        for line in launcher.stdout:
            lines.append(line)
            # The last line it says on starting: from here it only watches its children.
            if "to use manage.py beside it" in line:
                ready.set()
            if "SIGTERM: stopping" in line:
                stopping.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    children = []
    try:
        assert ready.wait(180), "".join(lines[-30:])
        assert any("suqu is running at" in line for line in lines)
        # Answering already: no wait between the message and the first request.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        assert response.status in (200, 503)  # 503 until the first Celery heartbeat
        assert "database" in json.loads(response.read())["checks"]
        assert not any("demo logins" in line for line in lines)

        # Every child up with its own children: gunicorn's master and its two workers, the
        # Celery worker once it has forked its pool, beat.
        deadline = time.monotonic() + 120
        while True:
            children = psutil.Process(launcher.pid).children(recursive=True)
            names = command_lines(children)
            web = [name for name in names if "gunicorn" in name]
            celery = [name for name in names if "celery" in name]
            if len(web) >= 3 and sum(" worker " in n for n in celery) >= 2 and any(" beat " in n for n in celery):
                break
            assert time.monotonic() < deadline, names
            time.sleep(0.1)
        assert not any("runserver" in name for name in names)
        assert launcher.poll() is None, "the launcher died after starting"

        launcher.send_signal(signal.SIGTERM)
        # A second signal while it is stopping (make passes Ctrl-C on; the parent watcher fires).
        assert stopping.wait(30), "".join(lines[-30:])
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(60)
        reader.join(10)
        output = "".join(lines)
        assert launcher.returncode == 0, output[-2000:]
        _gone, alive = psutil.wait_procs(children, timeout=30)
        assert command_lines(alive) == []
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                launcher.wait(60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)
        kill_leftovers(children)


def test_runserver_is_stopped_with_the_server_its_autoreloader_runs(tmp_path, database_url):
    """With DEBUG on `make run` starts runserver, whose autoreloader runs the server in a child of
    its own: started and stopped as the launcher does (a session of its own, SIGTERM to its
    group), the child goes too."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1"}
    with (tmp_path / "runserver.log").open("w") as log:
        server = subprocess.Popen(
            web_command(port, debug=True),
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes = []
    try:
        wait_for_web(port, server)
        processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        # The reloader and the server it runs (answering, so up).
        assert [line.count("runserver") for line in command_lines(processes)] == [1, 1]
        _stop_groups([server])
        _gone, alive = psutil.wait_procs(processes, timeout=30)
        assert command_lines(alive) == []
    finally:
        kill_leftovers(processes)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)


@pytest.mark.django_db
def test_the_demo_logins_it_prints_are_the_demo_accounts_there_in_their_order():
    """With DEBUG on the launcher prints the demo logins once it answers: those of the demo
    accounts the database holds, in the order of accounts/services.py."""
    for username in ["mediator", "gridworker", "official", "dispatcher", "not_a_demo_account"]:
        UserFactory(username=username)
    assert demo_usernames() == ["dispatcher", "official", "gridworker", "mediator"]
