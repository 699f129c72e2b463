"""Tools' public keys: a JWKS URL (fetched with timeouts, cached, refetched once on an unknown
kid) or a static PEM. Keys without ``alg`` are taken as RS256.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.cache import cache

from .errors import ToolKeyError
from .models import Registration

logger = logging.getLogger("manabi.tool_keys")

JWKS_TIMEOUT = (3.05, 5)
JWKS_CACHE_SECONDS = 300
MAX_JWKS_BYTES = 256 * 1024


def _cache_key(url: str) -> str:
    return "tooljwks:" + hashlib.sha256(url.encode()).hexdigest()


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


def tool_public_key(registration: Registration, kid: str | None) -> rsa.RSAPublicKey:
    """Return the key that should have signed a tool's JWT with header ``kid``."""
    if registration.jwks_url:
        cached = cache.get(_cache_key(registration.jwks_url))
        keys = json.loads(cached) if cached else _fetch_jwks(registration.jwks_url)
        jwk = _pick(keys, kid)
        if jwk is None and cached:  # the tool may have rotated: refetch once
            jwk = _pick(_fetch_jwks(registration.jwks_url), kid)
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
