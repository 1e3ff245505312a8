"""Settings for suqu, read from the environment.

Every variable is listed in `.env.example` and explained in `docs/configuration.md`. Defaults are
the production-safe ones: DEBUG is off unless set, and there is no secret key unless DEBUG is on.
Business policy (routing rules, SLA limits, calendars, metric weights) lives in the database.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Exchange, Queue
from psycopg_pool import ConnectionPool

from suqu.env import env_bool, env_choice, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", None)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY: required when DEBUG is off (see .env.example)")
    # Only the local run (make run / make test, DEBUG=1) falls back to a fixed key.
    SECRET_KEY = "django-insecure-local-run-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where residents open the links sent to them by SMS (the callback page): the address the public
# reaches, which a Celery task writing the message cannot learn from a request. Unset: no link is
# sent (the centre still calls back), except in the local run.
PUBLIC_URL = (
    env_url("PUBLIC_URL", None, schemes=("https", "http")) or ("http://127.0.0.1:8000" if DEBUG else "")
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "accounts",
    "outbox",
    "grids",
    "cases",
    "deadlines",
    "units",
    "routing",
    "escalation",
    "notices",
    "suggestions",
    "intake",
    "handling",
    "feedback",
    "casework",
    "dashboards",
    "integrations",
    "volunteers",
    "mediation",
    "residents",
    "scale",
    "suqu",
]

MIDDLEWARE = [
    # Outermost: a request that failed because PostgreSQL could not be reached (restarting, the
    # pool exhausted) answers 503 with Retry-After, wherever below it failed.
    "suqu.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the database: NUL and lone surrogates in the path, query string or a
    # form field are refused here (JSON bodies by the API's parser).
    "suqu.middleware.InputGuardMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After a POST, PUT, PATCH or DELETE this browser reads the primary for a while (cases/replica.py).
    "cases.replica.ReadYourWritesMiddleware",
    "suqu.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lock-out response.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves collected static files itself; locally runserver and the test server do.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.csp.ContentSecurityPolicyMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "suqu.urls"
WSGI_APPLICATION = "suqu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "suqu.context_processors.navigation",
            ],
        },
    },
]

# --- Database and Redis -------------------------------------------------------------------------

DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql"))
# Connections each process may hold at most (a pool per process: per gunicorn worker, per Celery
# worker process). A request waits up to DB_POOL_TIMEOUT seconds for a free one and then answers
# 503 with Retry-After, so no burst of clients can exhaust PostgreSQL's max_connections
# (docs/operations.md sizes it). 0 turns pooling off, e.g. behind PgBouncer in transaction mode;
# then DB_CONN_MAX_AGE keeps each thread's connection for that many seconds.
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 8, minimum=0)
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 10, minimum=1)


def _database(url, *, connect_timeout, pool_timeout):
    """One alias of DATABASES: seconds to connect (unless the URL says), and to wait for a pooled
    connection."""
    database = dj_database_url.parse(
        url,
        # The pool keeps connections itself; Django's persistent connections must be off with it.
        conn_max_age=0 if DB_POOL_SIZE else env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=not DB_POOL_SIZE,
    )
    database.setdefault("OPTIONS", {}).setdefault("connect_timeout", connect_timeout)
    if DB_POOL_SIZE:
        database["OPTIONS"]["pool"] = {
            "min_size": 0,
            "max_size": DB_POOL_SIZE,
            "timeout": pool_timeout,
            # Idle connections are closed after five minutes, so a quiet process holds none.
            "max_idle": 300,
            # Checked when lent: a connection broken by a PostgreSQL restart is replaced, not handed
            # to a request that would fail on it.
            "check": ConnectionPool.check_connection,
        }
    return database


DATABASES = {"default": _database(DATABASE_URL, connect_timeout=5, pool_timeout=DB_POOL_TIMEOUT)}

# A PostgreSQL streaming replica of DATABASE_URL (a hot standby). Unset: everything reads the
# primary. Set: the dashboards, the case list, the metrics and the export jobs may read from it,
# never the pages that act (cases/replica.py, docs/operations.md "Read replica").
DATABASE_REPLICA_URL = env_url("DATABASE_REPLICA_URL", None, schemes=("postgres", "postgresql"))
# Seconds of replay lag beyond which the replica is not read (and /healthz calls it degraded).
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 30, minimum=1)
# Seconds after a person's POST, PUT, PATCH or DELETE during which their reads stay on the primary
# (read your own writes): longer than the replica's usual lag.
REPLICA_STICKY_SECONDS = env_int("REPLICA_STICKY_SECONDS", 15, minimum=1)
# The alias reads may go to; None: no replica. The test suite sets it to None but for the tests
# of the replica (tests/suqu/test_replica.py), whose reads it routes.
REPLICA_DATABASE = None
if DATABASE_REPLICA_URL:
    # A replica that does not answer in 2 s is skipped (the primary answers instead), rather
    # than holding a request for DB_POOL_TIMEOUT.
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL, connect_timeout=2, pool_timeout=2)
    # The tests create their databases on the primary; the standby receives them by replication.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    REPLICA_DATABASE = "replica"
DATABASE_ROUTERS = ["cases.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "suqu",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- Users and login ----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's password check, refusing the demo password when DEBUG is off.
    "accounts.backends.PasswordBackend",
]
# The published demo password (`suqu-demo`) signs in only on a local run (DEBUG on at start; the
# test runner turns DEBUG off while tests run, which must not lock the test accounts out).
DEMO_PASSWORD_ALLOWED = DEBUG
# Volunteers `load_demo` generates (docs/volunteers.md); the tests that load the demo use fewer.
DEMO_VOLUNTEERS = env_int("SUQU_DEMO_VOLUNTEERS", 10000, minimum=0)
# Days an API token lasts; the token endpoint then hands out a new one (docs/api.md).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lock a username out, from any address, after AXES_FAILURE_LIMIT failed logins, for
# AXES_COOLOFF_MINUTES. Counting per username (not per address) because operators in one office
# share one NAT address and must not lock each other out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# axes.W006 asks to lock by address too. Not here: an office of operators behind one NAT address
# would lock each other out; a username is locked whatever address the attempts come from.
# security.W021 asks for HSTS preload, which is off on purpose (see SECURE_HSTS_PRELOAD below).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "security.W021"]

# --- Language and time --------------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries come from the npm registry at set-up (package.json) and are served from
# here: government intranets have no internet, so nothing is loaded from a CDN. Of each package
# only the files the pages use (and the source maps and images those files name) are served and
# collected (suqu/staticfinders.py).
VENDOR_FILES = {
    "vendor/htmx": (BASE_DIR / "node_modules/htmx.org/dist", ["htmx.min.js"]),
    "vendor/bootstrap": (
        BASE_DIR / "node_modules/bootstrap/dist",
        [
            "css/bootstrap.min.css",
            "css/bootstrap.min.css.map",
            "js/bootstrap.bundle.min.js",
            "js/bootstrap.bundle.min.js.map",
        ],
    ),
    "vendor/echarts": (BASE_DIR / "node_modules/echarts/dist", ["echarts.min.js"]),
    "vendor/leaflet": (
        BASE_DIR / "node_modules/leaflet/dist",
        ["leaflet.css", "leaflet.js", "leaflet.js.map", "images/*.png"],
    ),
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "suqu.staticfinders.VendorFinder",
]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -----------------------------------------------------------------------------------
# Safe by default; the local run (DEBUG=1, plain http on 127.0.0.1) switches the https-only parts off.

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# No preload: a preload list entry is hard to undo and means nothing for intranet host names.
SECURE_HSTS_PRELOAD = False
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


# Everything is served from this site; no inline scripts. Styles allow 'unsafe-inline' only
# because ECharts and Bootstrap set style attributes.
def _tile_origin(url):
    """The scheme, host and port of the tile service, for the Content-Security-Policy's img-src. A
    label holding Leaflet's {s} becomes a whole-label wildcard (t{s}.example → *.example): CSP
    allows * only as the leftmost label."""
    if not url:
        return []
    scheme, _sep, rest = url.partition("://")
    labels = ["*" if "{s}" in label else label for label in rest.split("/", 1)[0].split(".")]
    if "*" in labels[1:]:
        raise ImproperlyConfigured("MAP_TILE_URL: {s} may only stand in the host's first label")
    return [f"{scheme}://{'.'.join(labels)}"]


# --- Maps (docs/maps.md) ------------------------------------------------------------------------
# Maps draw the places' own boundaries and need no tiles. A licensed tile service on the intranet
# (e.g. a 天地图 server, CGCS2000 ≈ WGS-84) may be laid beneath them: a Leaflet URL template
# ({z}/{x}/{y}, {s} for subdomains). Off by default: nothing is fetched from outside.
MAP_TILE_URL = env_url("MAP_TILE_URL", None, schemes=("https", "http")) or ""
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
MAP_TILE_MAX_ZOOM = env_int("MAP_TILE_MAX_ZOOM", 18, minimum=1)
# What {s} in MAP_TILE_URL stands for, one character each (天地图 serves t0 … t7: "01234567").
MAP_TILE_SUBDOMAINS = env_str("MAP_TILE_SUBDOMAINS", "abc")

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", *_tile_origin(MAP_TILE_URL)],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- API ----------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens first: DRF asks the first class for the WWW-Authenticate header, so an expired or
        # revoked token answers 401 (sign in again), not 403.
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every API door parses JSON with bounded depth and refuses text PostgreSQL cannot store.
    "DEFAULT_PARSER_CLASSES": [
        "suqu.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "cases.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular's, listing the error answers every operation may give (cases/schema.py).
    "DEFAULT_SCHEMA_CLASS": "cases.schema.AutoSchema",
    "EXCEPTION_HANDLER": "suqu.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "suqu API",
    "DESCRIPTION": "苏家屯区民呼我应平台 API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A request body and an answer are described apart: a field the server fills in (`number`,
    # `token`) is not asked for, and an upload (`photos`) is a file, not a URL.
    "COMPONENT_SPLIT_REQUEST": True,
    # One enum per choice list, named once, however many fields use it.
    "ENUM_NAME_OVERRIDES": {
        "PriorityEnum": "cases.models.Priority",
        "ChannelEnum": "cases.models.Channel",
        "CaseStatusEnum": "cases.models.Case.Status",
        "TaskStateEnum": "volunteers.models.Task.State",
        "SignupStateEnum": "volunteers.models.Signup.State",
        "RegionLevelEnum": "grids.models.Region.Level",
        "TeamLevelEnum": "volunteers.models.Team.Level",
        "TaskSourceEnum": "volunteers.models.Task.Source",
        "AgendaItemSourceEnum": "mediation.models.AgendaItem.Source",
        "MediationStateEnum": "mediation.models.Mediation.State",
        "MediationKindEnum": "mediation.models.Kind",
    },
}

# --- Category suggestions (suggestions/, docs/suggestions.md) ----------------------------------

# Fewer closed cases than this (with a category of their own kind): no model is trained, and the
# suggestions come from the categories' keywords alone.
SUGGESTER_MIN_CASES = env_int("SUGGESTER_MIN_CASES", 200, minimum=1)
# When beat retrains the suggester each night, as HH:MM in TIME_ZONE.
SUGGESTER_RETRAIN_AT = env_str("SUGGESTER_RETRAIN_AT", "02:30")
_retrain_hour, _colon, _retrain_minute = SUGGESTER_RETRAIN_AT.partition(":")
if not (
    _retrain_hour.isdigit() and _retrain_minute.isdigit() and int(_retrain_hour) < 24 and int(_retrain_minute) < 60
):
    raise ImproperlyConfigured(f"SUGGESTER_RETRAIN_AT: expected HH:MM, got {SUGGESTER_RETRAIN_AT!r}")

# --- Celery -------------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How often beat sends the heartbeat, and how old it may be before /healthz calls Celery down.
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 30, minimum=1)
HEARTBEAT_MAX_AGE_SECONDS = env_int("HEARTBEAT_MAX_AGE_SECONDS", 3 * HEARTBEAT_SECONDS, minimum=1)
if HEARTBEAT_MAX_AGE_SECONDS <= HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"HEARTBEAT_MAX_AGE_SECONDS: must be more than HEARTBEAT_SECONDS ({HEARTBEAT_SECONDS}), "
        f"or /healthz reports Celery down between two beats; got {HEARTBEAT_MAX_AGE_SECONDS}"
    )
CELERY_BEAT_SCHEDULE = {
    # Every HEARTBEAT_SECONDS (30 s by default): proves beat schedules and a worker runs.
    "heartbeat": {"task": "suqu.heartbeat", "schedule": HEARTBEAT_SECONDS},
    # Every minute: dispatch the cases whose automatic dispatch did not happen (有呼必应).
    "dispatch-stranded": {"task": "routing.sweep_registered", "schedule": 60},
    # Every minute: warnings, overdue alerts, chase notices, notices and supervision that are due.
    "sweep-deadlines": {"task": "routing.sweep_deadlines", "schedule": 60},
    # Every five minutes; the task sends once a working day, from the time set in the admin
    # (notices' settings, 08:30 at first), and skips days off (a crontab cannot know the holidays
    # and the worked weekends, 调休).
    "head-digests": {"task": "routing.send_digests", "schedule": 300},
    # Every minute: send the outbox's messages that are due (lost requests, retries, the morning's SMS).
    "outbox-deliver-due": {"task": "outbox.deliver_due", "schedule": 60},
    # Every five minutes: settle messages whose deliverer died mid-send (asks the gateway).
    "outbox-recover": {"task": "outbox.recover", "schedule": 300},
    # Every five minutes: the SMS gateway's delivery reports (delivered to the handset or not).
    "outbox-poll-reports": {"task": "outbox.poll_reports", "schedule": 300},
    # Every five minutes: recompute the dashboards' rollups of the last two weeks.
    "refresh-rollups": {"task": "dashboards.refresh_rollups", "schedule": 300},
    # Every minute: run the export jobs left queued for over a minute (Redis was down when they were
    # asked for), give up those whose worker was lost, and delete export files older than a week.
    "export-stalled": {"task": "dashboards.export_stalled", "schedule": 60},
    # Every night: the next months' partitions of the tables partitioned by month (case events,
    # alerts), and the rows their default partition caught moved to a month of their own.
    "partitions-ahead": {"task": "cases.ensure_partitions", "schedule": crontab(hour=3, minute=10)},
    # Every six hours: delete the residents' codes and attempts older than two days (no limit
    # reads them any more).
    "residents-prune": {"task": "residents.prune", "schedule": 6 * 3600},
    # Every night at SUGGESTER_RETRAIN_AT (02:30 by default): retrain the category suggester on
    # the closed cases, a new version when there is enough history (docs/suggestions.md).
    "suggester-retrain": {
        "task": "suggestions.retrain",
        "schedule": crontab(hour=int(_retrain_hour), minute=int(_retrain_minute)),
    },
}
# Named queues, so that each kind of work can run on workers of its own, on as many machines as it
# needs (`celery -A suqu worker -Q sweep`; docker-compose.yml shows the shape). A worker started
# without -Q takes every queue listed here (`make run`, the tests). A task not routed below goes to
# the default queue, `celery` (the heartbeat, the residents' pruning); tests/suqu/test_queues.py
# holds every task of ours to a queue of this list.
CELERY_QUEUE_NAMES = ("celery", "dispatch", "sweep", "outbox", "exports", "rollups", "suggestions")
# On the default exchange (""), a message goes straight to the list named after its queue, whether
# or not a worker has declared the queue yet (through a named exchange, Redis's transport drops a
# message published before any worker of its queue bound it: a fresh Redis, a queue not deployed).
CELERY_TASK_QUEUES = [Queue(name, Exchange(""), routing_key=name) for name in CELERY_QUEUE_NAMES]
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # A new case routed and dispatched, and the cases whose dispatch did not happen.
    "routing.dispatch_case": {"queue": "dispatch"},
    "routing.sweep_registered": {"queue": "dispatch"},
    # The deadline sweep and the heads' digest (names kept from routing).
    "routing.sweep_deadlines": {"queue": "sweep"},
    "routing.send_digests": {"queue": "sweep"},
    "outbox.*": {"queue": "outbox"},
    "dashboards.export": {"queue": "exports"},
    "dashboards.export_stalled": {"queue": "exports"},
    "dashboards.refresh_*": {"queue": "rollups"},
    "suggestions.*": {"queue": "suggestions"},
}
# Publishing a task must not hang a request when Redis is down: fail fast, the work waits in
# PostgreSQL and a sweep picks it up.
CELERY_TASK_PUBLISH_RETRY = False
# max_retries 0: without it kombu tries to connect again after 2 s and 4 s before a publish gives
# up, about 6 s per task (a request, or each message of a sweep) while Redis is down. The worker's
# own reconnecting has its own setting and is not affected.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2, "max_retries": 0}

# --- Outgoing messages --------------------------------------------------------------------------

# The class that sends SMS. The default records each message in the database and the log; the
# vendors' adapters and their settings are described in docs/configuration.md.
SMS_BACKEND = env_str("SMS_BACKEND", "outbox.backends.RecordingSmsBackend")
# The vendors' adapters, and what each cannot send without: named here so that a gateway missing
# a key stops the process at start, not the first SMS hours later.
_SMS_VENDOR_NEEDS = {
    "outbox.gateways.aliyun.AliyunSmsBackend": set(),
    "outbox.gateways.tencent.TencentSmsBackend": {"SMS_APP_ID"},
}
_SMS_VENDOR = SMS_BACKEND in _SMS_VENDOR_NEEDS
_SMS_NEEDS = _SMS_VENDOR_NEEDS.get(SMS_BACKEND, set())
# The vendor's AccessKey ID and secret (Tencent Cloud: SecretId and SecretKey).
SMS_KEY_ID = env_str("SMS_KEY_ID") if _SMS_VENDOR else env_str("SMS_KEY_ID", "")
SMS_KEY_SECRET = env_str("SMS_KEY_SECRET") if _SMS_VENDOR else env_str("SMS_KEY_SECRET", "")
# The approved signature (签名) the vendor puts in front of every SMS, e.g. 苏家屯民呼我应.
SMS_SIGN_NAME = env_str("SMS_SIGN_NAME") if _SMS_VENDOR else env_str("SMS_SIGN_NAME", "")
# Tencent Cloud's SmsSdkAppId and region.
SMS_APP_ID = env_str("SMS_APP_ID") if "SMS_APP_ID" in _SMS_NEEDS else env_str("SMS_APP_ID", "")
SMS_REGION = env_str("SMS_REGION", "ap-guangzhou")
# Our template key → the id the vendor gave the template when it approved it.
_SMS_TEMPLATE_ITEMS = env_list("SMS_TEMPLATES") if _SMS_VENDOR else env_list("SMS_TEMPLATES", [])
SMS_TEMPLATES = {}
for _item in _SMS_TEMPLATE_ITEMS:
    _key, _equals, _template_id = (part.strip() for part in _item.partition("="))
    if not (_key and _equals and _template_id):
        raise ImproperlyConfigured(f"SMS_TEMPLATES: expected key=template id, got {_item!r}")
    SMS_TEMPLATES[_key] = _template_id
# The vendor's API at another address (a private gateway; the tests' fake); empty: the public one.
SMS_ENDPOINT = env_url("SMS_ENDPOINT", "", schemes=("https", "http"))
# Seconds to wait for the gateway's answer. A deliverer waits this long, holding no lock.
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10, minimum=1)
if SMS_TIMEOUT > 60:
    # A deliverer must answer well within the outbox's RECOVER_AFTER (10 minutes), or the
    # recovery sweep would take its message back while it still waits for the gateway.
    raise ImproperlyConfigured("SMS_TIMEOUT: at most 60 seconds")
# The class that POSTs integrating systems' webhook events, signed with each system's secret
# (docs/integrations.md). A setting rather than an import: the outbox sits below integrations.
WEBHOOK_BACKEND = "integrations.webhooks.WebhookBackend"
# Seconds to wait for a webhook receiver's answer; no answer in time is tried again later.
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)
if WEBHOOK_TIMEOUT > 60:
    # As SMS_TIMEOUT: well within the outbox's RECOVER_AFTER.
    raise ImproperlyConfigured("WEBHOOK_TIMEOUT: at most 60 seconds")
# Email goes through Django's mailer: SMTP to EMAIL_HOST, or the console with DEBUG.
_EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
_SMTP_OPTIONS = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25, minimum=1),
    "username": env_str("EMAIL_HOST_USER", ""),
    "password": env_str("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
    # A relay that does not answer must not hold a delivery's row lock for long.
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "suqu@localhost")

# --- Logging ------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
}
