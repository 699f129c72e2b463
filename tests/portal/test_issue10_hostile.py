"""Issue 10, a hostile review: Dynamic Registration, the vendor console, board approval,
tool key fetching and diagnostics under crafted input. Each refusal: the exact answer and
nothing written."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from audit.models import AuditEvent
from lti_platform import diagnostics
from lti_platform.dynamic_registration import (
    RegistrationNotAllowed,
    start_dynamic_registration,
)
from lti_platform.models import LaunchDiagnostic
from roster.models import RosterRole, User
from tests.factories import (
    BoardAdministratorFactory,
    DeploymentFactory,
    RegistrationFactory,
    UserFactory,
)
from tests.lti_platform.test_dynamic_registration import METADATA, TOOL_CONFIG
from tests.portal.test_school_admin import as_user
from tests.tools_registry.test_approval import (  # noqa: F401  (the world fixture)
    World,
    approved,
    world_fixture,
)
from tools_registry import grants, tool_keys
from tools_registry.models import BoardApproval, Registration, RegistrationToken, Tool

pytestmark = pytest.mark.django_db
JSON = "application/json"


def secret_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["registration_token"][0]


def vendor(username: str = "vendor-a") -> User:
    return UserFactory.create(username=username, role=RosterRole.VENDOR)


def token_for(user: User | None, *, owner: User | None = None) -> str:
    started = start_dynamic_registration(
        acting_user=user, tool_url="https://tool.example.jp/register", vendor=owner
    )
    return secret_of(started.url)


def register(secret: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return Client().post(
        "/lti/register", data, content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def state() -> tuple[int, int, int, int]:
    return (
        Tool.objects.count(),
        Registration.objects.count(),
        RegistrationToken.objects.filter(used_at__isnull=False).count(),
        AuditEvent.objects.count(),
    )


def changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(METADATA)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


# --- unencodable and malformed client metadata: 400, never a 500 ------------------------------


@pytest.mark.parametrize(
    ("path", "value", "description"),
    [
        (("client_name",), "\ud800", "client_name contains an unpaired surrogate"),
        (("client_name",), "a\x00b", "client_name contains a NUL character"),
        (
            (TOOL_CONFIG, "description"),
            "\udfff",
            f"{TOOL_CONFIG}.description contains an unpaired surrogate",
        ),
        (
            (TOOL_CONFIG, "custom_parameters"),
            {"a\ud800": "x"},
            f"{TOOL_CONFIG}.custom_parameters has a member name that contains an unpaired "
            "surrogate",
        ),
        (
            (TOOL_CONFIG, "custom_parameters"),
            {"a": "x\x00"},
            f"{TOOL_CONFIG}.custom_parameters.a contains a NUL character",
        ),
        (
            (TOOL_CONFIG, "claims"),
            ["sub", "a\x00"],
            f"{TOOL_CONFIG}.claims[1] contains a NUL character",
        ),
        (
            ("initiate_login_uri",),
            "https://tool.example.jp:99999/x",
            "initiate_login_uri: not an http(s) URL: 'https://tool.example.jp:99999/x'",
        ),
        (
            ("initiate_login_uri",),
            "https://tool.example.jp:abc/x",
            "initiate_login_uri: not an http(s) URL: 'https://tool.example.jp:abc/x'",
        ),
        (
            ("jwks_uri",),
            "https://[::1/jwks",
            "jwks_uri: not an http(s) URL: 'https://[::1/jwks'",
        ),
    ],
)
def test_unencodable_or_unparsable_metadata_is_refused(
    path: tuple[str, ...], value: Any, description: str
) -> None:
    secret = token_for(owner := vendor(), owner=owner)
    before = state()
    response = register(secret, changed(path, value))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "invalid_client_metadata", "error_description": description}
    assert state() == before
    assert register(secret, METADATA).status_code == HTTPStatus.CREATED  # the token is unspent


def test_a_bad_redirect_uri_port_is_an_invalid_redirect_uri() -> None:
    secret = token_for(owner := vendor(), owner=owner)
    before = state()
    response = register(secret, changed(("redirect_uris",), ["https://tool.example.jp:0x/cb"]))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "invalid_redirect_uri",
        "error_description": "redirect_uris[0]: not an http(s) URL: 'https://tool.example.jp:0x/cb'",
    }
    assert state() == before


def test_a_registration_url_longer_than_its_column_is_refused() -> None:
    owner = vendor()
    long_url = "https://tool.example.jp/" + "a" * 500
    client = Client()
    client.force_login(owner)
    before = (RegistrationToken.objects.count(), AuditEvent.objects.count())
    response = client.post("/vendor/dynamic-registration", {"tool_url": long_url})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "tool_url: longer than 500 characters" in response.content.decode()
    assert (RegistrationToken.objects.count(), AuditEvent.objects.count()) == before


# --- who may register what --------------------------------------------------------------------


def test_a_deactivated_vendors_token_is_refused() -> None:
    owner = vendor()
    secret = token_for(owner, owner=owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    before = state()
    response = register(secret, METADATA)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "the registration token's account is deactivated",
    }
    assert state() == before


def test_a_board_administrator_cannot_re_register_a_vendors_tool() -> None:
    owner = vendor()
    tool = RegistrationFactory.create(tool__vendor=owner).tool
    with pytest.raises(RegistrationNotAllowed):
        start_dynamic_registration(
            acting_user=BoardAdministratorFactory.create(),
            tool_url="https://tool.example.jp/register",
            tool=tool,
        )
    assert RegistrationToken.objects.count() == 0


def test_a_board_token_for_a_vendor_makes_a_new_tool_instead_of_taking_one_over() -> None:
    owner = vendor()
    assert register(token_for(owner, owner=owner), METADATA).status_code == HTTPStatus.CREATED
    original = Registration.objects.get()
    hostile = changed(("jwks_uri",), "https://tool.example.jp/attacker-keys.json")
    board_admin = BoardAdministratorFactory.create()
    response = register(token_for(board_admin, owner=owner), hostile)
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["client_id"] != original.client_id
    original.refresh_from_db()
    assert original.jwks_url == "https://keys.tool.example.jp/jwks.json"
    assert Registration.objects.count() == 2


def test_one_boards_token_does_not_take_over_another_boards_tool() -> None:
    first, second = BoardAdministratorFactory.create(), BoardAdministratorFactory.create()
    assert register(token_for(first), METADATA).status_code == HTTPStatus.CREATED
    original = Registration.objects.get()
    again = register(token_for(first), METADATA)  # the same board again: the same tool
    assert again.json()["client_id"] == original.client_id
    other = register(token_for(second), changed(("client_name",), "乗っ取り"))
    assert other.status_code == HTTPStatus.CREATED
    assert other.json()["client_id"] != original.client_id
    original.refresh_from_db()
    assert original.tool.name == "かんじドリル"


def test_a_dynamic_registration_and_a_re_registration_are_audited_without_keys() -> None:
    owner = vendor()
    register(token_for(owner, owner=owner), METADATA)
    register(
        token_for(owner, owner=owner),
        changed(("jwks_uri",), "https://tool.example.jp/new-keys.json"),
    )
    registration = Registration.objects.get()
    events = list(AuditEvent.objects.filter(action__startswith="tool.").order_by("pk"))
    assert [(e.action, e.actor, e.org, e.target_id) for e in events] == [
        ("tool.dynamically_registered", owner, None, str(registration.tool.pk)),
        ("tool.re_registered", owner, None, str(registration.tool.pk)),
    ]
    assert events[0].before is None
    assert events[1].before is not None and events[1].after is not None
    assert events[1].before["jwks_url"] == "https://keys.tool.example.jp/jwks.json"
    assert events[1].after["jwks_url"] == "https://tool.example.jp/new-keys.json"
    assert "token" not in json.dumps([e.after for e in events])


# --- a board cannot change what another board's schools send ----------------------------------


def test_one_boards_approval_changes_nothing_in_another_board(world: World, client: Client) -> None:
    registration = approved()
    theirs = DeploymentFactory.create(registration=registration, org=world.other_school)
    assert grants.compute_grant(theirs).privacy_level == "name"
    as_user(client, world.board_admin)
    response = client.post(
        f"/school/board/{world.board.sourced_id}/tools/{registration.pk}/approve",
        {"privacy_level": "id_only"},
    )
    assert response.status_code == HTTPStatus.FOUND
    mine = BoardApproval.objects.get()
    assert (mine.board, mine.privacy_level, mine.granted_scopes) == (world.board, "id_only", [])
    theirs.refresh_from_db()
    assert grants.compute_grant(theirs) == grants.Grant(
        approved=True, privacy_level="name", scopes=frozenset(), deep_linking=False
    )
    registration.refresh_from_db()
    assert (registration.status, registration.privacy_level) == ("approved", "name")


# --- the tool JWKS fetch ---------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        outer = self
        self.status = HTTPStatus.OK
        self.body = b'{"keys": []}'
        self.location = ""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Type", JSON)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"


@pytest.fixture
def server() -> Iterator[_Server]:
    jwks = _Server()
    thread = threading.Thread(target=jwks.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield jwks
    finally:
        jwks.server.shutdown()
        jwks.server.server_close()
        thread.join(timeout=10)


def _reason(registration: Registration) -> str:
    with pytest.raises(tool_keys.JwksUnreachable) as caught:
        tool_keys.refresh_tool_keys(registration)
    return caught.value.reason


def test_a_jwks_redirect_is_not_followed(server: _Server) -> None:
    server.status = HTTPStatus.FOUND
    server.location = "http://169.254.169.254/latest/meta-data/"
    registration = RegistrationFactory.create(jwks_url=server.url, public_key_pem="")
    assert _reason(registration) == (
        "tool JWKS unreachable: HTTP 302 (redirects are not followed: register the final URL)"
    )


def test_an_oversized_jwks_is_refused(server: _Server) -> None:
    server.body = b'{"keys": [' + b" " * (tool_keys.MAX_JWKS_BYTES + 10) + b"]}"
    registration = RegistrationFactory.create(jwks_url=server.url, public_key_pem="")
    assert _reason(registration) == (
        f"tool JWKS unreachable: the document is larger than {tool_keys.MAX_JWKS_BYTES} bytes"
    )


def test_a_deeply_nested_jwks_is_refused_not_a_500(server: _Server) -> None:
    server.body = b"[" * 100_000
    registration = RegistrationFactory.create(jwks_url=server.url, public_key_pem="")
    assert _reason(registration) == (
        "tool JWKS unreachable: the answer is not a JSON document with a keys list"
    )


def test_a_jwks_url_that_is_not_http_is_not_fetched() -> None:
    registration = RegistrationFactory.create(jwks_url="ftp://tool.example/jwks", public_key_pem="")
    assert _reason(registration) == "tool JWKS unreachable: the JWKS URL is not http(s)"


# --- diagnostics: no personal data ------------------------------------------------------------


@pytest.mark.parametrize(
    ("redirect_uri", "stored"),
    [
        (
            "https://tool.example.jp/cb/user_6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b",
            "https://tool.example.jp/cb/user_[uuid]",
        ),
        (
            "https://tool.example.jp/cb/x6f1d2c3b4a5e4f608a7b9c0d1e2f3a4b",
            "https://tool.example.jp/cb/x[uuid]",
        ),
        ("https://tool.example.jp/cb/taro%40example.jp", "https://tool.example.jp/cb/[e-mail]"),
        ("https://taro:secret@tool.example.jp/cb", "https://tool.example.jp/cb"),
    ],
)
def test_personal_data_in_a_redirect_uri_is_not_stored(redirect_uri: str, stored: str) -> None:
    registration = RegistrationFactory.create()
    diagnostics.authorize_refused(
        {"client_id": registration.client_id, "redirect_uri": redirect_uri},
        error="invalid_request",
        description="redirect_uri is not registered for this client",
        status=HTTPStatus.BAD_REQUEST,
    )
    row = LaunchDiagnostic.objects.get()
    assert row.description == f"redirect_uri does not match any registered URI: {stored}"
    assert row.params == {"uri": stored}
