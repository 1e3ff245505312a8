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


def url_host(value):
    # Compose substitutions such as ${POSTGRES_PASSWORD} are not URL syntax ("?" in ${X:?msg}).
    return urlsplit(re.sub(r"\$\{[^}]*\}", "x", value)).hostname


def settings_variables():
    source = (BASE_DIR / "suqu" / "settings.py").read_text()
    return sorted(set(re.findall(r'env_(?:str|bool|int|list|url)\(\s*"([A-Z][A-Z0-9_]*)"', source)))


def test_compose_defines_the_five_services(compose):
    assert {"db", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_web_migrates_then_runs_gunicorn_on_the_wsgi_app(compose):
    command = command_text(compose["services"]["web"])
    assert "migrate --noinput" in command
    assert re.search(r"gunicorn\s+suqu\.wsgi:application", command)
    assert "0.0.0.0:8000" in command
    assert command.index("migrate") < command.index("gunicorn")


def test_web_publishes_port_8000(compose):
    assert any(str(port).endswith("8000:8000") for port in compose["services"]["web"]["ports"])


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


def test_database_is_postgres_16_or_newer(compose):
    image = compose["services"]["db"]["image"]
    name, _, tag = image.partition(":")
    assert name in {"postgres", "docker.io/library/postgres"}
    major = re.match(r"\d+", tag)
    assert major and int(major.group()) >= 16, image


def test_database_password_is_required_and_matches_the_app_url(compose):
    password = compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD" in environment(compose["services"]["web"])["DATABASE_URL"]


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
    assert {"pgdata", "redisdata", "media", "beat"} <= declared
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
