"""`make run` on bad input: one line that says what is wrong and how to fix it, no traceback."""

import os
import socket
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(**env):
    return subprocess.run(
        [sys.executable, "-m", "suqu.devservices", "run"],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_clear_line(result, *fragments):
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    error_lines = [line for line in result.stdout.splitlines() if line.startswith("[suqu] error:")]
    assert len(error_lines) == 1, result.stdout
    for fragment in fragments:
        assert fragment in error_lines[0]


def test_a_wrong_database_url_is_named_with_the_fix():
    result = launch(DATABASE_URL=f"postgres://suqu:secret@127.0.0.1:{closed_port()}/suqu", PORT=str(closed_port()))
    assert_one_clear_line(result, "DATABASE_URL=postgres://suqu:***@127.0.0.1", "unset DATABASE_URL")
    assert "secret" not in result.stdout


def test_a_replica_url_that_does_not_answer_is_named_with_the_fix():
    # DATABASE_URL is the test run's real server, so the replica is the only thing wrong.
    url = f"postgres://suqu:secret@127.0.0.1:{closed_port()}/suqu"
    result = launch(DATABASE_REPLICA_URL=url, PORT=str(closed_port()))
    assert_one_clear_line(result, "DATABASE_REPLICA_URL=postgres://suqu:***@127.0.0.1", "unset DATABASE_REPLICA_URL")
    assert "secret" not in result.stdout


def test_a_replica_url_without_its_primary_is_refused():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "suqu.devservices", "run"],
        cwd=BASE_DIR,
        env={**env, "DATABASE_REPLICA_URL": "postgres://suqu@127.0.0.1:5432/suqu", "PORT": str(closed_port())},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_clear_line(result, "DATABASE_REPLICA_URL is set but DATABASE_URL is not", "set both")


def test_an_unreachable_redis_is_named_with_the_fix():
    # DATABASE_URL is the test run's real server, so Redis is the only thing wrong.
    result = launch(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", PORT=str(closed_port()))
    assert_one_clear_line(result, "REDIS_URL=redis://127.0.0.1", "does not answer", "unset REDIS_URL")


def test_a_port_already_taken_is_named_with_the_fix():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = launch(PORT=str(port))
    assert_one_clear_line(result, f"port {port}", "already in use", "PORT=")


def test_a_port_that_is_not_a_number_is_named():
    result = launch(PORT="eighty")
    assert_one_clear_line(result, "PORT: expected a port number")


def test_a_bad_setting_is_one_line_not_a_traceback():
    result = launch(PORT=str(closed_port()), AXES_FAILURE_LIMIT="lots")
    assert_one_clear_line(result, "AXES_FAILURE_LIMIT: expected a whole number")
