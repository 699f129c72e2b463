"""Names and Role Provisioning Services 2.0: member shape and paging links.

https://www.imsglobal.org/spec/lti-nrps/v2p0
"""

from __future__ import annotations

import datetime
import re
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


_SINCE = re.compile(r"[0-9]{1,11}(?:\.[0-9]{6})?")


def format_since(moment: datetime.datetime) -> str:
    """The differences cursor: Unix time with microseconds (``1764579600.123456``).

    Whole seconds would return members changed earlier in the same second again.
    """
    seconds = moment.timestamp()
    return f"{int(seconds)}.{moment.microsecond:06d}"


def parse_since(raw: str) -> datetime.datetime | None:
    """Read a differences cursor (or plain Unix seconds); None when malformed."""
    if not _SINCE.fullmatch(raw):
        return None
    whole, _, micros = raw.partition(".")
    try:
        moment = datetime.datetime.fromtimestamp(int(whole), tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.replace(microsecond=int(micros or 0))
