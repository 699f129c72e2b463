"""Malformed and hostile requests to the provider's endpoints: a clear error in the
endpoint's format, never a 500, nothing issued."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.idp.oidc.models import Token
from django.test import Client

from oidc_clients.services import Issued
from tests.oidc_clients.conftest import REDIRECT_URI, Board

AUTHORIZE = "/oidc/identity/o/authorize"
TOKEN = "/oidc/identity/o/api/token"


def nothing_issued() -> None:
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "client_id=a%00b&redirect_uri=" + REDIRECT_URI,
        "client_id=" + "x" * 5000,
        "client_id=%ED%A0%80",  # not UTF-8
        "client_id=%20",
    ],
)
def test_an_unreadable_client_id_is_a_page(client: Client, board: Board, query: str) -> None:
    client.force_login(board.student)
    response = client.get(f"{AUTHORIZE}?{query}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["description"] == "unknown client_id"
    assert not response.has_header("Location")
    nothing_issued()


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"scope": "openid\x00"}, "invalid_scope"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unauthorized_client"),
        ({"code_challenge": "x", "code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_a_bad_request_of_a_known_client_goes_back_with_its_error(
    client: Client,
    board: Board,
    register: Callable[..., Issued],
    extra: dict[str, str],
    error: str,
) -> None:
    issued = register()
    client.force_login(board.student)
    query = {
        "client_id": issued.oidc_client.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid",
        "state": "s-1",
        **extra,
    }
    response = client.get(AUTHORIZE, query)
    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["error"] == [error]
    assert params["state"] == ["s-1"]
    nothing_issued()


@pytest.mark.parametrize(
    ("headers", "data", "status", "body"),
    [
        (
            {"HTTP_AUTHORIZATION": "Basic !!!"},
            {"grant_type": "authorization_code", "code": "x"},
            HTTPStatus.UNAUTHORIZED,
            {"error": "invalid_client"},
        ),
        (
            {"HTTP_AUTHORIZATION": "Basic YTpi"},  # a:b, no such client
            {"grant_type": "authorization_code", "code": "x"},
            HTTPStatus.UNAUTHORIZED,
            {"error": "invalid_client", "error_description": "client authentication failed"},
        ),
        (
            {},
            {"grant_type": "authorization_code", "code": "x", "client_id": "a\x00"},
            HTTPStatus.UNAUTHORIZED,
            {"error": "invalid_client", "error_description": "client authentication failed"},
        ),
    ],
)
def test_a_token_request_without_a_real_client_is_invalid_client(
    client: Client,
    board: Board,
    headers: dict[str, str],
    data: dict[str, str],
    status: int,
    body: dict[str, str],
) -> None:
    response = client.post(TOKEN, data, **headers)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.json() == body
    nothing_issued()


@pytest.mark.parametrize(
    "grant",
    [
        {"grant_type": "client_credentials"},
        {"grant_type": "refresh_token", "refresh_token": "x"},
        {"grant_type": "password", "username": "a", "password": "b"},
    ],
)
def test_grants_not_offered_issue_nothing(
    client: Client, board: Board, register: Callable[..., Issued], grant: dict[str, Any]
) -> None:
    issued = register()
    data = {"client_id": issued.oidc_client.client_id, "client_secret": issued.secret, **grant}
    response = client.post(TOKEN, data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] in ("unauthorized_client", "invalid_grant")
    nothing_issued()


def test_the_device_grant_is_not_offered(client: Client, db: None) -> None:
    response = client.post("/oidc/identity/o/api/device/code", {"client_id": "x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "the device authorization grant is not offered",
    }


def test_userinfo_with_a_malformed_token_is_invalid_token(client: Client, db: None) -> None:
    response = client.get("/oidc/identity/o/api/userinfo", HTTP_AUTHORIZATION="Bearer \x00")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_token"


def test_a_first_grader_reads_the_refusal_page_with_furigana(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    from oidc_clients import services
    from tests.factories import SchoolClassFactory, StudentFactory

    issued = register()
    services.set_active(acting_user=board.admin, oidc_client=issued.oidc_client, active=False)
    first_grader = StudentFactory.create(
        home_class=SchoolClassFactory.create(school=board.school, title="1年1組", grades=["P1"])
    )
    client.force_login(first_grader)
    query = {"client_id": issued.oidc_client.client_id, "redirect_uri": REDIRECT_URI}
    response = client.get(AUTHORIZE, query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "きょういくいいんかい" in page and "<ruby>" in page
    assert "the board has disabled this client" in page
