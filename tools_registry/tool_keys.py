"""Tools' public keys: a JWKS URL (fetched with timeouts, cached, refetched on an unknown kid at
most once per ``LTI_JWKS_REFETCH_SECONDS`` per registration) or a static PEM. Keys without
``alg`` are taken as RS256.

Whoever knows a client_id can send the token endpoint an assertion with any ``kid``; without
the limit each one would make the platform fetch the tool's JWKS (or wait out its timeouts
when the tool's server is down). The limit and the cached keys live in Django's cache, which
every worker process shares (the database cache, or Redis).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.cache import cache

from .errors import ToolKeyError
from .models import Registration

logger = logging.getLogger("manabi.tool_keys")

JWKS_TIMEOUT = (3.05, 5)
JWKS_CACHE_SECONDS = 300
MAX_JWKS_BYTES = 256 * 1024


def _cache_key(url: str) -> str:
    return "tooljwks:" + hashlib.sha256(url.encode()).hexdigest()


def _limit_key(kind: str, registration: Registration) -> str:
    url = hashlib.sha256(registration.jwks_url.encode()).hexdigest()
    return f"tooljwks-{kind}:{registration.pk}:{url}"


def _within_window(marked: object, now: float) -> bool:
    window = float(settings.LTI_JWKS_REFETCH_SECONDS)
    return isinstance(marked, int | float) and now - marked < window


def _claim_refetch(registration: Registration, now: float) -> bool:
    """Take the registration's one refetch of the window; False if some process took it less
    than ``LTI_JWKS_REFETCH_SECONDS`` ago."""
    window = float(settings.LTI_JWKS_REFETCH_SECONDS)
    if window <= 0:
        return True
    key = _limit_key("refetch", registration)
    if cache.add(key, now, timeout=window):  # atomic: one process wins
        return True
    if _within_window(cache.get(key), now):
        return False
    cache.set(key, now, timeout=window)  # the mark expired between add and get
    return True


def _fetch(registration: Registration, now: float) -> list[dict[str, Any]]:
    """Fetch the registration's JWKS unless a fetch of it failed within the window (a tool
    whose server is down would otherwise cost each request the full timeouts)."""
    failed = _limit_key("failed", registration)
    if _within_window(cache.get(failed), now):
        raise ToolKeyError("the tool's JWKS URL could not be fetched")
    try:
        return _fetch_jwks(registration.jwks_url)
    except ToolKeyError:
        window = float(settings.LTI_JWKS_REFETCH_SECONDS)
        if window > 0:
            cache.set(failed, now, timeout=window)
        raise


def _fetch_jwks(url: str) -> list[dict[str, Any]]:
    try:
        response = requests.get(url, timeout=JWKS_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ToolKeyError("the tool's JWKS document is too large")
        keys = response.json()["keys"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        logger.warning("could not fetch tool JWKS %s: %s", url, exc)
        raise ToolKeyError("the tool's JWKS URL could not be fetched") from exc
    if not isinstance(keys, list):
        raise ToolKeyError("the tool's JWKS document has no keys list")
    valid = [k for k in keys if isinstance(k, dict) and k.get("kty") == "RSA"]
    cache.set(_cache_key(url), json.dumps(valid), JWKS_CACHE_SECONDS)
    return valid


def _pick(keys: list[dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    usable = [k for k in keys if k.get("alg", "RS256") == "RS256" and k.get("use", "sig") == "sig"]
    if kid is None:
        return usable[0] if len(usable) == 1 else None
    return next((k for k in usable if k.get("kid") == kid), None)


def _jwk_to_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    try:
        key = jwt.PyJWK(jwk, algorithm="RS256").key
    except jwt.PyJWKError as exc:
        raise ToolKeyError("the tool's JWK is not a valid RSA key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ToolKeyError("the tool's JWK is not an RSA public key")
    return key


def tool_public_key(
    registration: Registration, kid: str | None, *, now: float | None = None
) -> rsa.RSAPublicKey:
    """Return the key that should have signed a tool's JWT with header ``kid``.

    A JWKS is fetched when it is not cached (first use, or ``JWKS_CACHE_SECONDS`` after the
    last fetch) and refetched for a ``kid`` the cached copy lacks — the tool may have rotated
    — at most once per ``LTI_JWKS_REFETCH_SECONDS`` per registration; within that window an
    unknown ``kid`` is simply not found.
    """
    if registration.jwks_url:
        now = time.time() if now is None else now
        cached = cache.get(_cache_key(registration.jwks_url))
        if cached is None:
            jwk = _pick(_fetch(registration, now), kid)
        else:
            jwk = _pick(json.loads(cached), kid)
            if jwk is None and _claim_refetch(registration, now):
                jwk = _pick(_fetch(registration, now), kid)
        if jwk is None:
            raise ToolKeyError(f"no key with kid {kid!r} in the tool's JWKS")
        return _jwk_to_key(jwk)
    if registration.public_key_pem:
        try:
            key = load_pem_public_key(registration.public_key_pem.encode())
        except ValueError as exc:
            raise ToolKeyError("the tool's registered public key is not valid PEM") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ToolKeyError("the tool's registered public key is not RSA")
        return key
    raise ToolKeyError("the tool has neither a JWKS URL nor a public key")
