"""Secrets kept in the database encrypted (Fernet): platform private keys, LRS passwords, …

Every secret has a ``purpose`` (``b"lrs-password-at-rest"``), and every key used for it is a
subkey derived for that purpose (HKDF), so that a secret of one kind never decrypts as another.

- ``MANABI_KEY_ENCRYPTION_KEYS`` (``settings.LTI_KEY_ENCRYPTION_KEYS``) lists Fernet keys: the
  subkey of the first encrypts, those of all decrypt (rotation: add the new key first).
- Without the list, the subkey of ``SECRET_KEY`` encrypts. It also decrypts when a list is set,
  as a last fallback, so that the list can be introduced after secrets were stored; so do the
  subkeys of ``SECRET_KEY_FALLBACKS``.
- Tokens made before per-purpose subkeys of listed keys existed (the listed key itself
  encrypted every kind) still decrypt, with the listed keys themselves.

``manage.py reencrypt_secrets`` (``dbtools.reencrypt``) puts every stored secret under the
encrypting key, after which an old key can be removed from the list.
"""

from __future__ import annotations

import base64
import enum
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "KeyState", "decrypt", "encrypt", "key_state", "reencrypt"]

_SECRET_KEY_SALT = b"manabi-hub"
_LISTED_KEY_SALT = b"manabi-hub/listed-key"


def _subkey(material: bytes, *, salt: bytes, purpose: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


@functools.lru_cache(maxsize=64)
def _ring(
    listed: tuple[str, ...], secret_keys: tuple[str, ...], purpose: bytes
) -> tuple[Fernet, MultiFernet]:
    """The encrypting key of ``purpose`` and every key that decrypts it, in the order tried."""
    from_secret_keys = [
        _subkey(k.encode(), salt=_SECRET_KEY_SALT, purpose=purpose) for k in secret_keys
    ]
    legacy = [Fernet(k.encode()) for k in listed]  # also refuses a malformed key
    # A listed key is itself a Fernet key: its 32 bytes are the HKDF input.
    from_listed = [
        _subkey(base64.urlsafe_b64decode(k), salt=_LISTED_KEY_SALT, purpose=purpose) for k in listed
    ]
    keys = [*from_listed, *legacy, *from_secret_keys]
    return keys[0], MultiFernet(keys)


def _keys(purpose: bytes) -> tuple[Fernet, MultiFernet]:
    listed = tuple(k.strip() for k in settings.LTI_KEY_ENCRYPTION_KEYS if k.strip())
    secret_keys = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()))
    return _ring(listed, tuple(secret_keys), purpose)


def encrypt(data: bytes, *, purpose: bytes) -> bytes:
    """Encrypt ``data`` with the encrypting key of ``purpose``."""
    return _keys(purpose)[0].encrypt(data)


def decrypt(token: bytes | memoryview, *, purpose: bytes) -> bytes:
    """Decrypt ``token`` with any key of ``purpose``; raise ``InvalidToken`` if none does."""
    return _keys(purpose)[1].decrypt(bytes(token))


class KeyState(enum.Enum):
    """Which key a stored token is under."""

    CURRENT = "current"  # the encrypting key
    OLD = "old"  # another key of the purpose: re-encrypt it before removing that key
    UNREADABLE = "unreadable"  # no key of the purpose (another purpose, a removed key, garbage)


def key_state(token: bytes | memoryview, *, purpose: bytes) -> KeyState:
    first, ring = _keys(purpose)
    token = bytes(token)
    try:
        first.decrypt(token)
    except InvalidToken:
        pass
    else:
        return KeyState.CURRENT
    try:
        ring.decrypt(token)
    except InvalidToken:
        return KeyState.UNREADABLE
    return KeyState.OLD


def reencrypt(token: bytes | memoryview, *, purpose: bytes) -> bytes:
    """The same secret under the encrypting key (Fernet's timestamp kept); ``InvalidToken``
    if no key of ``purpose`` decrypts it."""
    return _keys(purpose)[1].rotate(bytes(token))
