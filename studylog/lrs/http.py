"""What every LRS resource shares: the request as xAPI sees it, the version header, errors.

``@xapi_resource`` wraps a view that takes an :class:`XapiRequest`:

- **Alternate request syntax** (xAPI 1.0.3 Communication §1.3): a POST whose only query
  parameter is ``method`` (GET, HEAD, PUT, POST, DELETE) and whose form body carries the
  headers (``Authorization``, ``X-Experience-API-Version``, ``Content-Type``, ``If-Match``,
  ``If-None-Match``), the ``content`` and the resource's parameters is read as that request.
- **Version**: every request except About's must send ``X-Experience-API-Version`` 1.0.x (or
  2.0.x, accepted); every answer carries ``X-Experience-API-Version: 1.0.3``.
- **Authentication** (``studylog.lrs.auth``) unless the resource is public (About).
- **Errors**: an ``XapiError`` becomes its status with a JSON body
  ``{"error": <code>, "error_description": <reason>}``; nothing was written.
- **Size**: bodies over ``XAPI_MAX_REQUEST_BYTES`` are refused with 413 before they are read.
"""

from __future__ import annotations

import functools
import json
import math
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from lti_platform.protocol.text import find_unencodable, find_unencodable_field

from ..conf import app_settings
from ..xapi import vocab
from ..xapi.errors import XapiError
from .auth import Caller, authenticate

RESPONSE_VERSION = "1.0.3"
MAX_JSON_DEPTH = 100  # nesting levels of JSON a tool sends (deeper: 400, not a RecursionError)
MAX_JSON_DIGITS = 4300  # digits of a JSON integer (Python's int conversion limit)
_METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}
_HEADER_FIELDS = {
    "authorization": "Authorization",
    "x-experience-api-version": vocab.VERSION_HEADER,
    "content-type": "Content-Type",
    "content-length": "Content-Length",
    "if-match": "If-Match",
    "if-none-match": "If-None-Match",
}


class BadRequest(XapiError):
    status = 400


class NotFound(XapiError):
    status = 404


class MethodNotAllowed(XapiError):
    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(f"this resource answers {', '.join(allowed)}")
        self.allowed = allowed


class Conflict(XapiError):
    status = 409


class PreconditionFailed(XapiError):
    status = 412


class TooLarge(XapiError):
    status = 413


class PreconditionRequired(XapiError):
    status = 428


class _CaseInsensitive(dict[str, str]):
    def get_header(self, name: str, default: str = "") -> str:
        return self.get(name.lower(), default)


@dataclass
class XapiRequest:
    """The request after the alternate syntax was undone: what the resource views read."""

    method: str
    params: dict[str, str]
    headers: _CaseInsensitive
    body: bytes
    content_type: str  # the media type, lower case, no parameters
    caller: Caller | None = None
    raw: HttpRequest | None = field(default=None, repr=False)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get_header(name, default)

    def json_body(self) -> Any:
        return load_json(self.body, "the body")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (JSON numbers are finite)")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is too large to be stored")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise ValueError(f"an integer has more than {MAX_JSON_DIGITS} digits")
    return int(text)


