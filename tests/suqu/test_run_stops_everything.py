"""`make run` stops everything it started on SIGTERM, even when the signal arrives twice (make
passes Ctrl-C on to its child, and the launcher also watches its parent)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sigterm_twice_leaves_nothing_running(tmp_path):
    # The launcher uses the test run's real servers (DATABASE_URL, REDIS_URL) and its own port.
    launcher = subprocess.Popen(
        [sys.executable, "-m", "suqu.devservices", "run"],
        cwd=BASE_DIR,
        env={**os.environ, "PORT": str(free_port()), "SUQU_LOCAL_DIR": str(tmp_path)},
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
        names = " ".join(" ".join(child.cmdline()) for child in children)
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
