"""Coda settings: 12-factor, read from the environment, with embedded defaults.

No variables set: SQLite, the in-memory channel layer and the pipeline run in
the server process. `DATABASE_URL` (PostgreSQL) and `REDIS_URL` switch to the
production set-up: Celery over Redis and channels_redis.
"""

import os
from pathlib import Path

import dj_database_url
from redis import exceptions as redis_exceptions

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CODA_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "coda-insecure-development-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "strawberry_django",
    "modules.composition",
    "modules.mood",
    "modules.genre",
    "modules.arrangement",
    "modules.lyrics",
    "modules.voice",
    "modules.mastering",
    "modules.accounts",
    "modules.moderation",
    "modules.webhooks",
    "modules.providers",
    "modules.feedback",
    "subscriptions",
]

# The pipeline's stages, in registry order; each module's `stage.py` exports STAGE.
CODA_STAGES = [
    "modules.mood",
    "modules.genre",
    "modules.arrangement",
    "modules.lyrics",
    "modules.voice",
    "modules.mastering",
]

# Service modules beside the stages: they contribute to the schema as stages do (types.py), but
# are not pipeline stages.
CODA_SERVICE_MODULES = ["modules.accounts", "modules.webhooks", "modules.providers", "modules.feedback"]

# Callables (caller=, prompt=, inputs=) -> {choice: prior} that lean the choices a prompt leaves open
# (modules/composition/priors.py); the stages record such choices with the source "profile".
CODA_CONTEXT_PRIORS = ["modules.feedback.priors.preference_prior"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "modules.accounts.middleware.CallerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"

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
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'coda.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", 0)),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded pipeline writes from a background thread while requests read.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("CODA_MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("CODA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults socket_timeout to 5 s, which kills idle
                # blocking reads (FIELD-NOTES trap 2): disable it.
                # retry_on_error: after a Redis restart each pooled connection's first use
                # fails; retried, a subscriber's group_add goes through instead of erroring.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": None,
                        "retry_on_error": [redis_exceptions.ConnectionError, redis_exceptions.TimeoutError],
                    }
                ],
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }

# How the pipeline runs: "celery" (workers on Redis), "thread" (background thread
# in this process, the embedded default) or "sync" (inline, for the CLI and tests).
CODA_PIPELINE = os.environ.get("CODA_PIPELINE", "celery" if REDIS_URL else "thread")

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None  # chords (parallel levels) need one
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long tasks: never hoard (FIELD-NOTES trap 13)
CELERY_TASK_DEFAULT_QUEUE = "coda"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker died unacknowledged goes back to the queue after this long (kombu's Redis
# transport); it must outlast the longest stage.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CODA_VISIBILITY_TIMEOUT", 900))}
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-compositions": {"task": "coda.sweep_stuck", "schedule": 60.0},
}

