"""A burst of clients (issue 15, finding 2): 110 clients each holding a keep-alive connection and
making one request took `make run` down (500s, and still 500s 75 s after the burst). The web
server `make run` starts, runserver with DEBUG on and gunicorn with it off, must answer every
request of the burst with 200 or 503 + Retry-After, never 500, and answer normally the moment it
ends.

The server runs against a database of its own with a connection limit of its own
(`ALTER DATABASE ... CONNECTION LIMIT`): the same failure as a full server, without touching the
connections that the other test workers share.
"""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import psycopg
import pytest
from django.db import connection

from suqu.devservices import free_port, web_command
from tests.template_db import migrated_database

BASE_DIR = Path(__file__).resolve().parents[2]
CLIENTS = 110
# Fewer than the runserver threads a burst opens, more than the pool (DB_POOL_SIZE) holds.
CONNECTION_LIMIT = 12


def server_url(name=None):
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name or 'postgres'}"


@pytest.fixture(scope="module")
def burst_database():
    """A migrated database with one user and its token, limited to CONNECTION_LIMIT connections;
    made once for the module: the bursts only read (GET /api/v1/me/)."""
    name = f"suqu_burst_{uuid.uuid4().hex[:10]}"
    url = migrated_database(name)  # a copy of the tests' migrated template
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from accounts.models import User; from accounts.services import token_issue; "
            "print(token_issue(user=User.objects.create_user('burst', password='x-burst-2026')).key)",
        ],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = created.stdout.strip().splitlines()[-1]
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" CONNECTION LIMIT {CONNECTION_LIMIT}')
    yield url, token
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_web(url, *, debug, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": url,
        "DEBUG": "1" if debug else "0",
        "SECRET_KEY": "burst-test-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "WEB_CONCURRENCY": "2",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen(
        web_command(port, debug=debug),
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            assert time.monotonic() < deadline, "the web server did not listen"
            time.sleep(0.2)


def stop(process):
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def accepted(process, port):
    """The client ports of the connections the web server (or a child of it: runserver's
    autoreloaded server, gunicorn's workers) has accepted on `port`."""
    ports = set()
    for server in [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            for conn in server.net_connections("tcp"):
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == port and conn.raddr:
                    ports.add(conn.raddr.port)
    return ports


def connect_clients(process, port):
    """CLIENTS connections to the web server, each accepted by it before the burst. They are
    opened a few at a time, each few once accepted: runserver listens with a backlog of 10, and
    connections beyond it wait for the kernel's retransmissions (1 s, then 2, 4, 8 ...), which is
    not what the burst is about (its requests, all at once, on connections the server holds)."""
    connections = []
    while len(connections) < CLIENTS:
        batch = [
            http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(min(8, CLIENTS - len(connections)))
        ]
        for conn in batch:
            conn.connect()
        connections += batch
        ours = {conn.sock.getsockname()[1] for conn in batch}
        deadline = time.monotonic() + 60
        while not ours <= accepted(process, port):
            assert time.monotonic() < deadline, "the web server did not accept the clients' connections"
            time.sleep(0.01)
    return connections


def me(port, token, conn=None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/me/", headers={"Authorization": f"Token {token}", "Host": "127.0.0.1"})
    response = conn.getresponse()
    body = response.read()
    return response.status, response.getheader("Retry-After"), body


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False], ids=["runserver", "gunicorn"])
def test_a_burst_of_keep_alive_clients_gets_answers_not_errors_and_the_site_recovers(burst_database, debug, tmp_path):
    url, token = burst_database
    process, port = start_web(url, debug=debug, tmp_path=tmp_path)
    try:
        assert me(port, token)[0] == 200
        connections = connect_clients(process, port)
        start = threading.Barrier(CLIENTS)
        results = []
        lock = threading.Lock()

        def client(conn):
            start.wait()
            try:
                outcome = me(port, token, conn)
            except OSError as exc:  # a connection refused or reset is a failure too
                outcome = (f"error: {exc}", None, b"")
            with lock:
                results.append(outcome)

        # Every client holds its connection open (keep-alive) until every client is done.
        threads = [threading.Thread(target=client, args=(conn,)) for conn in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        statuses = [status for status, _retry, _body in results]
        assert len(statuses) == CLIENTS
        failures = [(s, body[:200]) for s, _r, body in results if s not in (200, 503)]
        assert failures == [], (tmp_path / "web.log").read_text()[-3000:]
        assert all(retry for status, retry, _body in results if status == 503)
        assert statuses.count(200) > 0
        for conn in connections:
            conn.close()

        # The moment the burst is over, the site answers normally.
        assert [me(port, token)[0] for _ in range(5)] == [200] * 5
    finally:
        stop(process)
