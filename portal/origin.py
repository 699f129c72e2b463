"""The websocket Origin check: only the platform's own origins, exactly (scheme, host, port).

A browser sends ``Origin`` with every websocket handshake, and the session cookie with it
whatever page opened the socket. Channels' ``AllowedHostsOriginValidator`` compares host names
only (``ALLOWED_HOSTS`` has no ports), so a page served from another port of the same host —
another service on a school's server — could open the live gradebook with a teacher's cookie.
This validator accepts one ``Origin`` header equal to the serialized origin (RFC 6454 §6.1:
lowercase scheme and host, the default port omitted) of ``LTI_ISSUER`` or of an entry of
``WEBSOCKET_ALLOWED_ORIGINS`` (``MANABI_ALLOWED_ORIGINS``), and refuses everything else — a
missing Origin too (no browser omits it; a script that does is not a page of ours).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def serialized_origin(url: str) -> str | None:
    """Return the origin of ``url`` as a browser sends it (``scheme://host[:port]``), or None
    if ``url`` is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number or out of range
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # lowercased, IPv6 without its brackets
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_origins() -> frozenset[str]:
    """The platform's own origins: the issuer's and the configured ones."""
    configured: Iterable[str] = [settings.LTI_ISSUER, *settings.WEBSOCKET_ALLOWED_ORIGINS]
    return frozenset(o for o in map(serialized_origin, configured) if o is not None)


def origin_allowed(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Return True if the handshake carries exactly one Origin header, one of ours."""
    origins = [value for name, value in headers if name.lower() == b"origin"]
    return len(origins) == 1 and origins[0].decode("latin-1") in allowed_origins()


class PlatformOriginValidator:
    """ASGI middleware for websocket connections: refuse (HTTP 403) a handshake whose Origin is
    not exactly one of the platform's (``allowed_origins``)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            raise ValueError("PlatformOriginValidator only handles websocket connections")
        if origin_allowed(scope.get("headers", [])):
            await self.application(scope, receive, send)
        else:
            await WebsocketDenier()(scope, receive, send)
