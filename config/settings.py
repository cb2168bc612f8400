"""Tastebase settings, all from the environment.

With nothing set the app runs embedded: SQLite, media on local disk and a Celery
broker on the filesystem (no server). Set DATABASE_URL and CELERY_BROKER_URL for
PostgreSQL and Redis/RabbitMQ.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

import dj_database_url

from .env import env, env_bool, env_int, env_list
from .media import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the embedded mode writes (database, media, broker queue) lives here.
VAR_DIR = Path(env("TASTEBASE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
# The key this file once fell back to; it is public, so it must never sign anything.
_INSECURE_DEV_KEY = "dev-only-insecure-key-never-use-in-production"


def _install_secret_key(var_dir: Path) -> str:
    """This install's own random key, made once and kept under the var dir (mode 0600).

    `make run` needs no configuration, but a key everyone can read in the source would
    let anyone forge signed cookies on every instance. The web server and the worker
    may start at once: O_EXCL lets exactly one of them write the file, the other reads it.
    """
    path = var_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other process may be between open() and write()
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: remove it and start again.") from None
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


# Production sets DJANGO_SECRET_KEY (or _FILE), the same on every machine; with
# TASTEBASE_REQUIRE_SECRET or TASTEBASE_HTTPS the app refuses to start without it.
_SECRET_REQUIRED = env_bool("TASTEBASE_REQUIRE_SECRET", False) or env_bool("TASTEBASE_HTTPS", False)
SECRET_KEY = env("DJANGO_SECRET_KEY") or ""
if SECRET_KEY == _INSECURE_DEV_KEY:
    raise RuntimeError(
        "Set DJANGO_SECRET_KEY to a random key: the public development key signs nothing."
    )
if not SECRET_KEY:
    if _SECRET_REQUIRED and not DEBUG:
        raise RuntimeError("Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) in production.")
    SECRET_KEY = _install_secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",  # login lockout; see "Production hardening" below
    "csp",  # Content-Security-Policy on every page (django-csp); its checks catch old settings
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served locally, no CDN
    "moodboards",
    "taste",
    "generation",
    "api",
    "ops",
]

MIDDLEWARE = [
    "config.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pages get CONTENT_SECURITY_POLICY below; served files keep their own sandbox policy.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tastebase.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is shared by the web server and the worker process: wait for locks
    # instead of failing, and use WAL so readers never block the writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache every web and worker process shares: rate limits must count across
# processes. Embedded mode: files under var/; production: CACHE_URL=redis://…
_CACHE_URL = env("CACHE_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
    if _CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TZ_NAME", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "staticfiles")))

# Media is never served by a static handler: every image goes through a view that
# checks access, so MEDIA_URL is not public.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-public/"
STORAGES = {
    # Local disk (written atomically: a failed write leaves no half file), or an
    # S3-compatible bucket when TASTEBASE_S3_BUCKET is set (config/media.py).
    "default": media_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640

# --- REST API (api/) ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.TastebaseAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tastebase API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# "uploads" counts every upload request of a user, from the pages and the API alike.
TASTEBASE_API_RATES = {
    "token": env("TASTEBASE_API_RATE", "600/min"),
    "uploads": env("TASTEBASE_API_UPLOAD_RATE", "60/min"),
}

# --- Uploads -----------------------------------------------------------------
TASTEBASE_MAX_UPLOAD_BYTES = env_int("TASTEBASE_MAX_UPLOAD_BYTES", 40 * 1024 * 1024)
# Decompression bomb guard: images with more pixels than this are rejected.
TASTEBASE_MAX_IMAGE_PIXELS = env_int("TASTEBASE_MAX_IMAGE_PIXELS", 80_000_000)
TASTEBASE_MAX_ZIP_MEMBERS = env_int("TASTEBASE_MAX_ZIP_MEMBERS", 500)
TASTEBASE_MAX_ZIP_TOTAL_BYTES = env_int("TASTEBASE_MAX_ZIP_TOTAL_BYTES", 1024 * 1024 * 1024)
TASTEBASE_MAX_ZIP_RATIO = env_int("TASTEBASE_MAX_ZIP_RATIO", 200)
# Perceptual-hash distance (of 64 bits) under which two images count as the same picture
# (-1: only byte-identical files are duplicates).
TASTEBASE_PHASH_DUPLICATE_DISTANCE = env_int("TASTEBASE_PHASH_DUPLICATE_DISTANCE", 4)
TASTEBASE_THUMBNAIL_SIZE = env_int("TASTEBASE_THUMBNAIL_SIZE", 480)
TASTEBASE_DISPLAY_MAX_SIZE = env_int("TASTEBASE_DISPLAY_MAX_SIZE", 3072)
# Add by URL (moodboards/url_import.py): the server fetches the image. Private, loopback
# and link-local addresses are refused unless this is on (an intranet image server).
TASTEBASE_URL_IMPORT_ALLOW_PRIVATE = env_bool("TASTEBASE_URL_IMPORT_ALLOW_PRIVATE", False)
TASTEBASE_URL_IMPORT_TIMEOUT = env_int("TASTEBASE_URL_IMPORT_TIMEOUT", 15)  # seconds, whole fetch
# Django's own request caps must not cut an upload before our validation sees it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("TASTEBASE_MAX_FILES_PER_REQUEST", 200)
# Django's default of 1000 form fields let one POST /generate/ name 1000 images (~11 GB
# read); no form of ours has more than ~100 fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("TASTEBASE_MAX_FORM_FIELDS", 300)
# Pixels one upload request may decode, summed over its files and ZIP members (read
# from their headers before any decoding): ~5 s of CPU here. Files past the budget are
# rejected with the reason; the next request has a new budget.
TASTEBASE_MAX_REQUEST_PIXELS = env_int("TASTEBASE_MAX_REQUEST_PIXELS", 400_000_000)
# JSON bodies of the pages' own calls (reorder, preview): size and nesting depth.
TASTEBASE_MAX_JSON_BYTES = env_int("TASTEBASE_MAX_JSON_BYTES", 512 * 1024)
TASTEBASE_MAX_JSON_DEPTH = env_int("TASTEBASE_MAX_JSON_DEPTH", 16)

# --- Celery --------------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# The database row is the result: no result backend to run or to lose.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged only when it finished, so a killed worker's task is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Heavy ML work (embedding, generation) has its own queue so it never starves
# thumbnails, and GPU machines can consume only it. A queue is only as separate as the
# workers that consume it: `make run` (bin/run) starts one worker for `default` and
# another for `ml,diffusion`, so a thumbnail never waits behind an upscale.
CELERY_TASK_ROUTES = {
    "taste.tasks.*": {"queue": "ml"},
    # Diffusion wants a GPU: its own queue, so only GPU workers need to consume it.
    "generation.tasks.run_diffusion_generation": {"queue": "diffusion"},
    "generation.tasks.*": {"queue": "ml"},
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Fair share of the heavy workers (generation/scheduling.py): at most this many of one
# user's (and one team's) generations run at once; the rest wait, shown as "queued
# behind your other N jobs", and a freed slot goes to whoever started work least recently.
TASTEBASE_HEAVY_JOBS_PER_USER = env_int("TASTEBASE_HEAVY_JOBS_PER_USER", 1)
TASTEBASE_HEAVY_JOBS_PER_TEAM = env_int("TASTEBASE_HEAVY_JOBS_PER_TEAM", 2)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Leases on background work (config/leases.py): a running task renews its lease every
# quarter of TASTEBASE_LEASE_SECONDS; a sweeper in every worker re-sends work whose
# lease ran out (killed worker), whose message never reached the broker (it was down),
# or that waited in the queue longer than TASTEBASE_RESEND_QUEUED_AFTER (a broker that
# restarted without persistence).
TASTEBASE_LEASE_SECONDS = env_int("TASTEBASE_LEASE_SECONDS", 120)
TASTEBASE_SWEEP_SECONDS = env_int("TASTEBASE_SWEEP_SECONDS", 30)
TASTEBASE_RESEND_QUEUED_AFTER = env_int("TASTEBASE_RESEND_QUEUED_AFTER", 900)
# Don't let a web request hang on a broker that is down: fail fast, the sweeper sends
# the task once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failed logins and lockouts are warnings; every success need not be logged.
        "axes": {"level": "WARNING"},
    },
}

# --- Production hardening: on whenever DEBUG is off ---------------------------------
# What each setting does and what the proxy in front must do: docs/security.md.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the page's fetch() calls read it, as Django documents
# Lax (Django's default, stated here because the docs promise it): cookies don't ride
# along on cross-site POSTs, but a link from elsewhere still opens you logged in.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS: list[str] = []
if not DEBUG and env_bool("TASTEBASE_HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload flag only asks for a place on the browsers' built-in HTTPS list; the
    # domain is listed once someone submits it at hstspreload.org. On by default so
    # `check --deploy` is clean; DJANGO_HSTS_PRELOAD=0 is an explicit opt-out (e.g. a
    # parent domain with http-only subdomains), and then its warning is silenced.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    # The TLS proxy must set this header itself and drop any value a client sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy for our pages (django-csp). Every script is a static file: no
# inline script or event handler may run, and nothing loads from another origin. Style
# *attributes* stay allowed (palette swatches and bars are sized and coloured with
# them); <style> elements and other origins' sheets are not. blob: images are the
# Generate page's live preview. The API docs relax this for themselves (api/views/pages.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# `Server-Timing: app;dur=…` tells how long Django spent; that also tells a stranger
# whether an object they can't see exists (a 404 for a hidden board took longer than
# one for a missing board). Off unless an operator or a load run asks for it.
TASTEBASE_SERVER_TIMING = env_bool("TASTEBASE_SERVER_TIMING", False)

# Login lockout (django-axes): after TASTEBASE_LOGIN_FAILURE_LIMIT wrong passwords for
# one username from one address, that pair is locked for TASTEBASE_LOGIN_LOCKOUT_MINUTES
# (a new failure while locked starts the wait again). Keyed on the pair, not the user
# alone, so a guesser can't lock the real user out from her own address, and a shared
# office address doesn't lock colleagues out. Lift a lock: manage.py axes_reset_username.
AXES_FAILURE_LIMIT = env_int("TASTEBASE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TASTEBASE_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Behind a reverse proxy, REMOTE_ADDR is the proxy: set TASTEBASE_TRUSTED_PROXIES to
# the number of proxies in front of the app so the client's address is read from
# X-Forwarded-For (config/client_ip.py). Left at 0, X-Forwarded-For is ignored: a
# client can write anything there.
TASTEBASE_TRUSTED_PROXIES = env_int("TASTEBASE_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

# --- Models and generation: every model-related variable is read here, once ----------
# The weights registry `manage.py register_weights` writes (config/weights_registry.py).
TASTEBASE_WEIGHTS_REGISTRY = Path(env("TASTEBASE_WEIGHTS_REGISTRY") or VAR_DIR / "weights.json")
# The OpenCLIP encoder: a local checkpoint file (else the registry's), and its model.
TASTEBASE_OPENCLIP_CHECKPOINT = env("TASTEBASE_OPENCLIP_CHECKPOINT") or None
TASTEBASE_OPENCLIP_MODEL = env("TASTEBASE_OPENCLIP_MODEL") or "ViT-H-14"
# Embed each upload once it is processed (a task on the ml queue), so Analyze Board and
# search find the board already measured: a 10,000-image board then analyses in seconds
# instead of spending ~2 minutes embedding. Off: images are embedded when first needed.
TASTEBASE_EMBED_ON_UPLOAD = env_bool("TASTEBASE_EMBED_ON_UPLOAD", True)
# Images embedded between two progress updates (and embedding-cache writes).
TASTEBASE_EMBED_BATCH = env_int("TASTEBASE_EMBED_BATCH", 16)
# Long side of stylize outputs; larger contents are scaled down to this first.
TASTEBASE_GENERATE_MAX_SIDE = env_int("TASTEBASE_GENERATE_MAX_SIDE", 4096)
# Upscale ×4 costs ~135 us per input pixel on 2 cores: at most this many pixels per
# image (2 MP: ~4.5 min) and per job, so one click can't hold a worker for an hour.
TASTEBASE_UPSCALE_MAX_PIXELS = env_int("TASTEBASE_UPSCALE_MAX_PIXELS", 2_000_000)
TASTEBASE_UPSCALE_MAX_JOB_PIXELS = env_int("TASTEBASE_UPSCALE_MAX_JOB_PIXELS", 4_000_000)
# Pixels of content images one Generate request may decode (16 × 4096² would be 1 GB).
TASTEBASE_GENERATE_MAX_REQUEST_PIXELS = env_int("TASTEBASE_GENERATE_MAX_REQUEST_PIXELS", 64_000_000)
# Diffusion (generation/weights.py): a local diffusers folder and IP-Adapter (else the
# registry's), the model family (else read from the folder), device and precision.
TASTEBASE_DIFFUSION_MODEL_DIR = env("TASTEBASE_DIFFUSION_MODEL_DIR") or None
TASTEBASE_IP_ADAPTER_PATH = env("TASTEBASE_IP_ADAPTER_PATH") or None
TASTEBASE_DIFFUSION_FAMILY = env("TASTEBASE_DIFFUSION_FAMILY") or None
TASTEBASE_DIFFUSION_DEVICE = env("TASTEBASE_DIFFUSION_DEVICE") or "cpu"
TASTEBASE_DIFFUSION_DTYPE = env("TASTEBASE_DIFFUSION_DTYPE") or "fp32"
# Diffusion: steps and image side; unset means the model family's defaults.
TASTEBASE_DIFFUSION_STEPS = env_int("TASTEBASE_DIFFUSION_STEPS", 0) or None
TASTEBASE_DIFFUSION_SIZE = env_int("TASTEBASE_DIFFUSION_SIZE", 0) or None
