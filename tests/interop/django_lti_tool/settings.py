"""Settings of the django-lti tool the interoperability test runs as its own server process:
a real separate tool (its own database and keys) built on django-lti and
django-lti-dynamic-registration, nothing of the portal's."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(os.environ["DJANGO_LTI_TOOL_DATA"])
SECRET_KEY = os.environ["DJANGO_LTI_TOOL_SECRET"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "lti_tool",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "lti_tool.middleware.LtiLaunchMiddleware",
]
ROOT_URLCONF = "tests.interop.django_lti_tool.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "tool.db"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
# Browsers keep cookies per host, not per port: the portal on 127.0.0.1 has "sessionid".
SESSION_COOKIE_NAME = "django_lti_tool_session"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES: list[dict[str, object]] = []
