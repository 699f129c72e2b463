"""Redirect URI rules of the portal's provider (RFC 6749 §3.1.2, OAuth 2.0 Security BCP §4.1):
absolute https URIs — plain http only for the loopback hosts of a developer's machine —,
without fragment or user information, matched by exact string comparison."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_LENGTH = 2000
MAX_URIS = 10
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class InvalidRedirectUri(ValueError):
    """A redirect URI a client may not register; the message says why (for the form)."""


def check_redirect_uri(uri: str) -> str:
    """Return ``uri`` when it may be registered; raise ``InvalidRedirectUri`` otherwise."""
    if not uri:
        raise InvalidRedirectUri("empty")
    if len(uri) > MAX_LENGTH:
        raise InvalidRedirectUri("too_long")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        raise InvalidRedirectUri("whitespace")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError as e:
        raise InvalidRedirectUri("unparsable") from e
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidRedirectUri("not_absolute")
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        raise InvalidRedirectUri("not_https")
    if parts.fragment or "#" in uri:
        raise InvalidRedirectUri("fragment")
    if parts.username is not None or parts.password is not None:
        raise InvalidRedirectUri("userinfo")
    return uri


def check_redirect_uris(uris: Iterable[str]) -> list[str]:
    """The registered list: each URI checked, duplicates dropped, at least one, at most 10."""
    seen: list[str] = []
    for uri in uris:
        checked = check_redirect_uri(uri)
        if checked not in seen:
            seen.append(checked)
    if not seen:
        raise InvalidRedirectUri("empty")
    if len(seen) > MAX_URIS:
        raise InvalidRedirectUri("too_many")
    return seen


def is_registered(uri: str, registered: Iterable[str]) -> bool:
    """Exact string comparison (RFC 6749 §3.1.2.2 with the Security BCP: no partial match)."""
    return any(uri == r for r in registered)
