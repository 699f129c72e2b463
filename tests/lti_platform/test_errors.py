"""One error model: every answer under /lti/ that is not a page for a person is a JSON error
body with the status its class carries; empty replies carry no Content-Type."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client

from lti_platform import errors
from lti_platform.protocol import oauth
from lti_platform.protocol.ags import AgsError
from lti_platform.protocol.errors import ProtocolError
from lti_platform.rendering import json_error, no_content

pytestmark = pytest.mark.django_db

JSON = "application/json"
NO_ENDPOINT = {"error": "not_found", "error_description": "no such endpoint"}


@pytest.mark.parametrize(
    "path",
    [
        "/lti/",
        "/lti/nothing-here",
        "/lti/token/",  # no slash-appending redirect either
        "/lti/ags/not-a-number/x/lineitems",
        "/lti/ags/1/not-a-uuid/lineitems",
        "/lti/nrps/1/2/memberships/extra",
        "/lti/launch/not-a-uuid/also-not",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unrouted_urls_under_lti_are_json_404(path: str, method: str) -> None:
    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == JSON
    assert response.json() == NO_ENDPOINT


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        ("/lti/jwks", "post", "GET, HEAD"),
        ("/lti/jwks", "delete", "GET, HEAD"),
        ("/lti/authorize", "put", "GET, POST"),
        ("/lti/token", "get", "POST"),
        (
            "/lti/launch/3f0c9a55-0d3b-4a8e-9d34-4d1c2b7a9e01/3f0c9a55-0d3b-4a8e-9d34-4d1c2b7a9e02",
            "post",
            "GET, HEAD",
        ),
    ],
)
def test_wrong_methods_are_json_405(path: str, method: str, allow: str) -> None:
    client = Client(enforce_csrf_checks=True)  # as a browser or tool meets it: no CSRF page
    response = getattr(client, method)(path)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Content-Type"] == JSON
    assert response["Allow"] == allow
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"allowed methods: {allow}",
    }


def test_empty_replies_have_no_content_type() -> None:
    response = no_content()
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert "Content-Type" not in response
    assert response.content == b""


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.NotFound("x"), 404, "not_found"),
        (errors.LaunchNotAllowed("x"), 404, "not_found"),
        (errors.StaleScore("x"), 409, "stale_score"),
        (errors.UnsupportedMediaType("x"), 415, "unsupported_media_type"),
        (errors.RequestTooLarge("x"), 413, "request_too_large"),
        (errors.NotAcceptable("x"), 406, "not_acceptable"),
        (errors.BearerError("x"), 401, "invalid_token"),
        (errors.InsufficientScope("x"), 403, "insufficient_scope"),
        (errors.MethodNotAllowed(["GET"]), 405, "invalid_request"),
        (oauth.InvalidClient("x"), 400, "invalid_client"),
        (oauth.InvalidScope("x"), 400, "invalid_scope"),
        (AgsError("x"), 400, "invalid_request"),
    ],
)
def test_each_error_carries_its_code_and_status(exc: ProtocolError, status: int, code: str) -> None:
    response = json_error(exc)
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert json.loads(response.content) == {"error": code, "error_description": exc.description}
    for name, value in exc.headers().items():
        assert response[name] == value
