"""Names and Role Provisioning Services 2.0: member shape and paging links.

https://www.imsglobal.org/spec/lti-nrps/v2p0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from .constants import Role

SHORT_ROLES = {role.value.rsplit("#", 1)[1]: role.value for role in Role if "/membership#" in role}


def role_filter(value: str) -> str | None:
    """Accept a context role as a short name (``Learner``) or full URI; None if unknown."""
    by_name = {name.lower(): uri for name, uri in SHORT_ROLES.items()}
    by_uri = {uri.lower(): uri for uri in SHORT_ROLES.values()}
    key = value.lower()  # tolerant: some tool libraries lowercase paging URLs
    return by_name.get(key) or by_uri.get(key)


def link_header(links: Sequence[tuple[str, str]]) -> str:
    """Format ``Link: <url>; rel="next", <url>; rel="differences"`` (RFC 8288)."""
    return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)


def page_url(base: str, params: Mapping[str, str | int]) -> str:
    query = urlencode([(k, str(v)) for k, v in params.items()])
    return f"{base}?{query}" if query else base


def encode_every_byte(value: str) -> str:
    """Percent-encode every byte (RFC 3986 §2.1), so lowercasing the URL cannot change it."""
    return "".join(f"%{byte:02X}" for byte in value.encode("utf-8"))
