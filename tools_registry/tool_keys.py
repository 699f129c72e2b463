"""Tools' public keys: a JWKS URL (fetched with timeouts, cached, refetched on an unknown kid at
most once per ``LTI_JWKS_REFETCH_SECONDS`` per registration) or a static PEM. Keys without
``alg`` are taken as RS256.

A fetch that fails raises ``JwksUnreachable``: its message stays the one the token endpoint
answers, its ``reason`` says what happened for the launch diagnostics ("tool JWKS
unreachable: timeout after 5 s"). ``refresh_tool_keys`` forgets the cached copy and fetches
now (the vendor console's 「鍵を再取得」).

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
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.cache import cache

from . import fetching
from .errors import ToolKeyError
from .models import Registration

logger = logging.getLogger("manabi.tool_keys")

JWKS_TIMEOUT = (3.05, 5)  # connect, read (seconds)
UNREACHABLE = "the tool's JWKS URL could not be fetched"


class JwksUnreachable(ToolKeyError):
    """The tool's JWKS could not be fetched; ``reason`` says why, for the diagnostics."""

    def __init__(self, reason: str) -> None:
        super().__init__(UNREACHABLE)
        self.reason = reason


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _unreachable_reason(exc: Exception) -> str:
    """What went wrong, in words a tool's developer can act on (no URL query, no body)."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"tool JWKS unreachable: connection timeout after {_seconds(JWKS_TIMEOUT[0])}"
    if isinstance(exc, requests.Timeout):
        return f"tool JWKS unreachable: timeout after {_seconds(JWKS_TIMEOUT[1])}"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"tool JWKS unreachable: HTTP {exc.response.status_code}"
    if isinstance(exc, requests.ConnectionError):
        return "tool JWKS unreachable: connection failed"
    if isinstance(exc, ValueError | KeyError | TypeError | RecursionError):
        return "tool JWKS unreachable: the answer is not a JSON document with a keys list"
    return "tool JWKS unreachable: request failed"


JWKS_CACHE_SECONDS = 300
MAX_JWKS_BYTES = 256 * 1024
JWKS_TOTAL_SECONDS = 10  # the whole body, however slowly it trickles


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
        last = cache.get(_limit_key("reason", registration)) or "tool JWKS unreachable"
        within = _seconds(float(settings.LTI_JWKS_REFETCH_SECONDS))
        raise JwksUnreachable(f"{last} (not retried within {within} of the failure)")
    try:
        return _fetch_jwks(registration.jwks_url)
    except JwksUnreachable as exc:
        window = float(settings.LTI_JWKS_REFETCH_SECONDS)
        if window > 0:
            cache.set(failed, now, timeout=window)
            cache.set(_limit_key("reason", registration), exc.reason, timeout=window)
        raise


def _read_limited(response: requests.Response) -> bytes:
    """The body, refused past ``MAX_JWKS_BYTES`` or ``JWKS_TOTAL_SECONDS`` — read in chunks:
    ``requests``' read timeout bounds each read, not a body trickled a byte at a time."""
    deadline = time.monotonic() + JWKS_TOTAL_SECONDS
    body = bytearray()
    for chunk in response.iter_content(chunk_size=16 * 1024):
        body += chunk
        if len(body) > MAX_JWKS_BYTES:
            raise JwksUnreachable(
                f"tool JWKS unreachable: the document is larger than {MAX_JWKS_BYTES} bytes"
            )
        if time.monotonic() > deadline:
            raise JwksUnreachable(
                f"tool JWKS unreachable: timeout after {_seconds(JWKS_TOTAL_SECONDS)}"
            )
    return bytes(body)


def _fetch_jwks(url: str) -> list[dict[str, Any]]:
    """GET the JWKS: http(s) only, redirects not followed (the URL was checked to be inside
    the tool's domain; a redirect could lead anywhere), bounded in time and size, never to a
    non-global address unless ``LTI_FETCH_PRIVATE_ADDRESSES`` (``fetching.get``)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise JwksUnreachable("tool JWKS unreachable: the JWKS URL is not http(s)")
    try:
        with fetching.get(
            url,
            allow_private=settings.LTI_FETCH_PRIVATE_ADDRESSES,
            timeout=JWKS_TIMEOUT,
            headers={"Accept": "application/json"},
        ) as response:
            if response.is_redirect:
                raise JwksUnreachable(
                    f"tool JWKS unreachable: HTTP {response.status_code} "
                    "(redirects are not followed: register the final URL)"
                )
            response.raise_for_status()
            keys = json.loads(_read_limited(response))["keys"]
    except fetching.PrivateAddress as exc:
        logger.warning("refused to fetch tool JWKS %s: %s", url, exc)
        raise JwksUnreachable(
            f"tool JWKS URL resolves to a private address ({exc.address}): refused"
        ) from exc
    except (requests.RequestException, ValueError, KeyError, TypeError, RecursionError) as exc:
        logger.warning("could not fetch tool JWKS %s: %s", url, exc)
        raise JwksUnreachable(_unreachable_reason(exc)) from exc
    if not isinstance(keys, list):
        raise JwksUnreachable(_unreachable_reason(TypeError()))
    valid = [k for k in keys if isinstance(k, dict) and k.get("kty") == "RSA"]
    cache.set(_cache_key(url), json.dumps(valid), JWKS_CACHE_SECONDS)
    return valid


def _usable(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RS256 signing keys; a key without ``alg`` (or ``use``) is taken as one."""
    return [k for k in keys if k.get("alg", "RS256") == "RS256" and k.get("use", "sig") == "sig"]


def _pick(keys: list[dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    usable = _usable(keys)
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


def refresh_tool_keys(registration: Registration) -> list[str]:
    """Forget the cached JWKS of ``registration`` and fetch it now; return the usable keys'
    ``kid`` values (``""`` for a key without one).

    For a vendor who rotated the tool's key (「鍵を再取得」): the next launch or token request
    uses the new keys at once. Not rate-limited by ``LTI_JWKS_REFETCH_SECONDS`` — the caller
    is a signed-in vendor, not anyone who knows a client_id; a failure still marks the window
    so that requests do not wait out the timeouts again. Raise ``JwksUnreachable`` (with its
    ``reason``) when the fetch fails, ``ToolKeyError`` when the tool has no JWKS URL."""
    if not registration.jwks_url:
        raise ToolKeyError("the tool has no JWKS URL (its key is a registered PEM)")
    cache.delete(_cache_key(registration.jwks_url))
    cache.delete(_limit_key("failed", registration))
    keys = _fetch(registration, time.time())
    return [str(k.get("kid", "")) for k in _usable(keys)]