def _too_deep(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def load_json(
    data: bytes | str, what: str, *, subject: str = "", invalid: str = "is not valid JSON"
) -> Any:
    """Parse JSON from a tool (a body, a part, a parameter) or refuse it with 400: not UTF-8,
    not JSON (``NaN`` and ``Infinity`` included: they are not JSON and nothing downstream can
    read them back), nested deeper than :data:`MAX_JSON_DEPTH`, or holding a string UTF-8
    cannot carry (an unpaired surrogate such as ``"\\ud800"``). ``subject`` starts the
    reason of a string problem (``"agent name contains an unpaired surrogate"``), ``invalid``
    says what the parser's message follows."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text, parse_constant=_no_constant, parse_float=_finite, parse_int=_integer
        )
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not UTF-8") from exc
    except RecursionError as exc:
        raise BadRequest(
            f"{what} is nested more deeply than this LRS reads ({MAX_JSON_DEPTH} levels)"
        ) from exc
    except ValueError as exc:
        raise BadRequest(f"{what} {invalid}: {exc}") from exc
    if _too_deep(value):
        raise BadRequest(
            f"{what} is nested more deeply than this LRS reads ({MAX_JSON_DEPTH} levels)"
        )
    bad = find_unencodable(value)
    if bad is not None:
        raise BadRequest(bad.describe(subject, whole=what))
    return value


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _read_body(request: HttpRequest) -> bytes:
    limit = app_settings.max_request_bytes
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes")
    return body


def parse(request: HttpRequest) -> XapiRequest:
    """Read ``request`` as xAPI does (undoing the alternate request syntax); a parameter or
    header that holds a NUL character (or an unpaired surrogate) is refused with 400: no
    column can store it and no IRI, id or media type contains one."""
    xapi = _parse(request)
    bad = find_unencodable_field(xapi.params.items(), nul=True)
    if bad is not None:
        raise BadRequest(bad.describe(whole="a parameter", name="parameter name"))
    bad = find_unencodable_field(xapi.headers.items(), nul=True)
    if bad is not None:
        raise BadRequest(bad.describe(whole="a header", name="header name"))
    return xapi


def _parse(request: HttpRequest) -> XapiRequest:
    query: dict[str, str] = {k: str(v) for k, v in request.GET.items()}
    if any(len(values) > 1 for _, values in request.GET.lists()):
        raise BadRequest("a query parameter is given more than once")
    headers = _CaseInsensitive({k.lower(): v for k, v in request.headers.items()})
    body = _read_body(request)
    method = (request.method or "GET").upper()
    if "method" in query:
        if method != "POST":
            raise BadRequest("the alternate request syntax (?method=) needs a POST")
        if set(query) != {"method"}:
            raise BadRequest(
                "with the alternate request syntax every parameter other than method goes in "
                "the form body"
            )
        target = query["method"].upper()
        if target not in _METHODS:
            raise BadRequest(f"method must be one of {', '.join(sorted(_METHODS))}")
        if _media_type(headers.get_header("content-type")) != "application/x-www-form-urlencoded":
            raise BadRequest(
                "the alternate request syntax needs a body of application/x-www-form-urlencoded"
            )
        try:
            form = urllib.parse.parse_qs(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(
                "the form body is not valid application/x-www-form-urlencoded"
            ) from exc
        params: dict[str, str] = {}
        new_headers = _CaseInsensitive()
        content = b""
        for name, values in form.items():
            if len(values) != 1:
                raise BadRequest(f"the form field {name} is given more than once")
            lower = name.lower()
            if lower in _HEADER_FIELDS:
                new_headers[lower] = values[0]
            elif name == "content":
                content = values[0].encode("utf-8")
            else:
                params[name] = values[0]
        return XapiRequest(
            method=target,
            params=params,
            headers=new_headers,
            body=content,
            content_type=_media_type(new_headers.get_header("content-type")),
            raw=request,
        )
    return XapiRequest(
        method=method,
        params=query,
        headers=headers,
        body=body,
        content_type=_media_type(headers.get_header("content-type")),
        raw=request,
    )


def check_version(xapi: XapiRequest) -> str:
    version = xapi.header(vocab.VERSION_HEADER).strip()
    if not version:
        raise BadRequest(f"the {vocab.VERSION_HEADER} header is required")
    if not (version.startswith("1.0.") or version.startswith("2.0.")) or not all(
        part.isdigit() for part in version.split(".")
    ):
        raise BadRequest(
            f"{vocab.VERSION_HEADER} {version!r} is not supported: send 1.0.3 (or 2.0.0)"
        )
    return version


def error_response(exc: XapiError) -> HttpResponse:
    code = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        412: "precondition_failed",
        413: "payload_too_large",
        428: "precondition_required",
    }.get(exc.status, "error")
    response = HttpResponse(
        json.dumps({"error": code, "error_description": exc.reason}, ensure_ascii=False),
        status=exc.status,
        content_type="application/json; charset=utf-8",
    )
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Manabi Hub LRS"'
    if isinstance(exc, MethodNotAllowed):
        response["Allow"] = ", ".join(exc.allowed)
    return response


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


View = Callable[[XapiRequest], HttpResponse]


def xapi_resource(
    *, public: bool = False
) -> Callable[[View], Callable[[HttpRequest], HttpResponse]]:
    """Wrap an LRS view (see the module docstring). ``public``: no credentials, no version
    header required (the About resource)."""

    def decorate(view: View) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                xapi = parse(request)
                if not public:
                    xapi.caller = authenticate_request(xapi)
                    check_version(xapi)
                response = view(xapi, **kwargs)
            except XapiError as exc:
                response = error_response(exc)
            response[vocab.VERSION_HEADER] = RESPONSE_VERSION
            if xapi_method(request) == "HEAD":
                response.content = b""
            return response

        return wrapper

    return decorate


@csrf_exempt
def unrouted(request: HttpRequest, path: str) -> HttpResponse:
    """Anything under /xapi/ that is no resource: the JSON 404 every LRS answer has (with the
    version header), not the site's HTML page."""
    response = error_response(
        NotFound(
            "no such resource of this LRS: it has about, statements, activities, "
            "activities/state, activities/profile, agents and agents/profile"
        )
    )
    response[vocab.VERSION_HEADER] = RESPONSE_VERSION
    if (request.method or "").upper() == "HEAD":
        response.content = b""
    return response


def xapi_method(request: HttpRequest) -> str:
    method = (request.method or "GET").upper()
    if method == "POST" and request.GET.get("method", "").upper() == "HEAD":
        return "HEAD"
    return method


def authenticate_request(xapi: XapiRequest) -> Caller:
    """Authenticate from the (possibly form-carried) Authorization header."""
    assert xapi.raw is not None  # noqa: S101  (parse sets it)
    if xapi.raw.headers.get("Authorization") == xapi.header("authorization"):
        return authenticate(xapi.raw)
    shim = HttpRequest()
    shim.META["HTTP_AUTHORIZATION"] = xapi.header("authorization")
    return authenticate(shim)
