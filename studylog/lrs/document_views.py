"""Thin views of About, the document resources, Activities and Agents (``documents`` does
the work). Every answer but About's says ``Cache-Control: no-store``: documents and Persons
are a child's data."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import http_date

from tools_registry.models import Registration

from . import documents
from .http import MethodNotAllowed, XapiRequest, json_response, xapi_resource

NO_STORE = {"Cache-Control": "no-store"}
TargetParser = Callable[[Registration, str, Mapping[str, str]], documents.Target]


def _owner(xapi: XapiRequest) -> Registration:
    assert xapi.caller is not None  # noqa: S101  (not a public resource)
    return xapi.caller.registration


def _allow(xapi: XapiRequest, methods: tuple[str, ...]) -> None:
    if xapi.method not in methods:
        raise MethodNotAllowed(list(methods))


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha1(content).hexdigest() + '"'  # noqa: S324  (xAPI's ETag)


def _json_read(data: Any) -> HttpResponse:
    response = json_response(data, headers=NO_STORE)
    response["ETag"] = _etag(response.content)
    return response


def _no_content() -> HttpResponse:
    response = HttpResponse(status=204, headers=NO_STORE)
    del response["Content-Type"]
    return response


def _conditions(xapi: XapiRequest) -> documents.Conditions:
    if_match = xapi.header("if-match") or None
    if_none_match = xapi.header("if-none-match") or None
    return documents.Conditions(if_match=if_match, if_none_match=if_none_match)


def _document_resource(xapi: XapiRequest, parse: TargetParser) -> HttpResponse:
    _allow(xapi, documents.DOCUMENT_METHODS)
    owner = _owner(xapi)
    target = parse(owner, xapi.method, xapi.params)
    if xapi.method in documents.READ_METHODS and target.document_id is None:
        found = documents.list_ids(owner, target)
        response = _json_read(found.ids)
        if found.last_modified is not None:
            response["Last-Modified"] = http_date(found.last_modified.timestamp())
        return response
    if xapi.method in documents.READ_METHODS:
        document = documents.get_document(owner, target)
        response = HttpResponse(document.content, content_type=document.content_type)
        response["ETag"] = f'"{document.etag}"'
        response["Last-Modified"] = http_date(document.updated.timestamp())
        response["Cache-Control"] = NO_STORE["Cache-Control"]
        return response
    if xapi.method == "DELETE":
        documents.delete_documents(owner, target, conditions=_conditions(xapi))
        return _no_content()
    write = documents.put_document if xapi.method == "PUT" else documents.post_document
    write(
        owner,
        target,
        content=xapi.body,
        content_type=xapi.header("content-type").strip(),
        conditions=_conditions(xapi),
        now=timezone.now(),
    )
    return _no_content()


@xapi_resource(public=True)
def about(xapi: XapiRequest) -> HttpResponse:
    _allow(xapi, documents.READ_METHODS)
    return json_response(documents.about())


@xapi_resource()
def state(xapi: XapiRequest) -> HttpResponse:
    return _document_resource(xapi, documents.state_target)


@xapi_resource()
def activity_profile(xapi: XapiRequest) -> HttpResponse:
    return _document_resource(xapi, documents.activity_profile_target)


@xapi_resource()
def agent_profile(xapi: XapiRequest) -> HttpResponse:
    return _document_resource(xapi, documents.agent_profile_target)


@xapi_resource()
def activities(xapi: XapiRequest) -> HttpResponse:
    _allow(xapi, documents.READ_METHODS)
    activity_id = documents.activities_request(xapi.params)
    return _json_read(documents.activity_object(_owner(xapi), activity_id))


@xapi_resource()
def agents(xapi: XapiRequest) -> HttpResponse:
    _allow(xapi, documents.READ_METHODS)
    owner = _owner(xapi)
    agent = documents.agents_request(owner, xapi.params)
    return _json_read(documents.person_object(owner, agent))
