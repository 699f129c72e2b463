"""Platform signing keys: encryption at rest, the per-process key ring, rotation."""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dbtools import at_rest
from dbtools.reencrypt import EncryptedBytes

from .models import KeyStatus, PlatformKey
from .protocol import jose


class NoSigningKeyError(Exception):
    """There is no active platform signing key (run ``manage.py rotate_signing_keys``)."""


_PURPOSE = b"platform-key-at-rest"
# Declared to ``manage.py reencrypt_secrets`` by LtiPlatformConfig.encrypted_fields.
PRIVATE_KEYS = EncryptedBytes("lti_platform.PlatformKey", "private_key_encrypted", purpose=_PURPOSE)


def encrypt_private_key(pem: bytes) -> bytes:
    return at_rest.encrypt(pem, purpose=_PURPOSE)


def decrypt_private_key(token: bytes | memoryview) -> bytes:
    return at_rest.decrypt(token, purpose=_PURPOSE)


def create_key(status: str, *, now: datetime.datetime | None = None) -> PlatformKey:
    private = jose.generate_private_key()
    jwk = jose.public_jwk(private.public_key())
    now = now or timezone.now()
    return PlatformKey.objects.create(
        kid=jwk["kid"],
        status=status,
        private_key_encrypted=encrypt_private_key(jose.private_key_to_pem(private)),
        public_jwk=jwk,
        created_at=now,
        activated_at=now if status == KeyStatus.ACTIVE else None,
    )


def ensure_keys() -> bool:
    """Create an active and a next key when there is no active key. Return True if created."""
    with transaction.atomic():
        if PlatformKey.objects.filter(status=KeyStatus.ACTIVE).exists():
            return False
        create_key(KeyStatus.ACTIVE)
        if not PlatformKey.objects.filter(status=KeyStatus.NEXT).exists():
            create_key(KeyStatus.NEXT)
    key_ring.invalidate()
    return True


class RotationTooSoonError(Exception):
    """The next key has not been published long enough for caches to have seen it."""


@dataclass(frozen=True)
class RotationResult:
    activated: str
    retired: str | None
    published_next: str
    pruned: int


def rotate_keys(*, now: datetime.datetime | None = None, force: bool = False) -> RotationResult:
    """Promote the published next key to signing, retire the current one, publish a new next.

    The next key must have been published for at least ``LTI_JWKS_MAX_AGE`` seconds so that
    every tool that cached our JWKS already knows it. Retired keys stay published for
    ``LTI_RETIRED_KEY_GRACE`` seconds, then are deleted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        nxt = PlatformKey.objects.select_for_update().filter(status=KeyStatus.NEXT).first()
        if nxt is None:
            nxt = create_key(KeyStatus.NEXT, now=now)
        published_for = (now - nxt.created_at).total_seconds()
        if not force and published_for < settings.LTI_JWKS_MAX_AGE:
            raise RotationTooSoonError(
                f"the next key {nxt.kid} has been published for {published_for:.0f}s; "
                f"wait until {settings.LTI_JWKS_MAX_AGE}s (the JWKS cache lifetime) or use --force"
            )
        current = PlatformKey.objects.filter(status=KeyStatus.ACTIVE).first()
        if current is not None:
            current.status = KeyStatus.RETIRED
            current.retired_at = now
            current.save(update_fields=["status", "retired_at"])
        nxt.status = KeyStatus.ACTIVE
        nxt.activated_at = now
        nxt.save(update_fields=["status", "activated_at"])
        new_next = create_key(KeyStatus.NEXT, now=now)
        cutoff = now - datetime.timedelta(seconds=settings.LTI_RETIRED_KEY_GRACE)
        pruned, _ = PlatformKey.objects.filter(
            status=KeyStatus.RETIRED, retired_at__lt=cutoff
        ).delete()
    key_ring.invalidate()
    return RotationResult(
        activated=nxt.kid,
        retired=current.kid if current else None,
        published_next=new_next.kid,
        pruned=pruned,
    )


class KeyRing:
    """The keys of this process: parsed once, re-read from the table every few seconds.

    Private keys are decrypted and parsed only once per kid; the signing key object is
    reused for every launch (re-parsing a PEM per call costs ~150× a signature's CPU).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = -1.0
        self._parsed: dict[str, jose.SigningKey] = {}
        self._signing: jose.SigningKey | None = None
        self._published: list[dict[str, str]] = []

    def invalidate(self) -> None:
        self._loaded_at = -1.0

    def _refresh_if_stale(self) -> None:
        age = time.monotonic() - self._loaded_at
        if self._loaded_at >= 0 and age < settings.LTI_KEY_REFRESH_SECONDS:
            return
        with self._lock:
            cutoff = timezone.now() - datetime.timedelta(seconds=settings.LTI_RETIRED_KEY_GRACE)
            rows = list(
                PlatformKey.objects.exclude(status=KeyStatus.RETIRED, retired_at__lt=cutoff)
                .order_by("created_at")
                .values_list("kid", "status", "public_jwk")
            )
            signing: jose.SigningKey | None = None
            for kid, status, _jwk in rows:
                if status == KeyStatus.ACTIVE:
                    signing = self._parsed.get(kid)
                    if signing is None:
                        row = PlatformKey.objects.get(kid=kid)
                        pem = decrypt_private_key(row.private_key_encrypted)
                        signing = jose.SigningKey(kid=kid, private_key=jose.load_private_key(pem))
                        self._parsed[kid] = signing
            self._signing = signing
            self._published = [jwk for _kid, _status, jwk in rows]
            self._loaded_at = time.monotonic()

    def signing_key(self) -> jose.SigningKey:
        self._refresh_if_stale()
        if self._signing is None:
            raise NoSigningKeyError("there is no active platform signing key")
        return self._signing

    def published_jwks(self) -> dict[str, list[dict[str, str]]]:
        self._refresh_if_stale()
        return jose.jwks(self._published)


key_ring = KeyRing()
