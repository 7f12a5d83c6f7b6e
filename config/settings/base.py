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
    "django.contrib.admin",
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
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Locale: Simplified Chinese first, English switchable; Beijing time. ---
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Each app keeps its translations in <app>/locale (zh_Hans); there is no project-level catalogue.
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
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
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Inactivity timeout: every request renews the cookie, so the age counts from the last request.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_HTTPONLY = False

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
# Redis redelivers an unacknowledged task after this many seconds; with acks_late a task
# running longer may be delivered twice, which is why every job takes a lock.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600)}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
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
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["alliance.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "alliance.rest.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "County school-alliance portal API",
    "DESCRIPTION": "校联体/教共体管理平台 — schools, alliances, exchanges, funding, evaluation.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Group the docs by resource (schools, alliances, …) rather than one long "v1" list.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI's assets come from drf-spectacular-sidecar, served by the app: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets shared by a row's input and output serializers (the API's writes): one name each.
    "ENUM_NAME_OVERRIDES": {
        "ExchangeKindEnum": "staffing.models.Exchange.Kind",
        "ActivityKindEnum": "staffing.models.Activity.Kind",
        "MentorMeetingKindEnum": "staffing.models.MentorMeeting.Kind",
        "PairingTaskStatusEnum": "alliance.models.PairingTask.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