CODA_SOUNDFONT = os.environ.get("CODA_SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2")
CODA_SAMPLE_RATE = int(os.environ.get("CODA_SAMPLE_RATE", 44100))
# Stems rendered and files encoded at once per composition: every core (fastest single song);
# 1 when running as many Celery workers as cores (best throughput: workers don't compete).
CODA_RENDER_THREADS = int(os.environ.get("CODA_RENDER_THREADS", os.cpu_count() or 1))
CODA_MAX_PROMPT_CHARS = 2000
# Uploaded audio (voice samples, mastering and genre references): bytes and seconds at most.
CODA_MAX_UPLOAD_BYTES = int(os.environ.get("CODA_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
CODA_MAX_UPLOAD_SECONDS = float(os.environ.get("CODA_MAX_UPLOAD_SECONDS", 600))
# Files one request may carry at that size (createVoiceProfile takes 5 samples): with a margin for
# the rest of the multipart body, they bound a request's body (schema.security.http).
CODA_MAX_UPLOAD_FILES = int(os.environ.get("CODA_MAX_UPLOAD_FILES", 5))
# A stage failing with a transient error is tried this many times in all, the wait doubling each time.
CODA_STAGE_ATTEMPTS = int(os.environ.get("CODA_STAGE_ATTEMPTS", 3))
CODA_RETRY_BACKOFF_SECONDS = float(os.environ.get("CODA_RETRY_BACKOFF_SECONDS", 0.5))
# A running composition with no sign of life for this long is resumed (at most twice), then failed.
CODA_STUCK_AFTER_SECONDS = int(os.environ.get("CODA_STUCK_AFTER_SECONDS", 600))
CODA_MAX_RESUMES = int(os.environ.get("CODA_MAX_RESUMES", 2))
# Reuse a stage's result from any earlier run with the same input hash (the same request twice
# costs one pipeline run). Off only to prove determinism by recomputing.
CODA_REUSE_RESULTS = env_bool("CODA_REUSE_RESULTS", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# --- accounts: identity, API tokens, quotas (issue 6) ---
CODA_TOKEN_DEFAULT_DAYS = int(os.environ.get("CODA_TOKEN_DEFAULT_DAYS", 90))
CODA_TOKEN_MAX_DAYS = int(os.environ.get("CODA_TOKEN_MAX_DAYS", 365))
CODA_MAX_TOKENS_PER_USER = int(os.environ.get("CODA_MAX_TOKENS_PER_USER", 20))
# Behind a reverse proxy that sets X-Forwarded-For (and strips the client's own), trust its first hop.
CODA_TRUST_X_FORWARDED_FOR = env_bool("CODA_TRUST_X_FORWARDED_FOR", False)
# Anonymous callers: this many compositions per address per UTC day, each at most this long.
CODA_ANON_DAILY_COMPOSITIONS = int(os.environ.get("CODA_ANON_DAILY_COMPOSITIONS", 3))
CODA_ANON_MAX_DURATION_SECONDS = int(os.environ.get("CODA_ANON_MAX_DURATION_SECONDS", 30))
# Signed-in callers: compositions being made at once, and compose requests (create, edit,
# regenerate) per clock hour.
CODA_MAX_CONCURRENT_COMPOSITIONS = int(os.environ.get("CODA_MAX_CONCURRENT_COMPOSITIONS", 2))
CODA_COMPOSITIONS_PER_HOUR = int(os.environ.get("CODA_COMPOSITIONS_PER_HOUR", 30))
# File URLs handed out by the API are signed and expire after this long.
CODA_FILE_URL_SECONDS = int(os.environ.get("CODA_FILE_URL_SECONDS", 3600))

# --- moderation: the content check on prompts and lyrics (issue 6) ---
# The content check on prompts, user lyrics and generated lyrics: a dotted path to a class with
# check(text, *, field) -> Verdict | None (modules.moderation.engine.Moderator). The default is the
# word list and rules shipped in modules/moderation; a stronger classifier can take its place.
CODA_MODERATOR = os.environ.get("CODA_MODERATOR", "modules.moderation.engine.RulesModerator")

# --- webhooks: signed event deliveries to integrators (issue 6) ---
# Loopback URLs (localhost, 127.0.0.1, ::1) may register: for development and tests only.
CODA_WEBHOOK_ALLOW_LOOPBACK = env_bool("CODA_WEBHOOK_ALLOW_LOOPBACK", False)
# One attempt waits this long for the receiver's answer.
CODA_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("CODA_WEBHOOK_TIMEOUT_SECONDS", 5))
# Attempts per delivery before it is FAILED (redeliverWebhook starts a new cycle); the wait after
# the n-th failed attempt is BACKOFF * 2^(n-1): 10, 20, 40, 80, 160 s by default.
CODA_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("CODA_WEBHOOK_MAX_ATTEMPTS", 6))
CODA_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("CODA_WEBHOOK_BACKOFF_SECONDS", 10))
CODA_WEBHOOK_MAX_ENDPOINTS = int(os.environ.get("CODA_WEBHOOK_MAX_ENDPOINTS", 10))

