"""Secrets kept in the database encrypted (Fernet): platform private keys, LRS passwords.

``MANABI_KEY_ENCRYPTION_KEYS`` (``settings.LTI_KEY_ENCRYPTION_KEYS``) lists Fernet keys: the
first encrypts, all decrypt (rotation). Without it a key is derived from ``SECRET_KEY`` with
HKDF, one per ``purpose``, so that a secret of one kind never decrypts as another.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet(purpose: bytes) -> MultiFernet:
    configured: list[str] = list(settings.LTI_KEY_ENCRYPTION_KEYS)
    if configured:
        return MultiFernet([Fernet(k.strip().encode()) for k in configured])
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"manabi-hub", info=purpose).derive(
        settings.SECRET_KEY.encode()
    )
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def encrypt(data: bytes, *, purpose: bytes) -> bytes:
    return _fernet(purpose).encrypt(data)


def decrypt(token: bytes | memoryview, *, purpose: bytes) -> bytes:
    return _fernet(purpose).decrypt(bytes(token))
