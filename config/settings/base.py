"""Settings, read from the environment.

Production differs from development only by environment variables (see README,
"Configuration"). With nothing set the portal runs on the local demo PostgreSQL cluster that
``make demo`` starts (scripts/demo-db.sh) and executes Celery tasks in-process.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-only-for-local-demo-and-tests-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin.PortalAdminConfig",  # django.contrib.admin with the bureau's grouped index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "alliance",
    "staffing",
    "funding",
    "evaluation",
    "audit",
    "demo",
    "portal",
    "reports",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Outermost of the portal's own: an error under /api/ is JSON, a database blink is a 503.
    "config.errors.ApiErrorMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "alliance.User"

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

# The demo cluster of scripts/demo-db.sh (its default port); PostgreSQL only, always: the
# ledger's triggers, the exchanges' exclusion constraint and the evaluation's locks and
# snapshots are PostgreSQL's.
DEMO_DATABASE_URL = "postgres://postgres@127.0.0.1:5433/portal"
DATABASE_URL_IS_DEMO = "DATABASE_URL" not in env.ENVIRON
DATABASES = {
    "default": env.db("DATABASE_URL", default=DEMO_DATABASE_URL),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must point at PostgreSQL (postgres://user:password@host:5432/name); "
        f"it names the engine {DATABASES['default']['ENGINE']!r}. Other databases are not supported."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The API's lists run their statements prepared on the connection (alliance.listing): off behind
# a pooler that hands one client's statements to several server sessions (pgbouncer's
# transaction pooling).
API_PREPARED_STATEMENTS = env.bool("API_PREPARED_STATEMENTS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Locale: Simplified Chinese first, English switchable; Beijing time. ---
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Project-wide zh-hans for Django's and third-party apps' strings their catalogs leave in English.
LOCALE_PATHS = [BASE_DIR / "locale"]
# Each app keeps its translations in <app>/locale (zh_Hans); there is no project-level catalogue.
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Django's two finders, the app directories' without what the portal never serves (config.staticfiles).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "config.staticfiles.PortalAppDirectoriesFinder",
]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Only if present: git keeps no empty folder, and a missing one is a warning in check --deploy.
STATICFILES_DIRS = [d for d in [BASE_DIR / "static"] if d.is_dir()]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Attachments (receipts, sign-in sheets, photos) stay small enough for a county office's line.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Authentication, sessions, CSRF. ---
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account or address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, whose session user also reads the portal role (alliance/backends.py).
    "alliance.backends.RoleModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:login"
# Every role lands on "/", which shows that role's own home (portal.views.home).
LOGIN_REDIRECT_URL = "portal:home"
# Inactivity timeout: every request renews the cookie, so the age counts from the last request.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_HTTPONLY = False
# Under /api/ a CSRF refusal is JSON like every other API error (config.errors).
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

# Repeated failed logins: locked per account *and* address, for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind N trusted reverse proxies the client is the N-th address from the right of
# X-Forwarded-For; addresses further left are whatever the client sent, so they never count
# (a forged header must not buy fresh attempts). Without a proxy: the socket's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)


def _client_ip(request) -> str | None:
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if TRUSTED_PROXY_COUNT and len(forwarded) >= TRUSTED_PROXY_COUNT:
        return forwarded[-TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


AXES_CLIENT_IP_CALLABLE = _client_ip

# --- HTTPS and headers: on unless DEBUG; a reverse proxy terminates TLS in docker-compose. ---
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): the portal's own origin only, no inline script or style
# anywhere (the admin has none). The one exception is the API docs page (config.urls), whose
# Swagger UI brings an inline <style> and data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The load balancer's health check must not be redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Cache and Celery: Redis when configured, otherwise in-process. ---
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues a job while the broker is down must answer soon (a 503 with a message,
# services.evaluation_queue), not hang: connect within 3 s, retry publishing twice within 1 s.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# How the nightly run's liveness is sized (README, "Background jobs"):
# - a running evaluation beats EVALUATION_HEARTBEAT_SECONDS apart at most (from its batch loop;
#   a batch of 20,000 schools takes ~15 s, bench/README.md);
# - the sweep (beat, every EVALUATION_SWEEP_SECONDS) marks a run abandoned once its heartbeat is
#   EVALUATION_ABANDONED_AFTER old, ends its session and gives its counties' night back: a
#   killed worker's run is abandoned within ABANDONED_AFTER + SWEEP seconds;
# - Redis redelivers an unacknowledged task after CELERY_VISIBILITY_TIMEOUT: it must exceed the
#   longest run (a province's run is minutes), or a running task is delivered twice (the
#   duplicate is refused and recorded; every job takes the lock). It is not what detects a dead
#   run: the heartbeat is.
EVALUATION_HEARTBEAT_SECONDS = env.int("EVALUATION_HEARTBEAT_SECONDS", default=30)
EVALUATION_ABANDONED_AFTER = env.int("EVALUATION_ABANDONED_AFTER", default=600)
EVALUATION_SWEEP_SECONDS = env.int("EVALUATION_SWEEP_SECONDS", default=60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600),
    # How often a worker looks for unacknowledged tasks past their visibility timeout (a killed
    # worker's) and puts them back on their queue. kombu's Redis transport scans once when a
    # worker connects, then from its event loop every ``unacked_restore_interval`` (10 s) but
    # only on every ``unacked_restore_throttle``-th time (default 10): about every 100 s, so a
    # task whose worker died just after another worker started waited well over a minute for
    # its redelivery. One scan (a ZRANGE on the unacked index) every 10 s costs nothing.
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat's own entries (DatabaseScheduler copies them into its table; superusers only see it in
# the admin). A county's time and on/off are its evaluation.NightlySchedule, edited by its bureau.
# A tick or sweep not started within its interval is dropped (the next one does the same work):
# "expire_seconds" is DatabaseScheduler's name for it, "expires" Celery's own schedulers'.
CELERY_BEAT_SCHEDULE = {
    # Runs every county whose scheduled time has come today and that is switched on.
    "evaluation nightly tick": {
        "task": "evaluation.nightly_tick",
        "schedule": 60.0,
        "options": {"expire_seconds": 55, "expires": 55},
    },
    # Marks runs whose heartbeat stopped as abandoned and releases what they held.
    "evaluation sweep abandoned runs": {
        "task": "evaluation.sweep_abandoned_runs",
        "schedule": float(EVALUATION_SWEEP_SECONDS),
        "options": dict.fromkeys(("expire_seconds", "expires"), max(EVALUATION_SWEEP_SECONDS - 1, 1)),
    },
}
# The nightly evaluation works through the counties in batches of about this many schools
# (whole counties): each metric is one query per batch, and memory is bounded by the batch.
EVALUATION_BATCH_SCHOOLS = env.int("EVALUATION_BATCH_SCHOOLS", default=20000)
# It reads each batch on this many connections at once (in one snapshot), and the next batch
# on one more while the current one is scored and written; 0 reads everything one query after
# another on the run's own connection. PostgreSQL only (pgtools.snapshots).
EVALUATION_READ_CONNECTIONS = env.int("EVALUATION_READ_CONNECTIONS", default=2)
# Supervision (seed 004): each responsible supervisor visits each assigned school at least this often a month.
SUPERVISION_VISITS_PER_MONTH = env.int("SUPERVISION_VISITS_PER_MONTH", default=1)
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's, with the user's role read in the same query (alliance.authentication).
        "alliance.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["alliance.permissions.RolePermission"],
    # JSON nested deeper than 32 levels is a 400, not a RecursionError (alliance.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "alliance.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # DRF's page numbers, without the COUNT(*) when the page read is the last (alliance.pagination).
    "DEFAULT_PAGINATION_CLASS": "alliance.pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON; the browsable API only while developing (DEBUG).
    "DEFAULT_RENDERER_CLASSES": ["alliance.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "EXCEPTION_HANDLER": "alliance.rest.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "County school-alliance portal API",
    "DESCRIPTION": "校联体/教共体管理平台 — schools, alliances, exchanges, funding, evaluation.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for signed-in users, unless DEBUG.
    "SERVE_PERMISSIONS": [f"rest_framework.permissions.{'AllowAny' if DEBUG else 'IsAuthenticated'}"],
    # Group the docs by resource (schools, alliances, …) rather than one long "v1" list.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI's assets come from drf-spectacular-sidecar, served by the app: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Choice sets shared by a row's input and output serializers (the API's writes): one name each.
    "ENUM_NAME_OVERRIDES": {
        "ExchangeKindEnum": "staffing.models.Exchange.Kind",
        "ActivityKindEnum": "staffing.models.Activity.Kind",
        "MentorMeetingKindEnum": "staffing.models.MentorMeeting.Kind",
        "PairingTaskStatusEnum": "alliance.models.PairingTask.Status",
        "AllianceKindEnum": "alliance.models.Alliance.Kind",
        "AccountKindEnum": "funding.models.Account.Kind",
        "LedgerEntryKindEnum": "funding.models.LedgerEntry.Kind",
        "SpendingPlanStatusEnum": "funding.models.SpendingPlan.Status",
        "PeriodKindEnum": "evaluation.models.EvaluationPeriod.Kind",
        "AwardPolicyKindEnum": "evaluation.models.AwardPolicy.Kind",
        "EvaluatedSubjectEnum": "evaluation.models.Subject",
        "TeachingSubjectEnum": "staffing.models.Subject",
    },
    # Every operation documents the error answers it may give (config.schema).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.add_error_responses"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
