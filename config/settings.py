"""Safe Passage settings: one module, read from the environment.

Two modes, chosen by `DJANGO_ENV`:

- `development` (the default, so a clean checkout works with no environment at all): SQLite in
  `var/`, and a secret key generated there on first use. Every command run from the checkout
  (`make run`, `manage.py ...`) uses that same database.
- `production`: nothing secret has a default. `DJANGO_SECRET_KEY`, `DATABASE_URL` and
  `DJANGO_ALLOWED_HOSTS` are required, and the HTTPS hardening is on.

Every variable is listed in the README.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_decimal_map,
    env_int,
    env_list,
    env_rate,
    env_required,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SAFE_PASSAGE_VAR_DIR") or BASE_DIR / "var")

ENVIRONMENT = env_choice("DJANGO_ENV", {"development", "production"}, default="development")
DEV_MODE = ENVIRONMENT == "development"


def dev_secret_file(
    name: str, generate: Callable[[], str] = lambda: secrets.token_urlsafe(48)
) -> str:
    """Read (or create, readable by the owner only) a generated secret under `var/`; dev only."""
    if not DEV_MODE:
        raise ImproperlyConfigured(f"{name} is generated only in development mode.")
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            path.chmod(0o600)
            handle.write(generate())
    return path.read_text(encoding="utf-8").strip()


def new_ed25519_pem() -> str:
    key = Ed25519PrivateKey.generate()
    encoding, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, pkcs8, serialization.NoEncryption()).decode("ascii")


# Debug pages leak settings and tracebacks: off unless asked for, and never in production.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
if DEBUG and not DEV_MODE:
    raise ImproperlyConfigured("DJANGO_DEBUG cannot be true when DJANGO_ENV=production.")

if DEV_MODE:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or dev_secret_file("dev-secret-key")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    database_url = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'safe-passage.sqlite3'}"
else:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")
    database_url = env_required("DATABASE_URL")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "auditlog",
    "common",
    "accounts",
    "audit",
    "encryption",
    "people",
    "cases",
    "funds",
    "web",
    "csp",
]

# The API authenticates every request with a bearer token and never reads a session or a cookie.
# The web pages (web/) use database sessions, each bound to a token of the same login service;
# web.middleware.WebSessionMiddleware checks that token on every page request and never touches
# /api/. CSRF protects every cookie-authenticated POST (DRF's token views are exempt by design).
MIDDLEWARE = [
    "common.middleware.RequestIdMiddleware",
    "web.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "common.middleware.ApiResponseMiddleware",
    "csp.middleware.CSPMiddleware",
    "web.middleware.NoStoreMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "web.middleware.WebSessionMiddleware",
    "audit.disclosure.DisclosureMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
DEFAULT_EXCEPTION_REPORTER_FILTER = "common.reporting.ExceptionReporterFilter"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.template.context_processors.i18n",
                "web.context_processors.page_frame",
            ]
        },
    },
]

DATABASES = {"default": dj_database_url.parse(database_url)}
# The project's own thin subclasses of Django's backends: they add a before-commit hook
# (common/db/commit.py) and nothing else.
_PROJECT_ENGINES = {
    "django.db.backends.sqlite3": "common.db.backends.sqlite3",
    "django.db.backends.postgresql": "common.db.backends.postgresql",
}
if DATABASES["default"]["ENGINE"] not in _PROJECT_ENGINES:
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL or SQLite database.")
DATABASES["default"]["ENGINE"] = _PROJECT_ENGINES[DATABASES["default"]["ENGINE"]]
if DATABASES["default"]["ENGINE"] == "common.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue instead of failing at once, and a transaction takes the write lock at
        # BEGIN, so two requests never both read a balance and then both write it.
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        # secure_delete: freed pages (an erased person's wrapped data key) are zeroed, not left
        # readable in the file.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
        ),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The audit log is this project's own model (audit.LogEntry, hash-chained and append-only);
# django-auditlog's migrations would create its unused default table, so they are skipped.
AUDITLOG_LOGENTRY_MODEL = "audit.LogEntry"
MIGRATION_MODULES = {"auditlog": None}

# Throttle and lockout counters must be shared by every worker process and host: Redis when
# configured, otherwise a table in the database. Never per-process memory.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "safe-passage"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "safe_passage_cache",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English and Russian: the language follows Accept-Language (and, on the web pages, the
# switch every page offers). Messages live in `locale/`, compiled catalogues committed.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT") or (None if DEV_MODE else str(BASE_DIR / "staticfiles"))
# In development the Swagger UI assets are served straight from the installed packages; in
# production `collectstatic` copies them into STATIC_ROOT and WhiteNoise serves them.
WHITENOISE_USE_FINDERS = DEV_MODE
WHITENOISE_AUTOREFRESH = DEBUG

# --- HTTP hardening ---------------------------------------------------------------------------
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEV_MODE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEV_MODE else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=not DEV_MODE)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEV_MODE
CSRF_COOKIE_SECURE = not DEV_MODE
LANGUAGE_COOKIE_SECURE = not DEV_MODE
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- API ----------------------------------------------------------------------------------------
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "600/min")
LOGIN_THROTTLE_RATE = env_rate("LOGIN_THROTTLE_RATE", "30/min")
DUPLICATE_CHECK_RATE = env_rate("DUPLICATE_CHECK_RATE", "120/hour")

# --- Funds ------------------------------------------------------------------------------------
# A disbursement above this amount, in its source's currency, needs two distinct approvers.
# One figure fits few currencies at once: `..._BY_CURRENCY` (`RUB:90000,USD:1100`) overrides it.
FUNDS_DUAL_APPROVAL_THRESHOLD = env_decimal("FUNDS_DUAL_APPROVAL_THRESHOLD", "1000")
FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY = env_decimal_map(
    "FUNDS_DUAL_APPROVAL_THRESHOLD_BY_CURRENCY"
)
# Requests on one case in one category within this many days are added up for that threshold,
# so splitting a sum into smaller requests does not dodge the second approver.
FUNDS_DUAL_APPROVAL_WINDOW_DAYS = env_int("FUNDS_DUAL_APPROVAL_WINDOW_DAYS", 7, minimum=0)
# A request in another currency is checked against a reference rate dated at most this many days
# before it; its rate may be this many percent off (inclusive) and still be `ok`, and is
# refused when it is more than this factor off either way.
FUNDS_RATE_MAX_AGE_DAYS = env_int("FUNDS_RATE_MAX_AGE_DAYS", 7, minimum=0)
FUNDS_RATE_TOLERANCE_PERCENT = env_decimal("FUNDS_RATE_TOLERANCE_PERCENT", "3")
FUNDS_RATE_REFUSE_FACTOR = env_decimal("FUNDS_RATE_REFUSE_FACTOR", "2")
if FUNDS_RATE_REFUSE_FACTOR <= 1:
    raise ImproperlyConfigured("FUNDS_RATE_REFUSE_FACTOR must be more than 1.")
# How long a client may retry a money POST with the same Idempotency-Key and get its answer.
FUNDS_IDEMPOTENCY_TTL = timedelta(hours=env_int("FUNDS_IDEMPOTENCY_TTL_HOURS", 24, minimum=1))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttles.StaffRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    # Every list refuses query parameters it does not offer (see common/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["common.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # \uXXXX escapes: a lone surrogate a client sent can be echoed without breaking the
    # response's UTF-8 encoding (a 500).
    "UNICODE_JSON": False,
}

TOKEN_TTL = timedelta(hours=env_int("TOKEN_TTL_HOURS", 8, minimum=1))
# knox's own token model, named so that accounts.TokenRecord can point at it (it is swappable).
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": TOKEN_TTL,
    "AUTO_REFRESH": False,
}

OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Safe Passage")

# --- Web interface --------------------------------------------------------------------------
# A page request after this much inactivity ends the session (and its token); the token's own
# expiry (TOKEN_TTL_HOURS) is the absolute limit.
UI_IDLE_TIMEOUT = timedelta(minutes=env_int("UI_IDLE_MINUTES", 15, minimum=1))
# Where quick exit lands; unset: a built-in neutral page that names nothing of this product.
UI_QUICK_EXIT_URL = env_url("UI_QUICK_EXIT_URL")
# A Server-Timing header (time in the app and the database, query count) on every response;
# for measurements only: it tells any client how long the server worked.
UI_SERVER_TIMING = env_bool("UI_SERVER_TIMING", default=False)
LOGIN_URL = "web:login"

# Sessions live in the database, never the cache (a cache that loses or fails open must not
# keep a revoked session alive). Cookies: HttpOnly, SameSite=Strict, and in production Secure
# with the __Host- prefix (no Domain, Path=/, HTTPS only: no subdomain can set or read them).
# The session cookie dies with the browser; the server ends the session first on idleness,
# on the bound token's end, or on logout and quick exit.
_COOKIE_PREFIX = "" if DEV_MODE else "__Host-"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = f"{_COOKIE_PREFIX}sp_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = int(TOKEN_TTL.total_seconds())
CSRF_COOKIE_NAME = f"{_COOKIE_PREFIX}sp_csrf"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_AGE = None  # dies with the browser, like the session
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "web.views.csrf_failure"
# The device token of the login service's lockout (accounts/lockout.py), remembered per browser.
UI_DEVICE_COOKIE_NAME = f"{_COOKIE_PREFIX}sp_device"
LANGUAGE_COOKIE_NAME = f"{_COOKIE_PREFIX}sp_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Strict"

# Pages load scripts, styles and images from this site only, and nothing inline; forms post
# here only (and to the quick-exit address, which a quick exit's redirect must reach). The
# API keeps its own, stricter policy (common.middleware) and the Swagger UI page its own.
_FORM_ACTION = [SELF]
if UI_QUICK_EXIT_URL:
    _exit = urlsplit(UI_QUICK_EXIT_URL)
    _FORM_ACTION.append(f"{_exit.scheme}://{_exit.netloc}")
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/"],
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "form-action": _FORM_ACTION,
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    },
}

# Second factors (accounts/models/devices.py). No throttle's delay grows past this many seconds:
# whoever can make a device fail must not be able to freeze it for days.
OTP_THROTTLE_MAX_SECONDS = env_int("OTP_THROTTLE_MAX_SECONDS", 300, minimum=1)
# Wrong step-up codes (approve/, pay/, admin writes) one token may send before it is revoked.
STEP_UP_FAILURE_LIMIT = env_int("STEP_UP_FAILURE_LIMIT", 5, minimum=1)
# How long an enrolment code (a new account, a second-factor reset) can be redeemed.
STAFF_ENROLMENT_TTL = timedelta(hours=env_int("STAFF_ENROLMENT_TTL_HOURS", 24, minimum=1))
# Granting roles, reactivating and resetting second factors wait for a second admin whenever
# two or more admins were active within this many days.
STAFF_FOUR_EYES_WINDOW = timedelta(days=env_int("STAFF_FOUR_EYES_WINDOW_DAYS", 30, minimum=1))

# Lockout (accounts/lockout.py). An account is locked for unknown devices, and a device token
# for itself, after this many failures within the cool-off; an address is slowed down.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_COOLOFF = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# Off behind a Tor onion service, where every client shares one address.
LOGIN_LIMIT_BY_ADDRESS = env_bool("LOGIN_LIMIT_BY_ADDRESS", default=True)
# Failure records and unused device tokens are forgotten after this (`purge_login_attempts`).
LOGIN_ATTEMPT_RETENTION = timedelta(days=env_int("LOGIN_ATTEMPT_RETENTION_DAYS", 30, minimum=1))

SPECTACULAR_SETTINGS = {
    "TITLE": "Safe Passage API",
    "DESCRIPTION": "Case management for an emergency evacuation programme.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A case's risk and a need's urgency share one scale: one enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "cases.models.RiskLevel",
        "CategoryEnum": "cases.models.NeedCategory",
        "NeedStatusEnum": "cases.models.Need.Status",
        "CaseStatusEnum": "cases.models.Status",
        "RelationshipEnum": "cases.models.Relationship",
        "MemberRelationshipEnum": "cases.models.MEMBER_RELATIONSHIPS",
    },
}

# --- Audit ------------------------------------------------------------------------------------
# The Ed25519 key that signs checkpoints of the audit chain (PEM). It never enters the
# database; production may keep it off the app servers entirely and sign elsewhere.
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY") or (
    dev_secret_file("audit-signing-key.pem", new_ed25519_pem) if DEV_MODE else None
)
AUDIT_CHECKPOINT_PUBLIC_KEY = env_str("AUDIT_CHECKPOINT_PUBLIC_KEY")
# Each day's duplicate checks are digested under that day's key, destroyed this many days after
# the day ends (`manage.py expire_audit_lookups`, daily): until then, whoever holds the keys can
# test whether a phone or name was looked up; afterwards nobody can.
AUDIT_LOOKUP_RETENTION_DAYS = env_int("AUDIT_LOOKUP_RETENTION_DAYS", 30, minimum=1)


def new_dev_keks() -> str:
    from encryption.keyring import new_key_text

    return f"dev-1:{new_key_text()}\n"


def new_dev_index_key() -> str:
    from encryption.keyring import new_key_text

    return new_key_text()


# Key-encryption keys, `id:base64` entries, the first one active (see encryption/keyring.py).
# Never in the database and never derived from SECRET_KEY. ENCRYPTION_KEKS_PATH is the file they
# were read from, when they come from one, so `rotate_keys --new-kek` can add a key to it.
ENCRYPTION_KEKS = env_str("ENCRYPTION_KEKS")
ENCRYPTION_KEKS_PATH = os.environ.get("ENCRYPTION_KEKS_FILE", "").strip() or None
if ENCRYPTION_KEKS is None:
    if not DEV_MODE:
        raise ImproperlyConfigured("ENCRYPTION_KEKS (or ENCRYPTION_KEKS_FILE) must be set.")
    ENCRYPTION_KEKS = dev_secret_file("encryption-keks", new_dev_keks)
    ENCRYPTION_KEKS_PATH = str(VAR_DIR / "encryption-keks")
ENCRYPTION_INDEX_KEY = env_str("ENCRYPTION_INDEX_KEY") or (
    dev_secret_file("encryption-index-key", new_dev_index_key) if DEV_MODE else None
)
if ENCRYPTION_INDEX_KEY is None:
    raise ImproperlyConfigured("ENCRYPTION_INDEX_KEY (or ENCRYPTION_INDEX_KEY_FILE) must be set.")
# Phone numbers written without a country code are read as numbers of this region (ISO 3166).
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "RU").upper()

LOG_LEVEL = env_choice(
    "LOG_LEVEL", {"DEBUG", "INFO", "WARNING", "ERROR"}, default="INFO" if DEV_MODE else "WARNING"
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
