"""Ladder CRM settings: one module, every value read from the environment.

With no variables set, the embedded default runs: a SQLite file beside the
code, Celery tasks executed in-process, e-mail printed to the console. Set
``DJANGO_ENV=production`` for a deployment: a real ``DJANGO_SECRET_KEY`` is then
required and the HTTPS/cookie hardening checked by ``check --deploy`` is on.
See the README's configuration table for every variable.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

ENVIRONMENT = env("DJANGO_ENV", default="development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_INSECURE_KEY = (
    "django-insecure-ladder-crm-development-only-key-do-not-deploy-0123456789"
)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="" if PRODUCTION else _INSECURE_KEY)
if PRODUCTION and (
    len(SECRET_KEY) < 50
    or SECRET_KEY.startswith("django-insecure")
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "Production needs DJANGO_SECRET_KEY: at least 50 random characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "crm",
    "ladder",
    "recommendations",
    "campaigns",
]

MIDDLEWARE = [
    "crm.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
SQLITE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db("DATABASE_URL", default=SQLITE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a busy timeout keeps the demo's server and
    # in-process tasks from failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
CACHES = {
    # Redis (redis://…) in production, so every process shares one cache.
    "default": env.cache_url("CACHE_URL", default="locmemcache://ladder-crm")
}

# --- Authentication and sessions -------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# ModelBackend with the staff profile joined to the user row and groups and
# permissions read in one query (PERF-01: every page pays it).
AUTHENTICATION_BACKENDS = ["crm.auth.RoleBackend"]
LOGIN_URL = "login"
# Brute-force lockout (SEC-05): attempts per username and per IP in a window.
LOGIN_LOCKOUT_ATTEMPTS = env.int("LADDER_LOGIN_LOCKOUT_ATTEMPTS", default=10)
LOGIN_LOCKOUT_IP_ATTEMPTS = env.int("LADDER_LOGIN_LOCKOUT_IP_ATTEMPTS", default=10)
LOGIN_LOCKOUT_WINDOW_MINUTES = env.int("LADDER_LOGIN_LOCKOUT_MINUTES", default=15)
LOGIN_REDIRECT_URL = "crm:home"
LOGOUT_REDIRECT_URL = "login"

# Sliding inactivity timeout (SEC-04): every request pushes expiry forward.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- HTTP hardening (SEC-01, SEC-03) -----------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (SEC-02), django-csp 4 format. No inline script or
# style attribute anywhere: own JavaScript and CSS are static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix pins the cookie to this host, path / and HTTPS.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("DJANGO_BEHIND_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("it", _("Italian"))]
# One catalogue for every app: `make messages` run at the root collects the
# strings of crm, ladder, recommendations and campaigns into crm/locale.
LOCALE_PATHS = [BASE_DIR / "crm" / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/Rome")
USE_I18N = True
# Dates and numbers follow the active language (Django's per-locale formats);
# the language comes from the browser (LocaleMiddleware) or the switcher.
# USE_THOUSAND_SEPARATOR stays off: it would also group ids printed into
# forms and URLs ("1.234"); figures are grouped by the crm_format filters.
USE_TZ = True
CURRENCY = env("LADDER_CURRENCY", default="EUR")

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
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
# Without collectstatic (a newcomer's first run) WhiteNoise serves from the apps.
WHITENOISE_USE_FINDERS = not PRODUCTION

# Uploaded import files live outside any served directory (SEC-15).
IMPORT_UPLOAD_DIR = Path(
    env("LADDER_IMPORT_DIR", default=str(BASE_DIR / "var" / "imports"))
)

# --- E-mail -----------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if PRODUCTION
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Ladder CRM <noreply@localhost>"
)

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: DRF takes WWW-Authenticate from the first class, so a
        # bad token gets a 401 rather than a 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "crm.permissions.RoleModelPermissions",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ladder CRM API",
    "DESCRIPTION": "Customers, catalogue, orders, returns, interactions and consents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # One enum for the channel choices shared by customers, orders, consents.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "crm.models.customers.Channel",
        "SuggestionChannelEnum": "recommendations.models.SUGGESTION_CHANNEL_CHOICES",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery (CEL-01, CEL-03) ------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# No broker → tasks run inline, so a newcomer needs no Redis (Saleor's pattern).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A killed pool child re-queues its task; the job rows' attempt counters stop
# a poison message after CELERY_MAX_DELIVERIES (see crm.services.imports).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_MAX_DELIVERIES = 3
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A killed worker's unacknowledged tasks come back within seconds of the
    # visibility timeout expiring, not after kombu's default sweep.
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT
}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=1500)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 2_000_000  # KiB: recycle a bloated child
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "crm.import_*": {"queue": "import"},
    "campaigns.send_*": {"queue": "send"},
}
CELERY_BEAT_SCHEDULE: dict = {
    "ladder-recompute-all-positions": {
        "task": "ladder.recompute_all_positions",
        "schedule": crontab(hour=2, minute=30),
    },
    "crm-cleanup-import-uploads": {
        "task": "crm.cleanup_import_uploads",
        "schedule": crontab(hour=4, minute=15),
    },
    "recommendations-nightly-run": {
        "task": "recommendations.run_suggestions",
        "schedule": crontab(hour=3, minute=0),
        "args": ("schedule",),
    },
    "campaigns-refresh-results": {
        "task": "campaigns.refresh_results",
        "schedule": crontab(minute=20),
    },
}

# --- Campaign sending (campaigns.sending) --------------------------------------
# Key of the suppression list's contact digests (PRIV-03). Derived from the
# SECRET_KEY by default; set it explicitly so rotating SECRET_KEY keeps the list.
SUPPRESSION_HMAC_KEY = env(
    "LADDER_SUPPRESSION_KEY",
    default=hashlib.sha256(f"ladder-suppression:{SECRET_KEY}".encode()).hexdigest(),
)
# Public address used in unsubscribe links inside messages.
CAMPAIGNS_PUBLIC_BASE_URL = env(
    "LADDER_PUBLIC_BASE_URL", default="http://localhost:8000"
).rstrip("/")
CAMPAIGNS_REPLY_TO = env.list("LADDER_CAMPAIGN_REPLY_TO", default=[])
# Quiet hours (MKT-02), local time of the customer's home store (else TIME_ZONE);
# a campaign's own quiet hours override them. Same start and end = none.
CAMPAIGNS_QUIET_HOURS = (
    env("LADDER_QUIET_HOURS_START", default="21:00"),
    env("LADDER_QUIET_HOURS_END", default="08:00"),
)
# At most this many messages per customer and channel per rolling window (MKT-03).
CAMPAIGNS_FREQUENCY_CAP = env.int("LADDER_FREQUENCY_CAP", default=2)
CAMPAIGNS_FREQUENCY_WINDOW_DAYS = env.int("LADDER_FREQUENCY_WINDOW_DAYS", default=7)
CAMPAIGNS_SEND_BATCH_SIZE = env.int("LADDER_SEND_BATCH_SIZE", default=100)
# Sends moved to "sending" (one durable commit) and handed off together. A
# worker killed mid-group leaves up to this many rows "unknown", never resent;
# smaller means fewer unknown after a kill, larger fewer commits per message.
CAMPAIGNS_SEND_HANDOFF_GROUP = env.int("LADDER_SEND_HANDOFF_GROUP", default=25)
# Outbox sweeper (CEL-04): re-publish pending/claimed rows older than this;
# rows left in "sending" this long become "unknown" and are never resent.
CAMPAIGNS_SEND_REQUEUE_AFTER = timedelta(
    seconds=env.int("LADDER_SEND_REQUEUE_SECONDS", default=300)
)
CAMPAIGNS_SEND_STUCK_AFTER = timedelta(
    seconds=env.int("LADDER_SEND_STUCK_SECONDS", default=300)
)
CAMPAIGNS_SEND_SWEEP_SECONDS = env.int("LADDER_SEND_SWEEP_SECONDS", default=60)
CAMPAIGNS_SEND_MAX_RETRIES = env.int("LADDER_SEND_MAX_RETRIES", default=5)
# SMS (MKT-04): a file under var/ by default, an HTTP gateway in production.
CAMPAIGNS_SMS_BACKEND = env(
    "LADDER_SMS_BACKEND", default="campaigns.backends.file.FileSmsBackend"
)
CAMPAIGNS_SMS_FILE_DIR = Path(
    env("LADDER_SMS_FILE_DIR", default=str(BASE_DIR / "var" / "sms"))
)
CAMPAIGNS_SMS_GATEWAY_URL = env("LADDER_SMS_GATEWAY_URL", default="")
CAMPAIGNS_SMS_GATEWAY_TOKEN = env("LADDER_SMS_GATEWAY_TOKEN", default="")
CAMPAIGNS_SMS_SENDER = env("LADDER_SMS_SENDER", default="Ladder")
# (connect, read) seconds for the gateway (CEL-08).
CAMPAIGNS_SMS_TIMEOUT = (
    env.float("LADDER_SMS_CONNECT_TIMEOUT", default=3.05),
    env.float("LADDER_SMS_READ_TIMEOUT", default=10.0),
)
CAMPAIGNS_SMS_MAX_SEGMENTS = env.int("LADDER_SMS_MAX_SEGMENTS", default=3)
CAMPAIGNS_SMS_COST_PER_SEGMENT = env.str("LADDER_SMS_COST_PER_SEGMENT", default="0.05")
# Handling cost of one returned unit, charged against a campaign's margin.
CAMPAIGN_RETURN_COST_PER_UNIT = env.float("LADDER_RETURN_COST_PER_UNIT", default=5.0)
# Shared secret the SMS gateway presents when it forwards an inbound STOP.
CAMPAIGNS_SMS_INBOUND_SECRET = env("LADDER_SMS_INBOUND_SECRET", default="")
CELERY_BEAT_SCHEDULE["campaigns-send-sweep"] = {
    "task": "campaigns.send_sweep",
    "schedule": timedelta(seconds=CAMPAIGNS_SEND_SWEEP_SECONDS),
}

# --- Domain settings ----------------------------------------------------------
LADDER_IMPORT_MAX_BYTES = env.int("LADDER_IMPORT_MAX_BYTES", default=64 * 1024 * 1024)
# The import page's limits (SEC-15), checked before any job is created.
LADDER_IMPORT_UPLOAD_MAX_BYTES = env.int(
    "LADDER_IMPORT_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024
)
LADDER_IMPORT_UPLOAD_MAX_ROWS = env.int(
    "LADDER_IMPORT_UPLOAD_MAX_ROWS", default=200_000
)
LADDER_IMPORT_RETENTION_DAYS = env.int("LADDER_IMPORT_RETENTION_DAYS", default=30)
LADDER_IMPORT_ORDERS_TIME_ZONE = env("LADDER_IMPORT_TIME_ZONE", default=TIME_ZONE)
# Rules of a good ladder and when a customer counts as stalled.
LADDER_MIN_PRICE_GAP = env.float("LADDER_MIN_PRICE_GAP", default=0.10)
LADDER_MAX_PRICE_RATIO = env.float("LADDER_MAX_PRICE_RATIO", default=5.0)
LADDER_STALL_DAYS = env.int("LADDER_STALL_DAYS", default=90)
# Suggestions (recommendations app).
RECOMMENDATIONS_PER_CUSTOMER = env.int("RECOMMENDATIONS_PER_CUSTOMER", default=3)
RECOMMENDATIONS_QUIET_PERIOD_DAYS = env.int(
    "RECOMMENDATIONS_QUIET_PERIOD_DAYS", default=90
)
# Customers per shard task; a shard is computed in chunks, the next one by a
# thread while PostgreSQL stores the last (measured best: 10,000 in 3).
RECOMMENDATIONS_SHARD_SIZE = env.int("RECOMMENDATIONS_SHARD_SIZE", default=10_000)
RECOMMENDATIONS_SHARD_CHUNKS = env.int("RECOMMENDATIONS_SHARD_CHUNKS", default=3)
RECOMMENDATIONS_STALE_RUN_MINUTES = env.int(
    "RECOMMENDATIONS_STALE_RUN_MINUTES", default=120
)
# A pending shard untouched this long lost its worker: the sweeper re-publishes it.
RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS = env.int(
    "RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS", default=600
)
CELERY_BEAT_SCHEDULE["recommendations-sweep-runs"] = {
    "task": "recommendations.sweep_runs",
    "schedule": timedelta(minutes=1),
}
LADDER_STALE_JOB_AFTER = timedelta(
    minutes=env.int("LADDER_STALE_JOB_MINUTES", default=60)
)

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line carries the request id that the response's X-Request-ID echoes.
    "filters": {"request_id": {"()": "crm.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