# --- providers: the registry of who does a stage's work, and routing (issue 8) ---
# Fernet key(s) encrypting provider credentials at rest: one key, or several separated by commas
# (the first encrypts, all decrypt: rotation). Unset: a key derived from SECRET_KEY by HKDF, so
# changing SECRET_KEY then makes stored credentials unreadable. Make one with
# `.venv/bin/python manage.py provider_key`.
CODA_PROVIDER_KEY = os.environ.get("CODA_PROVIDER_KEY", "")
# A provider call: each network wait (connect, send, read) and the whole answer are bounded by this.
CODA_PROVIDER_TIMEOUT_SECONDS = float(os.environ.get("CODA_PROVIDER_TIMEOUT_SECONDS", 20))
# Retries after a failed call (timeout, refused, 5xx, an answer that fails validation), before the
# stage falls back to its built-in engine; the wait before the n-th retry is BACKOFF * 2^(n-1).
CODA_PROVIDER_RETRIES = int(os.environ.get("CODA_PROVIDER_RETRIES", 2))
CODA_PROVIDER_BACKOFF_SECONDS = float(os.environ.get("CODA_PROVIDER_BACKOFF_SECONDS", 0.5))
# Health: the last WINDOW calls of a provider. It is unhealthy (skipped by the router) when its last
# FAILURE_STREAK calls all failed, or its success rate is under MIN_SUCCESS_RATE over at least
# FAILURE_STREAK calls; COOLDOWN seconds after its last call it is tried again.
CODA_PROVIDER_HEALTH_WINDOW = int(os.environ.get("CODA_PROVIDER_HEALTH_WINDOW", 20))
CODA_PROVIDER_MIN_SUCCESS_RATE = float(os.environ.get("CODA_PROVIDER_MIN_SUCCESS_RATE", 0.5))
CODA_PROVIDER_FAILURE_STREAK = int(os.environ.get("CODA_PROVIDER_FAILURE_STREAK", 3))
CODA_PROVIDER_COOLDOWN_SECONDS = float(os.environ.get("CODA_PROVIDER_COOLDOWN_SECONDS", 300))
# Calls kept in the log per provider (the admin shows them); older ones are deleted.
CODA_PROVIDER_CALL_LOG = int(os.environ.get("CODA_PROVIDER_CALL_LOG", 200))

# --- limits: query cost, rate limits, persisted queries, error masking (issue 6) ---
# Query cost (schema/security/cost.py: objects 1, scalars 0, lists x their page size or estimate,
# mutations +10): an operation over the maximum is refused before it runs. Page sizes (first/last)
# are at most CODA_MAX_PAGE_SIZE, which is also what a connection returns when neither is given.
CODA_MAX_QUERY_COST = int(os.environ.get("CODA_MAX_QUERY_COST", 1000))
CODA_MAX_PAGE_SIZE = int(os.environ.get("CODA_MAX_PAGE_SIZE", 100))
# A document longer than this is refused unparsed (comments and whitespace cost no tokens, but memory).
CODA_MAX_QUERY_CHARS = int(os.environ.get("CODA_MAX_QUERY_CHARS", 50_000))
# Variables: at most this many entries in any one list or object, and values in all (checked before
# graphql-core coerces them, which costs ~40 us per input object).
CODA_MAX_INPUT_ENTRIES = int(os.environ.get("CODA_MAX_INPUT_ENTRIES", 100))
CODA_MAX_INPUT_VALUES = int(os.environ.get("CODA_MAX_INPUT_VALUES", 2000))
# Rate limits: a token bucket of query cost per client (API token, else user, else address), as
# Shopify's: capacity points at most, restored at a rate per second. Signed-in callers, then anonymous.
CODA_RATE_LIMIT = env_bool("CODA_RATE_LIMIT", True)
CODA_RATE_LIMIT_CAPACITY = int(os.environ.get("CODA_RATE_LIMIT_CAPACITY", 1000))
CODA_RATE_LIMIT_RESTORE_RATE = float(os.environ.get("CODA_RATE_LIMIT_RESTORE_RATE", 50))
CODA_ANON_RATE_LIMIT_CAPACITY = int(os.environ.get("CODA_ANON_RATE_LIMIT_CAPACITY", 500))
CODA_ANON_RATE_LIMIT_RESTORE_RATE = float(os.environ.get("CODA_ANON_RATE_LIMIT_RESTORE_RATE", 25))
# Persisted queries: "apq" (Apollo's automatic persisted queries), "safelist" (only the operations in
# CODA_SAFELIST_FILE, an Apollo persisted-query manifest) or "off".
CODA_PERSISTED_QUERIES = os.environ.get("CODA_PERSISTED_QUERIES", "apq")
CODA_SAFELIST_FILE = os.environ.get("CODA_SAFELIST_FILE", str(BASE_DIR / "persisted-queries.json"))
CODA_PERSISTED_QUERIES_CACHE = "persisted-queries"
CODA_PERSISTED_QUERIES_TTL = int(os.environ.get("CODA_PERSISTED_QUERIES_TTL", 7 * 24 * 3600))
# Errors a client cannot act on leave as "Internal server error" (the original is logged).
CODA_MASK_ERRORS = env_bool("CODA_MASK_ERRORS", True)
CODA_INTROSPECTION = env_bool("CODA_INTROSPECTION", True)
# The APQ store: shared by every process in Redis, or in this process. ("default" stays Django's own.)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    CODA_PERSISTED_QUERIES_CACHE: (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "coda",
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "persisted-queries",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    ),
}
