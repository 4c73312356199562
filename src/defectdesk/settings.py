"""Settings, all read from the environment (every variable is listed in docs/operations.md)."""

from __future__ import annotations

import os
import secrets
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole number from the environment; a bad value stops start-up, naming the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("DEFECTDESK_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = _env_bool("DEBUG", False)
TESTING = _env_bool("DEFECTDESK_TESTING", False)


EMBEDDED = _env_bool("DEFECTDESK_EMBEDDED", False)
SECRET_KEY_FROM_ENV = bool(os.environ.get("SECRET_KEY"))
ALLOWED_HOSTS_FROM_ENV = bool(_env_list("ALLOWED_HOSTS"))


def _generated_secret_key() -> str:
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# Commands run with a key generated under ./var/; serving with DEBUG off refuses it
# (see defectdesk.core.deploy.ensure_safe_to_serve).
SECRET_KEY = os.environ.get("SECRET_KEY") or _generated_secret_key()
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "defectdesk.core",
    "defectdesk.accounts",
    "defectdesk.webhooks",
    "defectdesk.ledger",
    "defectdesk.defects",
    "defectdesk.policy",
    "defectdesk.metrics",
    "defectdesk.appeals",
    "defectdesk.messaging",
    "defectdesk.notify",
    "defectdesk.mirror",
    "defectdesk.api",
    "defectdesk.console",
    "defectdesk.web",
    "defectdesk.demo",
    "defectdesk.ops",
]

MIDDLEWARE = [
    "defectdesk.core.middleware.RequestIdMiddleware",
    "defectdesk.core.logs.AccessLogMiddleware",
    "defectdesk.api.contract.ApiContractMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "defectdesk.core.shared.RequestReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "defectdesk.accounts.language.LanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "defectdesk.accounts.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "defectdesk.core.middleware.ViewerTimezoneMiddleware",
    "defectdesk.core.middleware.RequestInputMiddleware",
    "axes.middleware.AxesMiddleware",
    "defectdesk.api.ratelimit.RateLimitMiddleware",
    "defectdesk.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "defectdesk.urls"
WSGI_APPLICATION = "defectdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'defectdesk.sqlite3'}"
if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the default database lives there
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db),
        conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The languages of the interface (docs/translations.md); one catalogue for the whole project.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "defectdesk_language"

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": os.environ.get("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# REDIS_URL names a cache that every process shares (Redis). With it, sessions and the
# signed-in user's account and roles are read from there rather than from the database on
# every request. Without it, each process caches on its own, and only what cannot go stale
# between processes (results keyed by the data version).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
SHARED_CACHE = bool(REDIS_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "defectdesk.core.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "defectdesk"),
        }
        if SHARED_CACHE
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}
    ),
    # Rendered pages and computed health, keyed by the data version: never stale, so each
    # process keeps its own copy close at hand.
    "local": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "local",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}
if SHARED_CACHE:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTHENTICATION_BACKENDS = [
    "defectdesk.accounts.throttle.SignInThrottleBackend",
    "defectdesk.accounts.backends.CachedModelBackend",
]

# Sign-in throttling (django-axes): failures are counted per user name and client address
# together, so an attacker elsewhere cannot lock the owner out; the same answer whether or not
# the user name exists. Applies to /signin/ and /admin/login/ alike.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = _env_int("SIGNIN_FAILURE_LIMIT", 5, 1)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("SIGNIN_LOCKOUT_MINUTES", 15, 1))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "defectdesk.accounts.throttle.client_address"
AXES_LOCKOUT_TEMPLATE = "web/signin_locked.html"
AXES_HTTP_RESPONSE_CODE = 429

