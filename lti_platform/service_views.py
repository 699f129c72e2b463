"""LTI Advantage HTTP endpoints: the OAuth2 token endpoint, AGS 2.0 and NRPS 2.0.

Views parse, authorize (Bearer token + one access choke point) and call the services in
``tokens``, ``ags`` and ``nrps``. Every error is a JSON body ``{"error", "error_description"}``
with a specific status; nothing is written on error.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from tools_registry.models import Service

from . import ags, diagnostics, nrps, rendering, tokens
from .errors import (
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PlatformError,
    RequestTooLarge,
    UnsupportedMediaType,
)
from .protocol import constants as c
from .protocol import nrps as nrps_protocol
from .protocol import oauth
from .protocol.errors import ProtocolError
from .protocol.text import find_unencodable_field

MAX_BODY = 64 * 1024
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

READ_LINEITEMS = (c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY)
WRITE_LINEITEMS = (c.SCOPE_LINEITEM,)


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """OAuth 2.0 token endpoint: client_credentials with a private_key_jwt client assertion."""
    form: dict[str, str] = {}
    try:
        if request.method != "POST":
            raise MethodNotAllowed(["POST"])
        if request.content_type != "application/x-www-form-urlencoded":
            raise oauth.InvalidRequest("the body must be application/x-www-form-urlencoded")
        try:
            form = {key: request.POST.get(key, "") for key in request.POST}
        except (RequestDataTooBig, TooManyFieldsSent) as exc:
            raise oauth.InvalidRequest("the form body is too large") from exc
        body = tokens.issue_access_token(form=form)
    except ProtocolError as exc:
        diagnostics.token_refused(form, exc)
        return rendering.oauth_error(exc)
    return rendering.no_store(JsonResponse(body))


# --- shared request handling --------------------------------------------------------------


def _accepts(request: HttpRequest, media_type: str) -> bool:
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return True
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(offered & {media_type, "application/json", "*/*", "application/*"})


def _read_json(request: HttpRequest, media_type: str) -> Any:
    if request.content_type != media_type:
        raise UnsupportedMediaType(f"the body must be {media_type}")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = request.read(MAX_BODY + 1) if length <= MAX_BODY else b""
    if length > MAX_BODY or len(raw) > MAX_BODY:
        raise RequestTooLarge(f"the body is larger than {MAX_BODY} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested too deeply
        raise PlatformError("the body is not valid JSON") from exc


def _digits(raw: str) -> int | None:
    """A short run of ASCII digits as an int, else None (``"²".isdigit()`` is true, and
    ``int()`` refuses more than 4300 digits)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 20:
        return None
    return int(raw)


