"""How gunicorn serves suqu: in production (the Dockerfile, docker compose) and in `make run` with
DEBUG off. `gunicorn suqu.wsgi:application -c python:suqu.gunicorn_conf --bind HOST:PORT`.

Sizing (docs/operations.md): WEB_CONCURRENCY processes (default 2 x cores + 1), each with
WEB_THREADS threads (default 4). A thread holds at most one database connection, and each process
borrows them from its own pool of DB_POOL_SIZE (default 8, more than the threads), so the web tier
holds at most WEB_CONCURRENCY x WEB_THREADS connections however many clients connect: a burst
waits for a thread, it never exhausts PostgreSQL.
"""

import os


def _whole(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name}: expected a whole number of at least 1, got {value!r}")
    return int(value)


workers = _whole("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
threads = _whole("WEB_THREADS", 4)
worker_class = "gthread"
# A request that takes longer is a bug; the worker is replaced rather than left hanging.
timeout = 60
# Keep-alive connections cost a file descriptor each, not a thread: gthread parks idle ones.
keepalive = 5
accesslog = "-"
