"""The one renderer of each wire format an error can take.

- service JSON (AGS, NRPS, everything else under ``/lti/``): ``{"error", "error_description"}``
  with the error's status and headers;
- OAuth JSON (the token endpoint, RFC 6749 §5.2): the same body, never cached;
- an OIDC error form_post to a trusted redirect_uri: ``lti_platform.protocol.oidc.error_params``
  (built by the launch service, posted by the authorization view);
- an HTML page for a person in a browser (``lti_platform/error.html``).

``form_post`` renders the auto-submitting form of the OAuth 2.0 Form Post Response Mode (the
id_token or an OIDC error to the tool; the same-site re-post of an authentication request).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .protocol.errors import ProtocolError


def json_error(exc: ProtocolError) -> JsonResponse:
    response = JsonResponse({"error": exc.error, "error_description": exc.description})
    response.status_code = int(exc.status)
    for name, value in exc.headers().items():
        response[name] = value
    return response


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def oauth_error(exc: ProtocolError) -> HttpResponse:
    return no_store(json_error(exc))


def error_page(request: HttpRequest, exc: ProtocolError) -> HttpResponse:
    return render(
        request, "lti_platform/error.html", {"description": exc.description}, status=exc.status
    )


def no_content() -> HttpResponse:
    """204 No Content: no body, so no Content-Type either (RFC 9110 §8.3)."""
    response = HttpResponse(status=HTTPStatus.NO_CONTENT)
    del response["Content-Type"]
    return response


def json_body(body: Any, media_type: str, status: int = HTTPStatus.OK) -> JsonResponse:
    return JsonResponse(
        body,
        status=status,
        safe=False,
        content_type=media_type,
        json_dumps_params={"ensure_ascii": False},
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def form_post(
    request: HttpRequest, action: str, fields: Mapping[str, str], *, title: str
) -> HttpResponse:
    """An auto-submitting form_post page (OAuth 2.0 Form Post Response Mode).

    The form submits from a nonce'd script (a ``<noscript>`` button without JavaScript). A
    page that posts to another origin (the tool's redirect URI) has no ``form-action``:
    ``'self'`` would stop the launch, and even the tool's own origin is not enough, because
    Chromium applies ``form-action`` to the redirects after the submission too, refusing a
    tool whose redirect URI sends the browser on to another origin of its own. The page holds
    nothing but this form to an exactly registered URI, so the directive guards nothing here.
    """
    response = render(
        request,
        "lti_platform/form_post.html",
        {"action": action, "fields": fields, "title": title},
    )
    if _origin(request.build_absolute_uri(action)) != _origin(request.build_absolute_uri("/")):
        response._csp_replace = {"form-action": None}  # type: ignore[attr-defined]  # django-csp
    return response
