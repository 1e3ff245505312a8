"""The production shape, checked by reading it: no Docker engine runs on the development machines.

docker-compose.yml and the Dockerfile are read as files; the settings module is read as text, so
these tests need neither a database nor loaded settings.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "worker-sweep", "worker-exports", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile():
    return (BASE_DIR / "Dockerfile").read_text()


def command_text(service):
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def environment(service):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def url_host_free(value):
    # Compose substitutions such as ${POSTGRES_PASSWORD} are not URL syntax ("?" in ${X:?msg}).
    return re.sub(r"\$\{[^}]*\}", "x", value)


def url_host(value):
    # Compose substitutions such as ${POSTGRES_PASSWORD} are not URL syntax ("?" in ${X:?msg}).
    return urlsplit(re.sub(r"\$\{[^}]*\}", "x", value)).hostname


def settings_variables():
    source = (BASE_DIR / "suqu" / "settings.py").read_text()
    return sorted(set(re.findall(r'env_(?:str|bool|int|list|url)\(\s*"([A-Z][A-Z0-9_]*)"', source)))


def test_compose_defines_the_scaled_out_services(compose):
    assert {"db", "db-replica", "redis", "migrate", "web", "proxy", "worker", "beat"} <= set(compose["services"])


def test_migrations_run_once_before_any_web_replica_starts(compose):
    migrate = command_text(compose["services"]["migrate"])
    assert "migrate --noinput" in migrate
    assert migrate.index("migrate --noinput") < migrate.index("load_reference")
    assert compose["services"]["migrate"]["restart"] == "no"
    assert compose["services"]["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # Replicas migrating at once would race: web itself never migrates.
    assert "migrate" not in command_text(compose["services"]["web"])


def test_web_runs_gunicorn_on_the_wsgi_app(compose):
    command = command_text(compose["services"]["web"])
    assert re.search(r"gunicorn\s+suqu\.wsgi:application", command)
    assert "0.0.0.0:8000" in command


def replicas(service) -> int:
    value = str(service.get("deploy", {}).get("replicas", 1))
    # ${WEB_REPLICAS:-2}: the default compose uses when the variable is unset.
    default = re.fullmatch(r"\$\{\w+:-(\d+)\}", value)
    return int(default.group(1) if default else value)


def test_web_runs_several_replicas_that_publish_no_port(compose):
    web = compose["services"]["web"]
    assert replicas(web) >= 2
    # Several containers cannot publish one host port; the proxy publishes it for them.
    assert "ports" not in web


def test_the_proxy_publishes_port_8000_and_spreads_requests_over_the_web_replicas(compose):
    proxy = compose["services"]["proxy"]
    assert any(str(port).endswith("8000:8000") for port in proxy["ports"])
    assert proxy["restart"] in {"always", "unless-stopped"}
    source = next(volume.split(":")[0] for volume in proxy["volumes"] if volume.split(":")[1].startswith("/etc/nginx/"))
    config = (BASE_DIR / source).read_text()
    assert re.search(r"listen\s+8000;", config)
    assert re.search(r"proxy_pass\s+\$web;", config) and "set $web http://web:8000;" in config
    # Docker's DNS asked again while serving, so a restarted or added replica is found.
    assert re.search(r"resolver\s+127\.0\.0\.11\b", config)
    # What the app needs from a proxy (SECURE_PROXY_SSL_HEADER, ALLOWED_HOSTS).
    assert "proxy_set_header X-Forwarded-Proto" in config
    assert "proxy_set_header Host $http_host;" in config


def test_beat_runs_once_whatever_is_scaled(compose):
    assert replicas(compose["services"]["beat"]) == 1


def test_worker_runs_a_celery_worker_for_suqu(compose):
    command = command_text(compose["services"]["worker"])
    assert re.search(r"celery\s+-A\s+suqu\s+worker\b", command)


def test_every_named_queue_has_a_worker_and_every_worker_a_known_queue(compose):
    source = (BASE_DIR / "suqu" / "settings.py").read_text()
    queues = set(re.findall(r'"(\w+)"', re.search(r"CELERY_QUEUE_NAMES = \(([^)]*)\)", source).group(1)))
    assert {"dispatch", "sweep", "outbox", "exports", "rollups", "suggestions"} <= queues
    served = set()
    for service in compose["services"].values():
        command = command_text(service) if "command" in service else ""
        if re.search(r"celery\s+-A\s+suqu\s+worker\b", command):
            served |= set(re.search(r"-Q[ =](\S+)", command).group(1).split(","))
    assert served == queues


def test_beat_runs_celery_beat_with_its_schedule_on_a_volume(compose):
    beat = compose["services"]["beat"]
    command = command_text(beat)
    assert re.search(r"celery\s+-A\s+suqu\s+beat\b", command)
    schedule = re.search(r"--schedule[ =](\S+)", command).group(1)
    mounts = [volume.split(":")[1] for volume in beat["volumes"]]
    assert any(schedule.startswith(mount.rstrip("/") + "/") for mount in mounts), (schedule, mounts)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_reaches_postgres_at_db_and_redis_at_redis(compose, name):
    env = environment(compose["services"][name])
    assert urlsplit(env["DATABASE_URL"]).scheme in {"postgres", "postgresql"}
    assert url_host(env["DATABASE_URL"]) == "db"
    assert urlsplit(env["REDIS_URL"]).scheme in {"redis", "rediss"}
    assert url_host(env["REDIS_URL"]) == "redis"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_requires_a_secret_key_and_allowed_hosts(compose, name):
    env = environment(compose["services"][name])
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert env["ALLOWED_HOSTS"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_never_runs_with_debug(compose, name):
    assert str(environment(compose["services"][name]).get("DEBUG", "0")) in {"0", "false", "False"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_restarts_after_a_crash(compose, name):
    assert compose["services"][name]["restart"] in {"always", "unless-stopped"}


@pytest.mark.parametrize("name", ["db", "db-replica"])
def test_database_is_postgres_16_or_newer(compose, name):
    image = compose["services"][name]["image"]
    name, _, tag = image.partition(":")
    assert name in {"postgres", "docker.io/library/postgres"}
    major = re.match(r"\d+", tag)
    assert major and int(major.group()) >= 16, image


def test_database_password_is_required_and_matches_the_app_url(compose):
    password = compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD" in environment(compose["services"]["web"])["DATABASE_URL"]


def test_the_primary_lets_the_replica_stream(compose):
    db = compose["services"]["db"]
    assert db["environment"]["REPLICATION_PASSWORD"].startswith("${REPLICATION_PASSWORD:?")
    source = next(
        volume.split(":")[0] for volume in db["volumes"] if "/docker-entrypoint-initdb.d/" in volume.split(":")[1]
    )
    script = (BASE_DIR / source).read_text()
    assert re.search(r"CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password'", script)
    assert re.search(r"host replication replicator all scram-sha-256.*pg_hba\.conf", script)


def test_the_replica_is_a_hot_standby_copied_from_db(compose):
    replica = compose["services"]["db-replica"]
    assert replica["image"] == compose["services"]["db"]["image"]  # a standby needs the same major version
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pgreplica:/var/lib/postgresql" in replica["volumes"]
    assert replica["environment"]["PGDATA"].startswith("/var/lib/postgresql/")
    script_path = re.search(r"(/\S+\.sh)", command_text(replica)).group(1)
    source = next(volume.split(":")[0] for volume in replica["volumes"] if volume.split(":")[1] == script_path)
    script = (BASE_DIR / source).read_text()
    assert re.search(r"pg_basebackup --host=db --username=replicator", script)
    assert "--write-recovery-conf" in script and "--wal-method=stream" in script
    assert re.search(r"exec postgres .*hot_standby=on", script)
    assert "pg_isready" in str(replica["healthcheck"]["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_reads_the_replica_as_the_same_user(compose, name):
    env = environment(compose["services"][name])
    assert url_host(env["DATABASE_REPLICA_URL"]) == "db-replica"
    primary, replica = (
        urlsplit(url_host_free(env["DATABASE_URL"])),
        urlsplit(url_host_free(env["DATABASE_REPLICA_URL"])),
    )
    assert (replica.username, replica.path) == (primary.username, primary.path)
    assert "${POSTGRES_PASSWORD" in env["DATABASE_REPLICA_URL"]
    # Not waited for: the site works on the primary while the replica starts or catches up.
    assert "db-replica" not in compose["services"][name]["depends_on"]


def test_the_deploy_scripts_are_executable():
    for script in (BASE_DIR / "deploy" / "postgres").glob("*.sh"):
        assert script.stat().st_mode & 0o111, script


def test_database_and_redis_have_healthchecks(compose):
    assert "pg_isready" in str(compose["services"]["db"]["healthcheck"]["test"])
    assert "redis-cli" in str(compose["services"]["redis"]["healthcheck"]["test"])
    assert "ping" in str(compose["services"]["redis"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_database_and_redis(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert depends_on["db"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_web_healthcheck_fetches_healthz_without_curl(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert "python" in test
    script = test[-1]
    assert "urllib" in script
    assert "http://127.0.0.1:8000/healthz" in script
    compile(script, "healthcheck", "exec")


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    assert {"pgdata", "pgreplica", "redisdata", "media", "beat"} <= declared
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == declared


def test_database_volume_holds_the_postgres_data(compose):
    # From PostgreSQL 18 the image keeps its data below /var/lib/postgresql/<major>/.
    assert "pgdata:/var/lib/postgresql" in compose["services"]["db"]["volumes"]


def test_dockerfile_starts_from_python_slim(dockerfile):
    assert re.search(r"^FROM python:3\.12-slim\s*$", dockerfile, re.MULTILINE)


def test_dockerfile_installs_front_end_libraries_with_npm_ci(dockerfile):
    assert re.search(r"^COPY package\.json package-lock\.json", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN npm ci\b", dockerfile, re.MULTILINE)


def test_dockerfile_collects_static_files_at_build_time(dockerfile):
    assert re.search(r"manage\.py collectstatic --noinput", dockerfile)


def test_dockerfile_does_not_run_as_root(dockerfile):
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "no USER line: the container would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_serves_gunicorn_on_port_8000(dockerfile):
    assert re.search(r"^EXPOSE 8000\s*$", dockerfile, re.MULTILINE)
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE).group(1)
    assert "gunicorn" in cmd
    assert "suqu.wsgi:application" in cmd
    assert "0.0.0.0:8000" in cmd


def test_settings_read_the_variables_we_expect_to_find():
    # Guards the regex below: if it stopped matching, the two documentation tests would pass empty.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(settings_variables())


@pytest.mark.parametrize("name", settings_variables())
def test_every_setting_variable_is_in_env_example(name):
    text = (BASE_DIR / ".env.example").read_text()
    assert re.search(rf"^#?\s*{name}=", text, re.MULTILINE), f"{name} missing from .env.example"


@pytest.mark.parametrize("name", settings_variables())
def test_every_setting_variable_is_documented(name):
    text = (BASE_DIR / "docs" / "configuration.md").read_text()
    assert f"`{name}`" in text, f"{name} missing from docs/configuration.md"
