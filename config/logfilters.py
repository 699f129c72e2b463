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


class SecurityEventAsWarning(logging.Filter):
    """Log Django's security events (``django.security.*``: a Host header we do not serve, too
    many form fields, an oversized body) as one warning line, without a traceback.

    Anyone can send them and each is answered 400; with a traceback at ERROR they would flood
    the log and blur its rule that every ERROR is a fault of ours.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security."):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True
