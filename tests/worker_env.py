"""Loaded by pytest before Django (`-p tests.worker_env` in pyproject.toml): gives each parallel
worker its own Redis database.

pytest-xdist runs the suite in several processes; pytest-django gives each its own test database
(test_<name>_gw0, _gw1, ...). Redis is one server for all of them, so the Celery tests of one
worker would consume the tasks another worker's tests queued (and run them against the wrong
database). Each worker therefore uses Redis database 1 + its number, set in the environment before
the settings are read, so that the processes a test starts (a Celery worker, the web server)
inherit it too.
"""

import os
from urllib.parse import urlsplit, urlunsplit

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    parts = urlsplit(os.environ["REDIS_URL"])
    # Redis has 16 databases (0-15) unless configured otherwise; 0 stays the serial run's.
    database = 1 + int(_worker[2:]) % 15
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
