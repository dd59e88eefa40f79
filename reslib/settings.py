"""ResLib settings: one module, configured only by RESLIB_* environment variables.

The defaults suit a laptop (SQLite in WAL mode, files under ./var, database task queue, console e-mail).
With RESLIB_DEBUG=0 the process refuses to start on unsafe values (the default secret key, wildcard hosts) and
without the site's public address (RESLIB_SITE_URL).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"RESLIB_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = env(name, "1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"RESLIB_{name} must be 0 or 1, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_site_url(name: str, default: str) -> str:
    raw = env(name, default).strip()
    parts = urlsplit(raw)
    if raw and (parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment):
        raise ImproperlyConfigured(f"RESLIB_{name} must be the site's public address such as "
                                   f"https://reslib.example.edu.cn, not {raw!r}")
    return raw.rstrip("/")


INSECURE_DEFAULT_SECRET_KEY = "reslib-insecure-development-key-do-not-use-in-production"

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
VAR_DIR = Path(env("VAR_DIR", str(PROJECT_DIR / "var")))
# E-mails and other texts read away from any request build their links from the site's public address.
RESLIB_SITE_URL = env_site_url("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")

if not DEBUG:
    if SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "RESLIB_DEBUG=0 needs RESLIB_SECRET_KEY set to a random value of at least 50 characters."
        )
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("RESLIB_ALLOWED_HOSTS must name the site's hosts in production, not '*'.")
    if not RESLIB_SITE_URL:
        raise ImproperlyConfigured(
            "RESLIB_DEBUG=0 needs RESLIB_SITE_URL, the site's public address (e.g. https://reslib.example.edu.cn): "
            "links in e-mails are built from it."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "axes",
    "reslib.core",
    # After reslib.core: its `db_worker` (django_tasks_db's worker plus a heartbeat) must win the command name.
    "django_tasks",
    "django_tasks_db",
    "reslib.accounts",
    "reslib.orgs",
    "reslib.libraries",
    "reslib.search",
    "reslib.resources",
    "reslib.catalogue",
    "reslib.demo",
    "reslib.notifications",
    "reslib.review",
    "reslib.questions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "reslib.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, which reads (and spools to disk) the multipart body of every POST.
    "reslib.core.middleware.MultipartGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "reslib.core.middleware.ErrorAnswersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "reslib.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reslib.urls"
WSGI_APPLICATION = "reslib.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reslib.core.context_processors.site",
                "reslib.notifications.context_processors.notifications",
                "reslib.review.context_processors.review",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'reslib.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0 if DEBUG else 60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the task worker read while the other writes; IMMEDIATE avoids
        # "database is locked" upgrades in the middle of a transaction. Memory-mapped reads let a fresh connection use
        # the OS page cache directly instead of copying pages into its own small cache (SQLite caps the size).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
                        "PRAGMA mmap_size=17179869184;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "reslib.accounts.password_validation.NotBlankPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "reslib.accounts.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Login throttling (django-axes): lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "reslib.accounts.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("LOGIN_THROTTLING", True)
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env_bool("BEHIND_PROXY", False) else ["REMOTE_ADDR"]
)

# --- Internationalisation ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Files ------------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
S3_BUCKET = env("S3_BUCKET", "")
if S3_BUCKET:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("S3_ENDPOINT_URL", "") or None,
            "access_key": env("S3_ACCESS_KEY", ""),
            "secret_key": env("S3_SECRET_KEY", ""),
            "region_name": env("S3_REGION", "") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Cache and sessions -----------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Background tasks -------------------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": env("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}
# A running task whose worker has sent no heartbeat for this long belongs to a dead worker (kill -9, crash, lost
# machine): it is put back in the queue, or marked failed once it has been started TASK_MAX_ATTEMPTS times.
RESLIB_TASK_STALE_MINUTES = float(env("TASK_STALE_MINUTES", "5"))
RESLIB_TASK_MAX_ATTEMPTS = int(env("TASK_MAX_ATTEMPTS", "3"))

# --- E-mail -----------------------------------------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(env("EMAIL_PORT", "587"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "ResLib <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ---------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; the cookie stays JS-readable
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every HTML page (reslib.core.middleware.ContentSecurityPolicyMiddleware). Scripts only from our own static files;
# styles may be inline (style attributes and the <style> blocks of several pages, htmx's indicator style). Files,
# posters, players and PDF frames are served by the site itself (also from S3: streamed through Django).
RESLIB_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)

# --- Logging ----------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- ResLib domain settings -------------------------------------------------------------------------------------
RESLIB_DEFAULT_BUILD_PERIOD_MONTHS = int(env("DEFAULT_BUILD_PERIOD_MONTHS", "12"))
# Debug mode answers a 404 with the site's own page like production does; 1 brings back Django's technical page
# (every route listed) for developers.
RESLIB_DEBUG_PAGES = env_bool("DEBUG_PAGES", False)
RESLIB_API_PAGE_SIZE = 50
# Uploads: bytes arrive in UPLOAD_TEMP_DIR (always local: tus appends to it), then move into the default storage.
RESLIB_UPLOAD_TEMP_DIR = Path(env("UPLOAD_TEMP_DIR", str(VAR_DIR / "uploads")))
RESLIB_MAX_UPLOAD_BYTES = int(env("MAX_UPLOAD_BYTES", str(4 * 1024**3)))
RESLIB_UPLOAD_EXPIRY_HOURS = int(env("UPLOAD_EXPIRY_HOURS", "24"))
# Per user: how many open uploads (unfinished, or finished but not yet added to a resource) and how many bytes of
# them (declared Upload-Length) at once, so that one account cannot fill the disk. Twice the largest upload by
# default: one at full size still fits when the limit of single uploads is raised.
RESLIB_MAX_OPEN_UPLOADS = int(env("MAX_OPEN_UPLOADS", "20"))
RESLIB_MAX_OPEN_UPLOAD_BYTES = int(env("MAX_OPEN_UPLOAD_BYTES", str(2 * RESLIB_MAX_UPLOAD_BYTES)))
RESLIB_SMALL_UPLOAD_BYTES = int(env("SMALL_UPLOAD_BYTES", str(50 * 1024**2)))
# clamd for virus scanning: "tcp://127.0.0.1:3310" or "unix:///run/clamav/clamd.ctl"; empty = not scanned.
RESLIB_CLAMD_URL = env("CLAMD_URL", "")
# nginx in front: file responses hand the transfer to nginx with X-Accel-Redirect under this internal prefix.
RESLIB_X_ACCEL_PREFIX = env("X_ACCEL_PREFIX", "")
RESLIB_LIBREOFFICE = env("LIBREOFFICE", "soffice")
# Machine pre-review reads at most this much extracted text per version, and skips files larger than this.
RESLIB_PREREVIEW_MAX_TEXT_BYTES = int(env("PREREVIEW_MAX_TEXT_BYTES", str(4 * 1024**2)))
RESLIB_PREREVIEW_MAX_FILE_BYTES = int(env("PREREVIEW_MAX_FILE_BYTES", str(200 * 1024**2)))
