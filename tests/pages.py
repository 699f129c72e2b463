"""Comparing whole pages: "answers like a missing page" means the same bytes but for what every
response varies (the session tag of static/session_watch.js, the masked CSRF tokens, and the
language switch's way back to the page asked for)."""

from __future__ import annotations

import re

_VARYING = [
    (re.compile(rb'data-session="[^"]*"'), b'data-session=""'),
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb'name="next" type="hidden" value="[^"]*"'), b'name="next" type="hidden"'),
]


def same_page(content: bytes) -> bytes:
    """``content`` without what differs per response, to compare two pages byte for byte."""
    for pattern, replacement in _VARYING:
        content = pattern.sub(replacement, content)
    return content