LOGIN_URL = "/signin/"
# Two-factor sign-in (django-otp): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = "DefectDesk"
CSRF_FAILURE_VIEW = "defectdesk.web.errors.csrf_failure"
# The CSRF secret lives in the session, so a token (or a planted cookie) of another session fails.
CSRF_USE_SESSIONS = True
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/signin/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", not DEBUG and not TESTING and not EMBEDDED)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): scripts only from the application's own static files
# (no inline script, no CDN: the API docs' Swagger UI is served from django-ninja's static
# files); inline style attributes are still allowed. Evidence downloads set a stricter one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# HTTPS: redirect plain HTTP and send HSTS when served over TLS (docs/operations.md).
_SERVED_OVER_HTTPS = not DEBUG and not TESTING and not EMBEDDED
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", _SERVED_OVER_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31_536_000 if SECURE_SSL_REDIRECT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a reverse proxy that terminates TLS, trust its X-Forwarded-Proto (and, for sign-in
# throttling, its X-Forwarded-For) only when the operator says so.
BEHIND_PROXY = _env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Largest image accepted as evidence, in pixels (width times height), read from the file's header.
UPLOAD_MAX_IMAGE_PIXELS = _env_int("UPLOAD_MAX_IMAGE_PIXELS", 40_000_000, 1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("EMAIL_PORT", 25, 1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "DefectDesk <noreply@localhost>")
BASE_URL = os.environ.get("DEFECTDESK_BASE_URL", "http://127.0.0.1:8000").strip().rstrip("/")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

STRIPE_WEBHOOK_SECRET = _env_list("STRIPE_WEBHOOK_SECRET")
# Webhooks out: seconds a receiver has to answer, and the first wait before a retry (doubling).
WEBHOOK_TIMEOUT_SECONDS = _env_int("WEBHOOK_TIMEOUT_SECONDS", 10, 1)
WEBHOOK_RETRY_BASE_SECONDS = _env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, 1)

# API rate limits (docs/operations.md): requests with a bearer token, per token and per client
# address (X-Forwarded-For only with BEHIND_PROXY), in windows of API_RATE_LIMIT_WINDOW seconds.
API_RATE_LIMIT_PER_TOKEN = _env_int("API_RATE_LIMIT_PER_TOKEN", 600, 1)
API_RATE_LIMIT_PER_ADDRESS = _env_int("API_RATE_LIMIT_PER_ADDRESS", 1200, 1)
API_RATE_LIMIT_WINDOW = _env_int("API_RATE_LIMIT_WINDOW", 60, 1)

# Ingestion batch size: events validated and applied per transaction.
INGEST_BATCH_SIZE = _env_int("INGEST_BATCH_SIZE", 20000, 1)
# NDJSON lines an import process reads ahead and groups by order before cutting batches.
INGEST_READ_AHEAD = _env_int("INGEST_READ_AHEAD", 400000, 1)
# Largest accepted line of an import file or request body line, in bytes.
INGEST_MAX_LINE_BYTES = _env_int("INGEST_MAX_LINE_BYTES", 1024 * 1024, 1)
API_MAX_EVENTS = 10_000
# Orders an import keeps folded in memory between batches (about 4 KB each), in all.
INGEST_FOLD_CACHE = _env_int("INGEST_FOLD_CACHE", 50000)
# Processes that import one NDJSON file into PostgreSQL side by side (sellers split by slot).
INGEST_WORKERS = _env_int("INGEST_WORKERS", min(os.cpu_count() or 1, 4), 1)

# -- Production run: static files, proxy, logs, readiness (docs/deploy.md) ---------------------
# Static files go through WhiteNoise from STATIC_ROOT, with content-hashed names and gzip/brotli
# copies made by `collectstatic` (cached for a year by browsers and CDNs). Embedded, DEBUG and
# test runs read the apps' folders directly, so nothing has to be collected there.
STATIC_MANIFEST = _env_bool("STATIC_MANIFEST", not DEBUG and not TESTING and not EMBEDDED)
if STATIC_MANIFEST:
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG or EMBEDDED or TESTING
if WHITENOISE_USE_FINDERS:
    # Files come from the apps' folders; an uncollected STATIC_ROOT is expected, not a mistake.
    warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)
