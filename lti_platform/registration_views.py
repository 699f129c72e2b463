"""HTTP endpoints of LTI Dynamic Registration 1.0: the platform's OpenID configuration and
the client registration endpoint (``dynamic_registration`` does the work)."""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import diagnostics, dynamic_registration, rendering
from .errors import MethodNotAllowed, UnsupportedMediaType
from .protocol.errors import ProtocolError
from .protocol.registration import InvalidClientMetadata

CONFIGURATION_MAX_AGE = 300


def openid_configuration(request: HttpRequest) -> HttpResponse:
    """``/.well-known/openid-configuration``: the same public document for everyone."""
    if request.method not in ("GET", "HEAD"):
        return rendering.json_error(MethodNotAllowed(["GET", "HEAD"]))
    response = JsonResponse(dynamic_registration.platform_configuration())
    response["Cache-Control"] = f"public, max-age={CONFIGURATION_MAX_AGE}"
    return response


def _read_metadata(request: HttpRequest) -> object:
    if request.content_type != "application/json":
        raise UnsupportedMediaType("the body must be application/json")
    limit = dynamic_registration.MAX_METADATA
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = request.read(limit + 1) if length <= limit else b""
    if length > limit or len(raw) > limit:
        raise InvalidClientMetadata(f"the client metadata is larger than {limit} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidClientMetadata("the body is not valid JSON") from exc


@csrf_exempt
def register(request: HttpRequest) -> HttpResponse:
    """``POST /lti/register``: a tool registers itself with a registration token (RFC 7591)."""
    authorization = request.headers.get("Authorization", "")
    try:
        if request.method != "POST":
            raise MethodNotAllowed(["POST"])
        dynamic_registration.check_token(authorization)
        body = dynamic_registration.register_client(
            authorization=authorization, body=_read_metadata(request)
        )
    except ProtocolError as exc:
        diagnostics.registration_refused(exc, authorization=authorization)
        return rendering.oauth_error(exc)
    return rendering.no_store(JsonResponse(body, status=HTTPStatus.CREATED))
