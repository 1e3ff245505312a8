"""Fixtures shared by every test: a real PostgreSQL and Redis (started by `make test`), and
Debian's chromium for the browser tests."""

import os
import shutil
import socket

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: without them chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The files that take longest (seconds of one file's tests on a worker, from `--durations` of the
# whole suite under `make test`), longest first. pytest-xdist hands whole files to the workers
# (--dist loadfile) in collection order (--no-loadscope-reorder: by default it hands out the files
# with the most tests first, which put these, of one or a few long tests, last, and the run waited
# on the one worker still running them). Run first, they overlap with the many short files.
LONGEST_FIRST = [
    "tests/browser/test_every_page_fits.py",
    "tests/suqu/test_run_stops_everything.py",
    "tests/reliability/test_api_schema.py",
    "tests/browser/test_a_working_day.py",
    "tests/reliability/test_fuzz.py",
    "tests/reliability/test_faults.py",
    "tests/upgrade/test_migrate_forward.py",
    "tests/scale/test_bench.py",
    "tests/reliability/test_leak_matrix.py",
]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    # A stable sort: the order within a file, and of the other files, stays as collected.
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Each worker's test database is a copy of one migrated template (tests/template_db.py)
    instead of a database migrated from nothing; Django migrates the copy (nothing left to do)."""
    from django.conf import settings

    from tests.template_db import template

    settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = template()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Production hashes passwords slowly on purpose (PBKDF2); the tests hash the demo password for
    every demo account of every demo load, so they hash with MD5 first. Hashes made the slow way
    still check (the other hashers stay listed); processes the tests start use the real settings."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def small_demo():
    """`load_demo` generates 10,000 volunteers (about 3 s); the dozen tests that load the demo, and
    the `make run` they start, generate 300 (one per team and a few more). tests/volunteers/test_demo.py
    checks the full size's plan."""
    from django.conf import settings

    settings.DEMO_VOLUNTEERS = 300
    os.environ["SUQU_DEMO_VOLUNTEERS"] = "300"


@pytest.fixture(scope="session", autouse=True)
def reads_from_the_primary():
    """Every test reads the primary, as a deployment without a replica does, except the tests of
    the replica itself (tests/suqu/test_replica.py), which route reads to it. Others hold their
    data in a transaction the replica never sees. The processes tests start (a Celery worker, a
    web server) inherit no replica either: their DATABASE_URL names the test database, and a
    DATABASE_REPLICA_URL would still name the standby's `suqu`."""
    from django.conf import settings

    settings.REPLICA_DATABASE = None
    os.environ.pop("DATABASE_REPLICA_URL", None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # The same patience for an assertion as for an action (the pages' 10 s): with the whole suite
    # running in parallel on two cores, an htmx answer can take longer than Playwright's 5 s default.
    expect.set_options(timeout=10_000)
    # Playwright's sync API runs an event loop in this thread; the test body still calls the ORM
    # synchronously, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A desktop-sized page in a fresh browser context (no cookies, no storage)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized page, as grid workers and community staff use."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def cast(db):
    """A small world with one named person for each role (see tests/factories.py)."""
    from tests.factories import make_cast

    return make_cast()


@pytest.fixture
def categories(db):
    """The seeded category tree, as in production."""
    from cases.models import Category
    from cases.services import categories_load

    categories_load()
    return {category.code: category for category in Category.objects.all()}


@pytest.fixture
def redis_down():
    """Point the real Celery client at a port where nothing listens; `redis_down.restore()` (or
    the end of the test) brings the real Redis back."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    from suqu.celery import app

    original = app.conf.broker_url

    def point(url):
        app.conf.broker_url = url
        # The pool of the new URL (kombu keeps one per URL): the old one would hand out
        # connections to the old server. The real server's pool is left open for the way back.
        app._pool = None
        app.amqp._producer_pool = None

    class Switch:
        def restore(self):
            point(original)

    point(dead)
    switch = Switch()
    yield switch
    switch.restore()