WHITENOISE_AUTOREFRESH = DEBUG
# Behind a proxy the operator named (BEHIND_PROXY), its X-Forwarded-Host is the site's host too.
USE_X_FORWARDED_HOST = BEHIND_PROXY
# LOG_FORMAT=json: one JSON object per line (standard library logging, python-json-logger's
# formatter), each with the request id; text for people at a terminal (embedded, DEBUG, tests).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or (
    "text" if DEBUG or TESTING or EMBEDDED else "json"
)
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT[:40]!r}")
# /readyz: a worker must have sent a heartbeat within this many seconds (0: do not ask).
READYZ_WORKER_SECONDS = _env_int("READYZ_WORKER_SECONDS", 60)

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
_REQUEST_LINES = LOG_FORMAT == "json" and LOG_LEVEL in ("DEBUG", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "defectdesk.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per request in JSON logs (gunicorn's text access log is then off), unless
        # LOG_LEVEL asks for warnings and worse only.
        "defectdesk.request": {"level": "INFO" if _REQUEST_LINES else "WARNING"},
    },
}
# A worker whose last heartbeat is older than this many seconds is taken for dead, and its job,
# once past its lease, is run again elsewhere (docs/operations.md).
JOBS_WORKER_TIMEOUT = _env_int("JOBS_WORKER_TIMEOUT", 60, 1)
# -- end of the production-run block ------------------------------------------------------------

# Mirror mode (docs/mirror.md): the key that encrypts merchants' Amazon credentials at rest (a
# Fernet key: `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"`),
# and, for tests against a local fake, the SP-API and Login-with-Amazon endpoints.
MIRROR_CREDENTIALS_KEY = os.environ.get("MIRROR_CREDENTIALS_KEY", "").strip()
MIRROR_SP_API_ENDPOINT = os.environ.get("MIRROR_SP_API_ENDPOINT", "").strip()
MIRROR_LWA_ENDPOINT = os.environ.get("MIRROR_LWA_ENDPOINT", "").strip()
# -- Evidence in object storage (docs/operations.md) --------------------------------------------
# EVIDENCE_S3_BUCKET puts evidence files in an S3-compatible bucket (django-storages and boto3)
# instead of MEDIA_ROOT. Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, a profile, or the machine's role). Files are private: the application
# reads them after its own permission check and streams them; no public or signed URL is handed out.
EVIDENCE_S3_BUCKET = os.environ.get("EVIDENCE_S3_BUCKET", "").strip()
if EVIDENCE_S3_BUCKET:
    from botocore.config import Config as _BotoConfig

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": EVIDENCE_S3_BUCKET,
            "endpoint_url": os.environ.get("EVIDENCE_S3_ENDPOINT_URL", "").strip() or None,
            "region_name": os.environ.get("EVIDENCE_S3_REGION", "").strip() or None,
            "location": os.environ.get("EVIDENCE_S3_PREFIX", "").strip().strip("/"),
            "addressing_style": os.environ.get("EVIDENCE_S3_ADDRESSING_STYLE", "").strip() or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 60,
            # An unreachable store must refuse an upload within seconds, not hang the page.
            "client_config": _BotoConfig(
                connect_timeout=_env_int("EVIDENCE_S3_TIMEOUT", 5, 1),
                read_timeout=_env_int("EVIDENCE_S3_TIMEOUT", 5, 1) * 4,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        },
    }
# -- end of the object-storage block ------------------------------------------------------------

# -- Read replica (docs/scaling.md) -------------------------------------------------------------
# DATABASE_REPLICA_URL names a streaming replica of DATABASE_URL: merchant and console pages read
# ledger-side tables from it (defectdesk.core.replica); writes and sign-in stay on the primary.
REPLICA_STICKY_SECONDS = _env_int("REPLICA_STICKY_SECONDS", 10)
REPLICA_RETRY_SECONDS = _env_int("REPLICA_RETRY_SECONDS", 10, 1)
if os.environ.get("DATABASE_REPLICA_URL", "").strip():
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"].strip(),
        conn_max_age=_env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL database")
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = _env_int(
        "DATABASE_REPLICA_CONNECT_TIMEOUT", 2, 1
    )
    # Tests point it at the primary's test database themselves (tests/conftest.py).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["defectdesk.core.replica.ReplicaRouter"]
    MIDDLEWARE.append("defectdesk.core.replica.ReplicaReadsMiddleware")
# -- end of the read-replica block ------------------------------------------------------------
