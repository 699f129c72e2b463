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
    if value in SHORT_ROLES:
        return SHORT_ROLES[value]
    if value in SHORT_ROLES.values():
        return value
    return None


def link_header(links: Sequence[tuple[str, str]]) -> str:
    """Format ``Link: <url>; rel="next", <url>; rel="differences"`` (RFC 8288)."""
    return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)


def page_url(base: str, params: Mapping[str, str | int]) -> str:
    query = urlencode([(k, str(v)) for k, v in params.items()])
    return f"{base}?{query}" if query else base
