"""The Statement resource, ``/xapi/statements`` (xAPI 1.0.3 Communication §2.1): thin views
over ``studylog.lrs.statements``. ``@xapi_resource`` undoes the alternate request syntax,
checks the version header and the tool's credentials, and renders errors; HEAD is GET
without the body. Every answer carries ``X-Experience-API-Consistent-Through``."""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import HttpResponse
from django.utils.http import http_date

from ..xapi import multipart, vocab
from ..xapi.errors import XapiError
from . import statements as service
from .http import (
    BadRequest,
    MethodNotAllowed,
    XapiRequest,
    check_version,
    error_response,
    json_response,
    xapi_resource,
)

ALLOWED = ["GET", "HEAD", "PUT", "POST"]


def _dumps(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _answer(data: object, attachments: list[tuple[str, str, bytes]] | None) -> HttpResponse:
    if attachments is None:
        return json_response(data)
    body, content_type = multipart.build(_dumps(data), attachments)
    return HttpResponse(body, content_type=content_type)


def _payload(xapi: XapiRequest) -> service.Payload:
    return service.read_payload(xapi.body, xapi.content_type, xapi.header("content-type"))


def _get(xapi: XapiRequest) -> HttpResponse:
    assert xapi.caller is not None  # noqa: S101  (@xapi_resource authenticated)
    language = xapi.header("accept-language")
    if "statementId" in xapi.params or "voidedStatementId" in xapi.params:
        one = service.get_statement(xapi.params, caller=xapi.caller, accept_language=language)
        response = _answer(
            one.statement, one.attachments if xapi.params.get("attachments") == "true" else None
        )
        response["Last-Modified"] = http_date(one.stored.timestamp())
        return response
    if "more" in xapi.params:
        if len(xapi.params) != 1:
            raise BadRequest("a more IRL is used as given, without other parameters")
        query = service.parse_more(xapi.params["more"], xapi.caller)
    else:
        query = service.parse_query(xapi.params)
    page = service.run_query(query, caller=xapi.caller, accept_language=language)
    result = {"statements": page.statements, "more": page.more}
    return _answer(result, page.attachments if query.attachments else None)


def _put(xapi: XapiRequest) -> HttpResponse:
    assert xapi.caller is not None  # noqa: S101
    if set(xapi.params) - {"statementId"}:
        raise BadRequest("PUT takes only the statementId parameter")
    if "statementId" not in xapi.params:
        raise BadRequest("PUT needs the statementId parameter (or POST the statement)")
    statement_id = service.uuid_param(xapi.params, "statementId")
    version = service.xapi_version(check_version(xapi))
    service.put_statement(statement_id, _payload(xapi), caller=xapi.caller, version=version)
    return HttpResponse(status=HTTPStatus.NO_CONTENT)


def _post(xapi: XapiRequest) -> HttpResponse:
    assert xapi.caller is not None  # noqa: S101
    if xapi.params:
        raise BadRequest(
            f"POST takes no parameters (got {sorted(xapi.params)[0]!r}); to query with a "
            "POST use the alternate request syntax (?method=GET)"
        )
    version = service.xapi_version(check_version(xapi))
    ids = service.store_statements(_payload(xapi), caller=xapi.caller, version=version)
    return json_response([str(pk) for pk in ids])


@xapi_resource()
def statements(xapi: XapiRequest) -> HttpResponse:
    """GET / HEAD (one statement or a query), PUT (one, by statementId), POST (one or a batch)."""
    try:
        if xapi.method in ("GET", "HEAD"):
            response = _get(xapi)
        elif xapi.method == "PUT":
            response = _put(xapi)
        elif xapi.method == "POST":
            response = _post(xapi)
        else:
            raise MethodNotAllowed(ALLOWED)
    except XapiError as exc:  # rendered here to carry the header too
        response = error_response(exc)
    response[vocab.CONSISTENT_THROUGH_HEADER] = service.consistent_through()
    return response
