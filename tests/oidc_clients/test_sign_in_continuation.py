"""A person a tool sends to the provider signs in on the portal's page and goes on to the tool.

The sign-in form's POST redirects to the authorization endpoint and that to the tool's
redirect URI; Chromium applies the sign-in page's CSP ``form-action`` to the whole chain, so
the page allows the tool's origin — only for a redirect URI the board registered for an active
client (``oidc_clients.continuation``). Before, the child stayed on the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client

from oidc_clients.services import Issued
from tests.factories import PASSWORD
from tests.oidc_clients.conftest import REDIRECT_URI, Board

AUTHORIZE = "/oidc/identity/o/authorize"
TOOL = "http://127.0.0.1:8765"


def authorization_request(client_id: str, redirect_uri: str = REDIRECT_URI) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "state": "s",
    }
    return f"{AUTHORIZE}?{urlencode(query)}"


def form_action(response: object) -> str:
    policy = response["Content-Security-Policy"]  # type: ignore[index]
    return next(d for d in policy.split(";") if d.strip().startswith("form-action")).strip()


def test_the_sign_in_page_of_a_tool_s_request_lets_its_form_go_on_to_the_tool(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    issued = register()
    started = client.get(authorization_request(issued.oidc_client.client_id))
    assert started.status_code == HTTPStatus.FOUND
    page = client.get(started["Location"])  # /accounts/login/?next=/oidc/identity/o/authorize…
    assert page.status_code == HTTPStatus.OK
    assert form_action(page) == f"form-action 'self' {TOOL}"
    signed_in = client.post(
        started["Location"],
        {
            "login": board.student.username,
            "password": PASSWORD,
            "next": page.context["redirect_field_value"],
        },
    )
    assert signed_in.status_code == HTTPStatus.FOUND
    assert signed_in["Location"].startswith(AUTHORIZE + "?")
    to_tool = client.get(signed_in["Location"])
    assert to_tool.status_code == HTTPStatus.FOUND
    assert to_tool["Location"].startswith(REDIRECT_URI + "?code=")


@pytest.mark.parametrize(
    "next_url",
    [
        "/",
        "https://evil.example/oidc/identity/o/authorize?client_id={id}&redirect_uri="
        + REDIRECT_URI,
        AUTHORIZE + "?client_id={id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fother",
        AUTHORIZE + "?client_id=unknown&redirect_uri=" + REDIRECT_URI,
        AUTHORIZE + "?client_id={id}&client_id={id}&redirect_uri=" + REDIRECT_URI,
    ],
)
def test_any_other_next_allows_no_other_origin(
    client: Client, board: Board, register: Callable[..., Issued], next_url: str
) -> None:
    issued = register()
    url = next_url.format(id=issued.oidc_client.client_id)
    page = client.get("/accounts/login/?" + urlencode({"next": url}))
    assert form_action(page) == "form-action 'self'"


def test_a_disabled_client_allows_nothing(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    issued = register()
    issued.oidc_client.active = False
    issued.oidc_client.save()
    page = client.get(
        "/accounts/login/?"
        + urlencode({"next": authorization_request(issued.oidc_client.client_id)})
    )
    assert form_action(page) == "form-action 'self'"


def test_the_card_page_of_a_tool_s_request_lets_its_form_go_on_to_the_tool_too(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    """First-graders sign in with their card: the card page carries the request on as well."""
    issued = register()
    request = authorization_request(issued.oidc_client.client_id)
    page = client.get("/signin/card/?" + urlencode({"next": request}))
    assert form_action(page) == f"form-action 'self' {TOOL}"
    assert client.get("/signin/card/").status_code == HTTPStatus.OK
    assert form_action(client.get("/signin/card/")) == "form-action 'self'"
