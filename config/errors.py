"""Errors no view answered: one handler for every endpoint.

``server_error`` is the root URLconf's ``handler500``. Django calls it for every exception a
view or a middleware let through, after sending ``got_request_exception`` and before logging
the response (``django.request``, ERROR, with the traceback; ``LOGGING`` in the settings sends
that to the console). A busy database (``dbtools.busy.is_busy``) is answered 503 with
``Retry-After``, anything else 500; ``lti_platform.rendering.unhandled_error`` picks the
endpoint's format (OAuth JSON, service JSON, or the HTML page).

What the log keeps of the request: ``config.logfilters.RedactRequest``.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse

from dbtools.busy import is_busy, retry_after
from lti_platform.errors import ServerError, TemporarilyUnavailable
from lti_platform.rendering import unhandled_error


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 + Retry-After for a busy database, else 500, in the endpoint's format."""
    exc = sys.exc_info()[1]  # Django calls handler500 while handling the exception
    if is_busy(exc):
        return unhandled_error(request, TemporarilyUnavailable(retry_after()))
    return unhandled_error(request, ServerError())
