"""The one renderer of each wire format an error can take.

- service JSON (AGS, NRPS, everything else under ``/lti/``): ``{"error", "error_description"}``
  with the error's status and headers;
- OAuth JSON (the token endpoint, RFC 6749 §5.2): the same body, never cached;
- an OIDC error form_post to a trusted redirect_uri: ``lti_platform.protocol.oidc.error_params``
  (built by the launch service, posted by the authorization view);
- an HTML page for a person in a browser (``lti_platform/error.html``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

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
