"""Logging filters (no app imports: the logging configuration loads them before the apps)."""

from __future__ import annotations

import logging


class RedactRequest(logging.Filter):
    """Drop the request Django attaches to ``django.request``/``django.security`` records.

    Django attaches the request to its records (headers, cookies, the body); a handler or
    formatter that prints extra attributes would write out a password, a session cookie or a
    client assertion. The message keeps the path without its query (``Internal Server Error:
    /lti/token``) and the traceback; the request's headers (Authorization, Cookie), its body
    (a client assertion, a password) and its query (login hints) stay out of every handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("request", None)
        return True
