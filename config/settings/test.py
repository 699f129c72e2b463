"""Test overlay: fast hashing, an in-memory database, fixed secrets."""

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["NAME"] = ":memory:"
DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}
LTI_PLATFORM_GUID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
LTI_ISSUER = "http://testserver"
LTI_KEY_REFRESH_SECONDS = 0
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
