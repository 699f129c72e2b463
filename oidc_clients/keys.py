"""The provider's signing keys: the platform's key ring (``lti_platform.keys``), handed to
allauth's provider as ``PrivateKey`` values.

One key set for both protocols: rotated by the same command (``rotate_platform_keys``),
encrypted at rest, checked by ``lti_platform.E001``. The two kinds of tokens cannot stand in
for each other: their issuers differ (``LTI_ISSUER`` and ``LTI_ISSUER/oidc``) and so do their
audiences (LTI client ids and OIDC client ids). The ``next`` key is published ahead of time
(its ``not_before`` lies in the future), retired keys until the end of their grace period; the
active key alone signs. PEMs are decrypted once per kid and the list is re-read from the key
table every ``LTI_KEY_REFRESH_SECONDS``, as the key ring does.
"""

from __future__ import annotations

import datetime
import functools
import threading
import time
from typing import Any

from allauth.core.internal import jwkkit
from allauth.idp.oidc.models import PrivateKey
from django.conf import settings
from django.utils import timezone

from lti_platform.keys import NoSigningKeyError, decrypt_private_key
from lti_platform.models import KeyStatus, PlatformKey

# A "next" key is published but must not sign: its not_before is far ahead.
_NOT_YET = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)


class ProviderKeys:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = -1.0
        self._pems: dict[str, str] = {}
        self._published: list[PrivateKey] = []
        self._signing: PrivateKey | None = None

    def invalidate(self) -> None:
        self._loaded_at = -1.0

    def _refresh_if_stale(self) -> None:
        age = time.monotonic() - self._loaded_at
        if self._loaded_at >= 0 and age < settings.LTI_KEY_REFRESH_SECONDS:
            return
        with self._lock:
            grace = datetime.timedelta(seconds=settings.LTI_RETIRED_KEY_GRACE)
            cutoff = timezone.now() - grace
            rows = list(
                PlatformKey.objects.exclude(status=KeyStatus.RETIRED, retired_at__lt=cutoff)
                .order_by("created_at")
                .only("kid", "status", "created_at", "activated_at", "retired_at")
            )
            published: list[PrivateKey] = []
            signing: PrivateKey | None = None
            for row in rows:
                pem = self._pems.get(row.kid)
                if pem is None:
                    raw = PlatformKey.objects.values_list("private_key_encrypted", flat=True)
                    pem = decrypt_private_key(raw.get(kid=row.kid)).decode()
                    self._pems[row.kid] = pem
                key = PrivateKey(
                    pem=pem,
                    issued_at=row.activated_at or row.created_at,
                    not_before=_NOT_YET if row.status == KeyStatus.NEXT else row.activated_at,
                    expires_at=(row.retired_at + grace) if row.retired_at else None,
                )
                published.append(key)
                if row.status == KeyStatus.ACTIVE:
                    signing = key
            self._published, self._signing = published, signing
            self._loaded_at = time.monotonic()

    def published(self) -> list[PrivateKey]:
        self._refresh_if_stale()
        return list(self._published)

    def signing_key(self) -> PrivateKey:
        self._refresh_if_stale()
        if self._signing is None:
            raise NoSigningKeyError("there is no active platform signing key")
        return self._signing


provider_keys = ProviderKeys()


# --- parsed keys, once per process --------------------------------------------------------------

_parse_pem = jwkkit.load_jwk_from_pem  # allauth's: parses and validates the RSA key (~60 ms)


@functools.lru_cache(maxsize=16)
def _parsed(pem: str) -> tuple[dict[str, Any], Any]:
    return _parse_pem(pem)


def load_jwk_from_pem(pem: str) -> tuple[dict[str, Any], Any]:
    """allauth's ``jwkkit.load_jwk_from_pem``, parsing each PEM once per process: allauth
    re-parses the signing key at every ID token and JWKS answer, about 60 ms of CPU against
    1.5 ms for the signature (bench/oidc_provider.py)."""
    jwk, key = _parsed(pem)
    return dict(jwk), key


def install_parsed_key_cache() -> None:
    """Let allauth's provider use ``load_jwk_from_pem`` (its modules call the function through
    the ``jwkkit`` module at each use). Called once by ``OidcClientsConfig.ready``."""
    jwkkit.load_jwk_from_pem = load_jwk_from_pem