def _int_param(request: HttpRequest, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    value = _digits(raw)
    if value is None or not low <= value <= high:
        raise PlatformError(f"{name} must be an integer from {low} to {high}")
    return value


def _paging(request: HttpRequest) -> tuple[int, int, int]:
    limit = _int_param(request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    page = _int_param(request, "page", 1, low=1, high=10**6)
    return (page - 1) * limit, limit, page


def _next_link(base: str, request: HttpRequest, page: int, limit: int) -> tuple[str, str]:
    """The rel="next" link. Filter values are fully percent-encoded: pylti1p3 lowercases the
    whole Link header, and percent-encoding survives that (hex digits are case-insensitive)."""
    query = "&".join(
        f"{key}={nrps_protocol.encode_every_byte(str(value))}"
        for key, value in request.GET.items()
        if key not in ("page", "limit")
    )
    paging = f"limit={limit}&page={page + 1}"
    return f"{base}?{query + '&' if query else ''}{paging}", "next"


Handler = Callable[..., HttpResponse]


def service(methods: dict[str, tuple[str, ...]], *, needs: str) -> Callable[[Handler], Handler]:
    """Check the method, the Bearer token's scopes and the context (whose deployment must
    grant the service ``needs`` and one of the method's scopes the token carries); call the
    view. Every error becomes the service JSON body of
    its class (``rendering.json_error``)."""

    def decorate(view: Handler) -> Handler:
        @csrf_exempt
        def wrapper(
            request: HttpRequest, deployment: int, context: str, **kwargs: Any
        ) -> HttpResponse:
            client: tokens.ServiceClient | None = None
            authorization = request.headers.get("Authorization", "")
            try:
                scopes = methods.get(request.method or "")
                if scopes is None:
                    raise MethodNotAllowed(methods)
                _check_query(request)
                client = tokens.authenticate(authorization, any_of=scopes)
                ctx = ags.service_context(
                    client.registration,
                    deployment,
                    context,
                    service=needs,
                    scopes=tuple(s for s in scopes if s in client.scopes),
                )
                return view(request, ctx, **kwargs)
            except ProtocolError as exc:
                registration = client.registration if client is not None else None
                diagnostics.service_refused(
                    registration, exc, authorization=authorization, deployment_pk=deployment
                )
                return rendering.json_error(exc)

        return wrapper

    return decorate


def _check_query(request: HttpRequest) -> None:
    """Every query value, once, before any is used (filters, paging, the next link)."""
    fields = ((name, value) for name, values in request.GET.lists() for value in values)
    bad = find_unencodable_field(fields)
    if bad:
        raise PlatformError(bad.describe(whole="the query", name="parameter name"))


def _require_accept(request: HttpRequest, media_type: str) -> None:
    if not _accepts(request, media_type):
        raise NotAcceptable(f"this resource is {media_type}")


# --- AGS ----------------------------------------------------------------------------------


@service({"GET": READ_LINEITEMS, "POST": WRITE_LINEITEMS}, needs=Service.AGS)
def lineitems(request: HttpRequest, ctx: ags.ServiceContext) -> HttpResponse:
    if request.method == "POST":
        _require_accept(request, c.MEDIA_LINEITEM)
        item = ags.create_line_item(ctx, _read_json(request, c.MEDIA_LINEITEM))
        response = rendering.json_body(item, c.MEDIA_LINEITEM, HTTPStatus.CREATED)
        response["Location"] = item["id"]
        return response
    _require_accept(request, c.MEDIA_LINEITEM_CONTAINER)
    offset, limit, page = _paging(request)
    items, more = ags.list_line_items(
        ctx,
        resource_link_id=request.GET.get("resource_link_id"),
        resource_id=request.GET.get("resource_id"),
        tag=request.GET.get("tag"),
        offset=offset,
        limit=limit,
    )
    response = rendering.json_body(items, c.MEDIA_LINEITEM_CONTAINER)
    if more:
        response["Link"] = nrps_protocol.link_header(
            [_next_link(ctx.lineitems_url, request, page, limit)]
        )
    return response


@service(
    {"GET": READ_LINEITEMS, "PUT": WRITE_LINEITEMS, "DELETE": WRITE_LINEITEMS}, needs=Service.AGS
)
def lineitem(request: HttpRequest, ctx: ags.ServiceContext, item: int) -> HttpResponse:
    if request.method == "DELETE":
        ags.delete_line_item(ctx, item)
        return rendering.no_content()
    _require_accept(request, c.MEDIA_LINEITEM)
    if request.method == "PUT":
        body = ags.update_line_item(ctx, item, _read_json(request, c.MEDIA_LINEITEM))
    else:
        body = ags.line_item_json(ctx, ags.get_line_item(ctx, item))
    return rendering.json_body(body, c.MEDIA_LINEITEM)


@service({"POST": (c.SCOPE_SCORE,)}, needs=Service.AGS)
def scores(request: HttpRequest, ctx: ags.ServiceContext, item: int) -> HttpResponse:
    ags.record_score(ctx, item, _read_json(request, c.MEDIA_SCORE))
    return rendering.no_content()


@service({"GET": (c.SCOPE_RESULT_READONLY,)}, needs=Service.AGS)
def results(request: HttpRequest, ctx: ags.ServiceContext, item: int) -> HttpResponse:
    _require_accept(request, c.MEDIA_RESULT_CONTAINER)
    offset, limit, page = _paging(request)
    body, more = ags.list_results(
        ctx, item, user_id=request.GET.get("user_id"), offset=offset, limit=limit
    )
    response = rendering.json_body(body, c.MEDIA_RESULT_CONTAINER)
    if more:
        base = f"{ctx.lineitems_url}/{item}/results"
        response["Link"] = nrps_protocol.link_header([_next_link(base, request, page, limit)])
    return response


# --- NRPS ---------------------------------------------------------------------------------


@service({"GET": (c.SCOPE_NRPS,)}, needs=Service.NRPS)
def memberships(request: HttpRequest, ctx: ags.ServiceContext) -> HttpResponse:
    _require_accept(request, c.MEDIA_MEMBERSHIP_CONTAINER)
    offset, limit, page = _paging(request)
    role = None
    if "role" in request.GET:
        role = nrps_protocol.role_filter(request.GET["role"])
        if role is None:
            raise PlatformError("role is not a context role")
    since = None
    if "since" in request.GET:
        since = nrps_protocol.parse_since(request.GET["since"])
        if since is None:
            raise PlatformError("since must be a Unix time")
    # The differences cursor is taken before the read: a change made while this page is built
    # is reported again next time rather than lost.
    snapshot = datetime.datetime.now(tz=datetime.UTC)
    body, more = nrps.memberships(
        ctx, role=role, rlid=request.GET.get("rlid"), since=since, offset=offset, limit=limit
    )
    base = nrps.memberships_url(ctx)
    links = []
    if more:
        links.append(_next_link(base, request, page, limit))
    links.append(
        (
            nrps_protocol.page_url(base, {"since": nrps_protocol.format_since(snapshot)}),
            "differences",
        )
    )
    response = rendering.json_body(body, c.MEDIA_MEMBERSHIP_CONTAINER)
    response["Link"] = nrps_protocol.link_header(links)
    return response


# --- everything else under /lti/ -----------------------------------------------------------


@csrf_exempt
def unrouted(request: HttpRequest, path: str = "") -> HttpResponse:
    """Unknown URLs under /lti/ answer a JSON error like every other service endpoint."""
    return rendering.json_error(NotFound("no such endpoint"))
