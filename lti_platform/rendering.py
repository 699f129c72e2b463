"""The one renderer of each wire format an error can take.

- service JSON (AGS, NRPS, everything else under ``/lti/``): ``{"error", "error_description"}``
  with the error's status and headers;
- OAuth JSON (the token endpoint, RFC 6749 §5.2): the same body, never cached;
- an OIDC error form_post to a trusted redirect_uri: ``lti_platform.protocol.oidc.error_params``
  (built by the launch service, posted by the authorization view);
- an HTML page for a person in a browser (``lti_platform/error.html``; ``500.html`` and
  ``503.html`` when the platform itself failed, ``server_page``).

``unhandled_error`` picks the format by endpoint for errors no view rendered (the project's
``handler500``, ``config.errors``).

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
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils import translation

from .protocol import oidc
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


def server_page(exc: ProtocolError) -> HttpResponse:
    """The page for a person when the platform itself failed: ``500.html``, ``503.html``.

    Rendered without the request's context processors: what failed may be the database, which
    the signed-in user and the session need."""
    response = HttpResponse(loader.render_to_string(f"{int(exc.status)}.html"), status=exc.status)
    for name, value in exc.headers().items():
        response[name] = value
    return response


_OAUTH_VIEWS = frozenset({"lti_platform:token", "lti_platform:register"})
_PERSON_VIEWS = frozenset(
    {
        "lti_platform:authorize",
        "lti_platform:launch",
        "lti_platform:deep_linking_start",
        "lti_platform:deep_linking_return",
    }
)


def unhandled_error(request: HttpRequest, exc: ProtocolError) -> HttpResponse:
    """Answer an error no view rendered (a busy database, a bug) in the endpoint's format:
    OAuth JSON at the token endpoint, service JSON at the other ``/lti/`` URLs, the HTML page
    at the authorization and launch endpoints and everywhere else."""
    match = request.resolver_match
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
    if match is not None and match.view_name in _OAUTH_VIEWS:
        return oauth_error(exc)
    if match is not None and match.namespace == "lti_platform":
        if match.view_name not in _PERSON_VIEWS:
            return json_error(exc)
    return server_page(exc)


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
    """An auto-submitting form_post page (OAuth 2.0 Form Post Response Mode;
    ``protocol.oidc.form_post_html``, in the request's language).

    The form submits from a nonce'd script (a ``<noscript>`` button without JavaScript). A
    page that posts to another origin (the tool's redirect URI) has no ``form-action``:
    ``'self'`` would stop the launch, and even the tool's own origin is not enough, because
    Chromium applies ``form-action`` to the redirects after the submission too, refusing a
    tool whose redirect URI sends the browser on to another origin of its own. The page holds
    nothing but this form to an exactly registered URI, so the directive guards nothing here.
    """
    nonce = str(getattr(request, "csp_nonce", ""))  # django-csp's, made on first use
    page = oidc.form_post_html(
        action, fields, title=str(title), lang=translation.get_language() or "", nonce=nonce
    )
    response = HttpResponse(page)
    if _origin(request.build_absolute_uri(action)) != _origin(request.build_absolute_uri("/")):
        response._csp_replace = {"form-action": None}  # type: ignore[attr-defined]  # django-csp
    return response
