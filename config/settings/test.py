"""Test overlay: fast hashing, a throw-away database file, fixed secrets."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import DATABASES

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "oidc_clients.hashers.ClientSecretHasher",  # as in base: OIDC client secrets
]
# A file database, as in production: shared-cache in-memory SQLite does not enforce
# uniqueness between concurrent connections the way a real database file does, and the
# one-time stores are tested under concurrency.
DATABASES["default"]["TEST"] = {
    "NAME": os.path.join(tempfile.gettempdir(), f"manabi-test-{os.getpid()}.sqlite3")
}
LTI_PLATFORM_GUID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
LTI_ISSUER = "http://testserver"
LTI_FETCH_PRIVATE_ADDRESSES = True  # the tests' tools run on 127.0.0.1, like the demo's
LTI_KEY_REFRESH_SECONDS = 0
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# One process: the per-process cache, which tests/conftest.py empties before every test, with
# or without database access. The database cache (base) is tested in tests/sso and by the
# server processes of tests/multiprocess.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
