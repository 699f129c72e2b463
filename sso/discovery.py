"""allauth's HTTP session to the IdPs: private addresses refused, discovery documents kept.

Every request allauth makes to an IdP (discovery document, JWKS, token, userinfo) goes through
``tools_registry.fetching``'s check, the one the platform's other outbound fetches make: a host
that resolves to a loopback, private or link-local address is refused before anything is sent
(``UpstreamAddressRefused``, a ``requests.ConnectionError``, so allauth reports it as a failed
request), unless ``LTI_FETCH_PRIVATE_ADDRESSES`` (the demo and the tests, whose IdPs run on
127.0.0.1). The configuration pages refuse such an issuer already (``sso.idp_admin``); this
catches a name whose DNS answer changed since.

The IdPs' discovery documents are kept per process for a few minutes.

allauth fetches ``<issuer>/.well-known/openid-configuration`` when the button is pressed and
again at the callback: two of the four HTTP requests of every upstream sign-in. The session
``sso.adapter.RosterSocialAccountAdapter.get_requests_session`` hands allauth answers those
from a per-process cache for ``SSO_DISCOVERY_CACHE_SECONDS`` (300; ``0`` turns it off); the
token and userinfo requests always go out. The administrators' configuration test fetches the
document itself, never from here.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from django.conf import settings

from tools_registry import fetching

WELL_KNOWN = "/.well-known/openid-configuration"
_lock = threading.Lock()
_documents: dict[str, tuple[float, requests.Response]] = {}


def _seconds() -> float:
    return float(getattr(settings, "SSO_DISCOVERY_CACHE_SECONDS", 300))


class UpstreamAddressRefused(requests.ConnectionError):
    """An IdP's URL resolves to a non-global address; nothing was sent to it."""

    def __init__(self, refused: fetching.PrivateAddress) -> None:
        super().__init__(str(refused))
        self.host = refused.host
        self.address = refused.address


class DiscoveryCachingSession(requests.Session):
    """A checked ``requests`` session whose GETs of discovery documents are cached (200s only)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        fetching.guard(self, allow_private=settings.LTI_FETCH_PRIVATE_ADDRESSES)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._request(method, url, *args, **kwargs)
        except fetching.PrivateAddress as refused:
            raise UpstreamAddressRefused(refused) from None

    def _request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        ttl = _seconds()
        if not isinstance(url, str) or method != "GET" or not url.endswith(WELL_KNOWN) or ttl <= 0:
            return super().request(method, url, *args, **kwargs)
        now = time.monotonic()
        with _lock:
            hit = _documents.get(url)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 200:
            response.content  # noqa: B018 - read it now: the cached copy outlives the connection
            with _lock:
                _documents[url] = (now, response)
        return response


def forget() -> None:
    """Empty the cache (tests)."""
    with _lock:
        _documents.clear()
