"""Tendero's settings: every value comes from the environment through typed helpers.

The defaults make `make demo` work on a fresh machine (SQLite, an embedded task
queue). `TENDERO_ENV=production` refuses to start without the secrets a real
deployment needs.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


TENDERO_ENV = env_str("TENDERO_ENV", "development")
if TENDERO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("TENDERO_ENV must be development, production or test.")
PRODUCTION = TENDERO_ENV == "production"

DATA_DIR = Path(env_str("TENDERO_DATA_DIR", str(PROJECT_DIR / "var")))
# The embedded defaults (SQLite database, task queue) keep their files here.
DATA_DIR.mkdir(parents=True, exist_ok=True)

if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required in production.")
    DEBUG = False
else:
    SECRET_KEY = env_str("SECRET_KEY", "tendero-development-key-not-for-production-use-0123456789")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
    DEBUG = env_bool("DEBUG", TENDERO_ENV == "development")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_countries",
    "auditlog",
    "axes",
    "huey.contrib.djhuey",
    "ninja",
    "csp",
    "tendero.core",
    "tendero.accounts",
    "tendero.organization",
    "tendero.audit",
    "tendero.customers",
    "tendero.dialogue",
    "tendero.knowledge",
    "tendero.contracts",
    "tendero.privacy",
    "tendero.insights",
    "tendero.stewardship",
    "tendero.workspace",
]
if TENDERO_ENV == "test":
    # An app that plugs in by registering only (tendero/tests/plugin): the proof that
    # a new app needs no edit outside its folder and this line.
    INSTALLED_APPS.append("tendero.tests.plugin")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tendero.core.http.ApiErrorsAsJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tendero.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tendero.urls"
WSGI_APPLICATION = "tendero.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tendero.workspace.navigation.navigation",
            ],
        },
    }
]


def env_positive_int(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1, not {value}.")
    return value


# The web server, `tendero serve` (gunicorn): a fixed number of processes, each with
# a fixed number of threads, so the database connections it can hold are bounded
# (see the connection budget below and tendero/core/checks.py).
TENDERO_WEB_BIND = env_str("TENDERO_WEB_BIND", "127.0.0.1:8000")
TENDERO_WEB_WORKERS = env_positive_int("TENDERO_WEB_WORKERS", 2)
TENDERO_WEB_THREADS = env_positive_int("TENDERO_WEB_THREADS", 4)
# Seconds a request may take before its worker is restarted; in-flight requests get
# as long again to finish when the server is stopped.
TENDERO_WEB_TIMEOUT = env_positive_int("TENDERO_WEB_TIMEOUT", 30)
TENDERO_WEB_ACCESS_LOG = env_bool("TENDERO_WEB_ACCESS_LOG", False)
# `tendero serve` serves the static files itself (whitenoise): collected ones in
# production, straight from the apps elsewhere.
WHITENOISE_USE_FINDERS = not PRODUCTION

# Database: SQLite file by default, DATABASE_URL selects PostgreSQL (psycopg 3).
#
# The connection budget on PostgreSQL: every process keeps a pool of at most
# TENDERO_DB_POOL_MAX_SIZE connections (as many as a web worker has threads), so
# Tendero holds at most TENDERO_WEB_WORKERS times TENDERO_DB_POOL_MAX_SIZE connections
# for the web, plus one per task worker thread (HUEY_WORKERS) and one per command
# running; `tendero check` refuses a budget over TENDERO_DB_MAX_CONNECTIONS.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
TENDERO_DB_MAX_CONNECTIONS = env_positive_int("TENDERO_DB_MAX_CONNECTIONS", 100)
if DATABASE_URL:
    # No persistent connections by default: a server with a thread per connection
    # (runserver, so `tendero demo`) would pile them up. None in tests, so the test
    # database can always be dropped at the end of a run.
    conn_max_age = 0 if TENDERO_ENV == "test" else env_int("CONN_MAX_AGE", 0)
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=conn_max_age)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"]["TEST"] = {"NAME": env_str("TENDERO_TEST_DATABASE", "test_tendero")}
        options = DATABASES["default"].setdefault("OPTIONS", {})
        # Names Tendero's sessions in pg_stat_activity, so they can be counted.
        options.setdefault("application_name", env_str("TENDERO_DB_APPLICATION_NAME", "tendero"))
        # The test suite opens its connections itself; every deployment pools them.
        if env_bool("TENDERO_DB_POOL", TENDERO_ENV != "test"):
            if conn_max_age:
                raise ImproperlyConfigured(
                    "CONN_MAX_AGE must be 0 with TENDERO_DB_POOL: the pool keeps the connections."
                )
            pool_max_size = env_positive_int("TENDERO_DB_POOL_MAX_SIZE", TENDERO_WEB_THREADS)
            pool_min_size = env_int("TENDERO_DB_POOL_MIN_SIZE", 1)
            if not 0 <= pool_min_size <= pool_max_size:
                raise ImproperlyConfigured(
                    "TENDERO_DB_POOL_MIN_SIZE must be between 0 and TENDERO_DB_POOL_MAX_SIZE."
                )
            options["pool"] = {
                "min_size": pool_min_size,
                "max_size": pool_max_size,
                # Seconds a request waits for a free connection before it fails.
                "timeout": env_positive_int("TENDERO_DB_POOL_TIMEOUT", 10),
            }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(DATA_DIR / "tendero.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE lets the web process and the worker write without
                # "database is locked" surprises; WAL lets readers run during writes.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Tests use a file too: an in-memory database shares one cache between
            # connections and fails concurrent writers at once instead of queueing them.
            "TEST": {
                "NAME": env_str("TENDERO_TEST_SQLITE", str(DATA_DIR / "test-tendero.sqlite3"))
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tendero.accounts.backends.PermissionsInOneQueryBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TENDERO_ENV == "test":
    # Tests create many users; a fast hasher keeps the suite quick. Never elsewhere.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "accounts:login"

# Repeated failed logins lock the username for a while (django-axes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True
LANGUAGE_COOKIE_NAME = "tendero_language"
# The company's currency: purchases without one, lifetime values and insights.
TENDERO_DEFAULT_CURRENCY = env_str("TENDERO_DEFAULT_CURRENCY", "EUR").upper()

STATIC_URL = "/static/"
# The project's own assets (the stylesheet, the keyboard shortcut script).
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected static files (production); in development they are served from the apps.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(PROJECT_DIR / "staticfiles"))) if PRODUCTION else None

# Uploaded files (imports waiting to run). Never served to the web: they are read
# by the importer only.
UPLOADS_DIR = Path(env_str("TENDERO_UPLOADS_DIR", str(DATA_DIR / "uploads")))
# Largest file accepted by the import page; the command line has no limit.
IMPORT_MAX_UPLOAD_BYTES = env_int("TENDERO_IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Background work: huey, on SQLite by default, on Redis when HUEY_REDIS_URL is set.
HUEY_REDIS_URL = os.environ.get("HUEY_REDIS_URL", "")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", TENDERO_ENV == "test")
HUEY: dict[str, object]
if HUEY_REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "tendero",
        "url": HUEY_REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "tendero",
        "filename": env_str("HUEY_SQLITE_PATH", str(DATA_DIR / "tasks.sqlite3")),
        "immediate": HUEY_IMMEDIATE,
    }
HUEY["consumer"] = {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"}

# Audit trail: django-auditlog writing into our own entry model, which keeps
# the customer id of every change so a customer's whole history is one query.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
# auditlog's own migrations would create its (swapped-out, unused) table anyway.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_DISABLE_REMOTE_ADDR = True

NINJA_PAGINATION_PER_PAGE = 25
NINJA_PAGINATION_MAX_LIMIT = 200

# Content-Security-Policy (django-csp; Django 5.2 has none of its own) on every
# response: pages, API and docs. Scripts and stylesheets come only from our own
# static files (htmx, Swagger UI and their config included): no inline script or
# style, no event handler attributes, no eval, no CDN. Charts' styles are applied
# through the CSSOM (tendero/static/tendero/charts.js), which the policy allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "huey": {"level": "INFO"}},
}
