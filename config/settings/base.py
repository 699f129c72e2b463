"""Settings for Manabi Hub (embedded mode by default).

Everything that differs between machines comes from environment variables, documented in
README.md. Nothing here reads the database or the network.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import datadir

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Private from the start: the directory 0700, generated secrets and the database 0600.
DATA_DIR = datadir.private_dir(Path(os.environ.get("MANABI_DATA_DIR", BASE_DIR / "var")))


def _persistent_value(name: str, make: str) -> str:
    """Return a per-installation value kept in DATA_DIR, creating it once."""
    return datadir.persistent_value(DATA_DIR / name, make)


SECRET_KEY = os.environ.get("MANABI_SECRET_KEY") or _persistent_value(
    "secret_key", secrets.token_urlsafe(50)
)
DEBUG = os.environ.get("MANABI_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("MANABI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "config.apps.OperatorAdminConfig",  # django.contrib.admin for platform operators only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",  # staff MFA: TOTP, WebAuthn passkeys, recovery codes (sso/mfa_policy.py)
    "allauth.socialaccount",  # upstream sign-in: sso.models.IdentityProvider per org
    "allauth.socialaccount.providers.openid_connect",  # OIDC, Google and Entra ID kinds
    "allauth.socialaccount.providers.saml",  # SAML 2.0 kind (sso/saml.py, python3-saml)
    "roster",
    "tools_registry",
    "lti_platform",
    "assignments",
    "studylog",
    "audit",
    "portal",
    "sso",
    "allauth.idp.oidc",  # the portal as an OIDC provider for non-LTI tools (oidc_clients)
    "oidc_clients",  # boards' OIDC clients: who may sign in, which claims (docs/oidc-provider.md)
    "signin_cards",  # QR sign-in cards for children (docs/sign-in.md)
    "events",
    "demo_tools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # after WhiteNoise: static files need no policy
    "sso.signin_buttons.FormActionMiddleware",  # after CSP's: the IdPs of a page's buttons
    "config.middleware.NoStoreMiddleware",  # personal pages and /lti/ services: no-store
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sso.idle.IdleTimeoutMiddleware",  # per-role idle timeout (after authentication)
    "portal.age.ScreenStyleMiddleware",  # kana for P1–P3, a clean tablet after sign-out
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "sso.mfa_middleware.MfaRequiredMiddleware",  # administrators: enrolled and MFA-passed
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": datadir.sqlite_database(
            os.environ.get("MANABI_SQLITE_PATH", str(DATA_DIR / "manabi.sqlite3"))
        ),
        "OPTIONS": {
            # WAL lets readers and one writer work at once across worker processes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Seconds a request waits for a locked database in all (the writer queue counts
            # against it, dbtools/busy.py), then answers 503 with Retry-After.
            "timeout": float(os.environ.get("MANABI_DB_BUSY_TIMEOUT", "5")),
            "transaction_mode": "IMMEDIATE",
        },
        # Persistent connections save ~0.8 ms per request under WSGI workers (gunicorn sets
        # MANABI_CONN_MAX_AGE). Under ASGI every request runs in its own thread, so keep 0.
        "CONN_MAX_AGE": int(os.environ.get("MANABI_CONN_MAX_AGE", "0")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "roster.User"

AUTHENTICATION_BACKENDS = [  # Django's and allauth's, the per-request user load in plain SQL
    "sso.auth_backends.RosterModelBackend",
    "sso.auth_backends.RosterAccountBackend",
]
# Django's hashers for people's passwords (the first hashes), then the one OIDC client secrets
# (256 random bits) are stored with, which never hashes a password (oidc_clients/hashers.py).
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "oidc_clients.hashers.ClientSecretHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# The shared cache (sign-in counters, tools' JWKS): a table in the database (created by sso's
# migration), so every worker process counts together and the counters survive a restart;
# Redis when MANABI_REDIS_URL is set (scale-out; needs the `redis` package).
if not os.environ.get("MANABI_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "manabi_cache",
            # Past MAX_ENTRIES the cache culls live entries, sign-in counters included: keep
            # it far above what a day of sign-ins writes, so that only expired ones go.
            "OPTIONS": {"MAX_ENTRIES": 1_000_000},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["MANABI_REDIS_URL"],
        }
    }
SESSION_ENGINE = "sso.sessions"  # db sessions, hot-path load in plain SQL
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
# Idle timeouts per role, in seconds (sso/idle.py): short for students on shared devices.
SESSION_IDLE_TIMEOUT_STUDENT = int(os.environ.get("MANABI_IDLE_TIMEOUT_STUDENT", "1800"))
SESSION_IDLE_TIMEOUT_STAFF = int(os.environ.get("MANABI_IDLE_TIMEOUT_STAFF", "14400"))
# The deadline is rewritten once it has fallen this far behind (None: a tenth of the timeout,
# 3 minutes for students): one session write per few minutes of use, not per launch.
SESSION_IDLE_REFRESH_SECONDS: float | None = None
# How often an open websocket re-checks its session and its viewer's access (portal/sockets.py).
SOCKET_RECHECK_SECONDS = float(os.environ.get("MANABI_SOCKET_RECHECK_SECONDS", "5"))

LANGUAGE_CODE = "ja"
# "ja-hira": Japanese with furigana, the kana screen style of portal/age.py (locale ja_Hira).
LANGUAGES = [("ja", _("日本語")), ("ja-hira", _("ふりがな")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves static files from the WSGI workers (no separate web server in the demo).
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: local accounts only for now; accounts come from the roster, no sign-up.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_ADAPTER = "sso.adapter.RosterAccountAdapter"
# No "remember me" box: the idle timeout per role decides how long a session lasts (sso/idle.py).
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
# Password reset is by e-mail, so only for accounts with an address (staff); students ask
# their teacher (templates/account/password_reset.html). No mail to addresses nobody has.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Upstream sign-in (docs/sign-in.md): identity providers per board or school, configured in
# the portal (sso.models.IdentityProvider on allauth's SocialApp), matched to roster users
# only (sso/matching.py): no sign-up, no sign-in by e-mail alone, no upstream tokens kept.
SOCIALACCOUNT_ADAPTER = "sso.adapter.RosterSocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}

# Staff MFA (allauth.mfa; who must or may use it: sso/mfa_policy.py, docs/security.md).
# Administrators must enrol before any other page answers; teachers may; students never.
MFA_ADAPTER = "sso.mfa_adapter.PortalMFAAdapter"
# The code forms say a lockout in staff wording (only staff reach MFA; sso/mfa_forms.py).
MFA_FORMS = {
    "authenticate": "sso.mfa_forms.StaffAuthenticateForm",
    "reauthenticate": "sso.mfa_forms.StaffReauthenticateForm",
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "Manabi Hub"
# One step either side of now (30 s): a phone whose clock is a little off still signs in. A
# code is accepted once (allauth marks it used in the shared cache for the whole window).
MFA_TOTP_TOLERANCE = 1
MFA_RECOVERY_CODES_SHOW_ONCE = True  # shown once (and downloadable then, sso/mfa_views.py)
MFA_PASSKEY_LOGIN_ENABLED = False  # passkeys are a second factor after the password
MFA_WEBAUTHN_USER_VERIFICATION = "preferred"
# WebAuthn over http only for a loopback issuer (the demo and the tests); https otherwise.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = urlsplit(
    os.environ.get("MANABI_LTI_ISSUER", "http://127.0.0.1:8000")
).hostname in {"127.0.0.1", "localhost", "::1"}

# Mail (password reset links): SMTP when MANABI_EMAIL_HOST is set; otherwise each mail is
# written to a file in DATA_DIR/mail (the demo: never a 500 for want of a mail server, and no
# reset link in the server log). A failed send is a page saying so (sso/adapter.py).
if os.environ.get("MANABI_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["MANABI_EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("MANABI_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("MANABI_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("MANABI_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("MANABI_EMAIL_TLS", "1") == "1"  # STARTTLS
    EMAIL_TIMEOUT = 10  # seconds: a mail server that does not answer is a failed send
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("MANABI_EMAIL_FROM", "manabi-hub@localhost")

# Sign-in throttling (sso/throttling.py, docs/security.md), counted in the shared cache. Rates
# are "amount/period" (periods s, m, h, d; "5/5m"), or "off"; checked by sso.E001. Failed
# sign-ins per account (allauth's counter) refuse the account, even with the right password,
# until the oldest failure leaves the window; nobody else. Per address only limits sized for a
# school of ~1,000 behind one NAT: raise them for a board-wide NAT.
_FAILED_PER_ACCOUNT = os.environ.get("MANABI_LOGIN_FAILED_PER_ACCOUNT", "5/5m").strip()
ACCOUNT_RATE_LIMITS = {
    "login": "",  # per address: SSO_LOGIN_PER_ADDRESS, without allauth's per-key lock
    "login_failed": "" if _FAILED_PER_ACCOUNT == "off" else f"{_FAILED_PER_ACCOUNT}/key",
}
SSO_LOGIN_PER_ADDRESS = os.environ.get("MANABI_LOGIN_PER_IP", "1000/m").strip()
SSO_LOGIN_FAILED_PER_ADDRESS = os.environ.get("MANABI_LOGIN_FAILED_PER_IP", "300/m").strip()
# Wrong QR sign-in cards (unknown, revoked, staff) from one address (signin_cards): counted
# apart from passwords; a right card is counted nowhere (its secret cannot be guessed).
SSO_CARD_FAILED_PER_ADDRESS = os.environ.get("MANABI_CARD_FAILED_PER_IP", "60/m").strip()
# The address counted is the connection's; behind N proxies that append to X-Forwarded-For
# (gunicorn behind nginx), the Nth from the right. Else every sign-in counts for the proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("MANABI_TRUSTED_PROXY_COUNT", "0"))

# Embedded mode (scripts/serve.sh, config/request_timeout.py): a request's line, headers and
# body must arrive within this many seconds of the connection (or of the request's first
# byte on a kept-alive one); else 408 and the connection is closed. 0 turns it off.
REQUEST_TIMEOUT_SECONDS = float(os.environ.get("MANABI_REQUEST_TIMEOUT", "30"))

# --- the OIDC provider for non-LTI tools (oidc_clients, docs/oidc-provider.md) --------------
# allauth's provider (allauth.idp.oidc) under the issuer LTI_ISSUER + "/oidc", with its own
# discovery document at /oidc/.well-known/openid-configuration; the adapter answers issuer,
# claims, pairwise subjects and the signing keys (the platform's key ring).
IDP_OIDC_ADAPTER = "oidc_clients.adapter.PortalOIDCAdapter"
IDP_OIDC_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # confidential only
IDP_OIDC_ID_TOKEN_EXPIRES_IN = 300
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = 600  # the tool reads UserInfo right after sign-in
IDP_OIDC_AUTHORIZATION_CODE_EXPIRES_IN = 60

# --- LTI platform ---------------------------------------------------------------------------
# The issuer is the platform's public base URL (no trailing slash).
LTI_ISSUER = os.environ.get("MANABI_LTI_ISSUER", "http://127.0.0.1:8000")
# Websocket handshakes are accepted only from the issuer's origin and these (exact scheme, host
# and port, e.g. "https://portal.example.jp:8443"; portal/origin.py).
WEBSOCKET_ALLOWED_ORIGINS = [
    o.strip() for o in os.environ.get("MANABI_ALLOWED_ORIGINS", "").split(",") if o.strip()
]
LTI_PLATFORM_GUID = os.environ.get("MANABI_PLATFORM_GUID") or _persistent_value(
    "platform_guid", str(uuid.uuid4())
)
LTI_PLATFORM_NAME = os.environ.get("MANABI_PLATFORM_NAME", "Manabi Hub")
LTI_PLATFORM_CONTACT_EMAIL = os.environ.get("MANABI_CONTACT_EMAIL", "lti-admin@example.jp")
# Keys that encrypt the platform's private signing keys at rest (Fernet, base64). The first
# encrypts, all decrypt, so the key can be rotated. Default: derived from SECRET_KEY.
LTI_KEY_ENCRYPTION_KEYS = [
    k for k in os.environ.get("MANABI_KEY_ENCRYPTION_KEYS", "").split(",") if k.strip()
]
LTI_ID_TOKEN_LIFETIME = 600  # seconds; minutes, not seconds, so slow tablets still make it
LTI_MESSAGE_HINT_LIFETIME = 300
LTI_JWKS_MAX_AGE = 300  # Cache-Control max-age of the JWKS document
# A tool's JWKS is refetched for an unknown kid at most once per this many seconds per
# registration (tools_registry/tool_keys.py): a client_id is no licence to make us fetch.
LTI_JWKS_REFETCH_SECONDS = float(os.environ.get("MANABI_JWKS_REFETCH_SECONDS", "60"))
LTI_RETIRED_KEY_GRACE = 7 * 24 * 3600  # retired keys stay published this long
# Refused launches, token requests and service calls are kept this many days for the vendors'
# and boards' diagnostics pages (lti_platform/diagnostics.py).
LTI_DIAGNOSTICS_RETENTION_DAYS = int(os.environ.get("MANABI_DIAGNOSTICS_RETENTION_DAYS", "30"))
LTI_KEY_REFRESH_SECONDS = 30  # how often a worker re-reads the key table
# Registrations, placements, classes, line items and token rows are cached per worker process
# at most this long; a database generation counter (bumped by triggers on every write to those
# tables) empties every process's cache at its next request (docs/architecture.md). 0 turns
# the cache off.
LTI_CONFIG_CACHE_SECONDS = float(os.environ.get("MANABI_CONFIG_CACHE_SECONDS", "10"))

# --- transport: https, cookies, HSTS, Content-Security-Policy (README "Production") -------
# An https issuer means production behind TLS: Secure cookies, the https redirect and HSTS are
# on unless an environment variable says otherwise; the http demo keeps them off.
_HTTPS = LTI_ISSUER.startswith("https://")


def _env_flag(name: str, default: bool) -> bool:
    """Return the 0/1 environment flag ``name`` (``default`` when unset)."""
    value = os.environ.get(name, "").strip()
    if value not in {"", "0", "1"}:
        raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}")
    return default if value == "" else value == "1"


# URLs that vendors give (tools' JWKS, tools_registry/fetching.py) are refused when their host
# resolves to a loopback, private, link-local (cloud metadata) or other non-global address,
# unless this is on; on by default only with a loopback issuer (the demo, whose tools run on
# 127.0.0.1).
LTI_FETCH_PRIVATE_ADDRESSES = _env_flag(
    "MANABI_FETCH_PRIVATE_ADDRESSES",
    urlsplit(LTI_ISSUER).hostname in {"127.0.0.1", "localhost", "::1"},
)
SECURE_SSL_REDIRECT = _env_flag("MANABI_SSL_REDIRECT", _HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_flag("MANABI_SECURE_COOKIES", _HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("MANABI_HSTS_SECONDS") or (31_536_000 if _HTTPS else 0))
# Both reach beyond this host (every subdomain; browsers' built-in lists): opt in explicitly.
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("MANABI_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_flag("MANABI_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: the header it sets to "https" (e.g. X-Forwarded-Proto). Only
# set it when the proxy always sets or strips that header, or clients could claim https.
if _proxy_header := os.environ.get("MANABI_PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
# django-csp: scripts and styles only from our static files or with the per-response nonce;
# no 'unsafe-inline'. The launch form to a tool drops form-action (Chromium would refuse the
# tool's redirects to its other origins; lti_platform.rendering.form_post). Tools open in their
# own window; nothing frames us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "connect-src": [SELF],  # the gradebook's websocket (same host)
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": _HTTPS,
        "report-uri": os.environ.get("MANABI_CSP_REPORT_URI") or None,
    }
}

# Channels: the embedded mode runs one ASGI process, so the in-memory layer reaches every
# websocket. Several processes need a shared layer (Redis), see README "Scale-out".
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- events: the transactional outbox (events/, docs/architecture.md "Events and the outbox") --
# Who receives which event kinds, and how: "once" (claimed; one relay in any process handles
# each event) or "each_process" (every serving process delivers to its own websockets). With
# a shared channel layer (Redis, scale-out) the gradebook push becomes "once".
EVENT_SUBSCRIBERS = [
    {
        "name": "gradebook-push",
        "handler": "portal.gradebook.publish_score",
        "kinds": ["score.recorded"],
        "delivery": "each_process",
    },
    {  # xAPI statements, written in the event's own transaction (studylog/capture.py)
        "name": "xapi-capture",
        "handler": "studylog.capture.capture",
        "kinds": ["launch.made", "score.recorded", "assignment.created"],
        "delivery": "in_transaction",
    },
    {  # a signed-out session's websockets close, in every process; "once" with a shared layer
        "name": "socket-close",
        "handler": "portal.sockets.close_session_sockets",
        "kinds": ["session.ended"],
        "delivery": "each_process",
    },
]
EVENT_RELAY_POLL_SECONDS = 0.25  # how soon a relay sees events of other processes
EVENT_RETENTION_SECONDS = 7 * 24 * 3600  # then pruned, once every "once" subscriber has them
# What a serving process's relay delivers: "all", "each_process" (leave "once" subscribers to
# `manage.py run_event_relay` workers) or "off". Other knobs: events/conf.py.
EVENT_SERVER_RELAY = "all"

# --- xAPI forwarding (studylog/forwarder.py; defaults and meaning in studylog/conf.py) -------
XAPI_FORWARD_POLL_SECONDS = float(os.environ.get("MANABI_XAPI_FORWARD_POLL_SECONDS", "0.5"))
XAPI_FORWARD_LEASE_SECONDS = float(os.environ.get("MANABI_XAPI_FORWARD_LEASE_SECONDS", "300"))
XAPI_RETRY_SECONDS = float(os.environ.get("MANABI_XAPI_RETRY_SECONDS", "1"))
XAPI_RETRY_MAX_SECONDS = float(os.environ.get("MANABI_XAPI_RETRY_MAX_SECONDS", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django attaches the request (headers, cookies, body) to its records: drop it, so that no
    # handler or formatter writes a password, a cookie or a client assertion (config/logfilters.py).
    "filters": {
        "redact_request": {"()": "config.logfilters.RedactRequest"},
        "security_as_warning": {"()": "config.logfilters.SecurityEventAsWarning"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_request", "security_as_warning"],
        },
    },
    "loggers": {
        "manabi": {"handlers": ["console"], "level": os.environ.get("MANABI_LOG_LEVEL", "INFO")},
        # Unexpected errors with their tracebacks (django.request, "Internal Server Error:
        # <path>") and security events (django.security); Django's default prints them only
        # with DEBUG. 4xx answers are warnings: not logged unless DEBUG.
        "django": {"handlers": ["console"], "level": "INFO" if DEBUG else "ERROR"},
        "django.request": {"filters": ["redact_request"]},
    },
}
