"""Keep responses with personal data out of every cache: shared tablets, proxies, the back button.

A school tablet passes from child to child; a page left in its HTTP cache (or a proxy's) shows
the previous child's scores. So every response that may carry personal data says
``Cache-Control: no-store`` (RFC 9111 §5.2.2.5): every page answered to a signed-in person,
and every answer of the LTI services under ``/lti/`` (NRPS rosters, AGS line items and
results, errors). A response whose view chose its own ``Cache-Control`` keeps it: the JWKS is
public and cacheable (``public, max-age=…``), ``never_cache`` views already forbid storing.
Static files never get here (WhiteNoise answers them before this middleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

SERVICE_PREFIXES = ("/lti/",)
NO_STORE = "no-store"


def carries_personal_data(request: HttpRequest) -> bool:
    """Whether the answer to ``request`` may hold personal data (so must not be stored)."""
    if request.path_info.startswith(SERVICE_PREFIXES):
        return True
    user = getattr(request, "user", None)  # absent when a middleware answered early
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware(MiddlewareMixin):
    """Add ``Cache-Control: no-store`` to personal responses that set no caching of their own."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if "Cache-Control" not in response and carries_personal_data(request):
            response["Cache-Control"] = NO_STORE
        return response
