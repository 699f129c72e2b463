"""The board's OIDC client pages: register (secret shown once, stored hashed), refuse bad
settings with nothing written, edit, a new secret, off and on — all audited, and nothing of
another board reachable."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from allauth.idp.oidc.models import Client as IdpClient
from allauth.idp.oidc.models import Token
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from oidc_clients.models import OidcClient
from oidc_clients.services import Issued
from tests.factories import BoardAdministratorFactory, SchoolAdministratorFactory
from tests.oidc_clients.conftest import REDIRECT_URI, Board
from tools_registry.models import PrivacyLevel


def url(board: Board, *rest: str) -> str:
    if not rest:
        return reverse("portal:oidc_clients", args=[board.board.sourced_id])
    if len(rest) == 1:
        return reverse("portal:oidc_client", args=[board.board.sourced_id, rest[0]])
    return reverse("portal:oidc_client_action", args=[board.board.sourced_id, *rest])


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def form(board: Board, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "よみかきドリル",
        "redirect_uris": "https://drill.example.jp/oidc/callback\nhttp://localhost:3000/cb",
        "privacy_level": PrivacyLevel.NAME,
        "schools": [str(board.school.sourced_id)],
        "classes": [],
    }
    data.update(overrides)
    return data


def test_the_board_registers_a_client_and_sees_its_secret_once(
    client: Client, board: Board
) -> None:
    admin = signed_in(client, board.admin)
    page = admin.get(url(board))
    assert page.status_code == HTTPStatus.OK
    assert b"http://testserver/oidc/.well-known/openid-configuration" in page.content

    response = admin.post(url(board), form(board))
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    secret = response.context["issued"].secret
    oidc_client = OidcClient.objects.select_related("client").get()
    assert f'data-testid="secret">{secret}</code>'.encode() in response.content
    assert oidc_client.client.secret.startswith("manabi_client_secret_sha256$")
    assert secret not in oidc_client.client.secret
    assert oidc_client.client.check_secret(secret)
    assert oidc_client.client.get_redirect_uris() == [
        "https://drill.example.jp/oidc/callback",
        "http://localhost:3000/cb",
    ]
    assert oidc_client.client.get_grant_types() == ["authorization_code"]
    assert oidc_client.client.get_response_types() == ["code"]
    assert oidc_client.client.type == IdpClient.Type.CONFIDENTIAL
    assert list(oidc_client.schools.all()) == [board.school]
    event = AuditEvent.objects.get()
    assert event.action == "oidc_client.registered"
    assert event.org == board.board
    assert event.after == {
        "name": "よみかきドリル",
        "client_id": oidc_client.client_id,
        "redirect_uris": ["https://drill.example.jp/oidc/callback", "http://localhost:3000/cb"],
        "privacy_level": "name",
        "schools": [str(board.school.sourced_id)],
        "classes": [],
        "active": True,
    }
    assert secret not in str(event.after)
    # Listed afterwards without the secret.
    listing = admin.get(url(board))
    assert oidc_client.client_id.encode() in listing.content
    assert secret.encode() not in listing.content


def nothing_written() -> None:
    assert not OidcClient.objects.exists()
    assert not IdpClient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_plain_http_redirect_uri_is_refused_with_nothing_written(
    client: Client, board: Board
) -> None:
    admin = signed_in(client, board.admin)
    response = admin.post(url(board), form(board, redirect_uris="http://drill.example.jp/cb"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors
    assert errors == {
        "redirect_uris": [
            "リダイレクト URI は https にしてください（http は localhost と 127.0.0.1 だけです）。"
        ]
    }
    nothing_written()


def test_a_class_of_another_board_is_refused(client: Client, board: Board) -> None:
    other = BoardAdministratorFactory.create()
    admin = signed_in(client, board.admin)
    foreign_class = board.outsider.home_class
    assert foreign_class is not None and other.org is not None
    response = admin.post(url(board), form(board, classes=[str(foreign_class.sourced_id)]))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.context["form"].errors) == ["classes"]
    nothing_written()


def test_a_class_outside_the_chosen_schools_is_refused(client: Client, board: Board) -> None:
    admin = signed_in(client, board.admin)
    response = admin.post(
        url(board),
        form(
            board,
            schools=[str(board.other_school.sourced_id)],
            classes=[str(board.klass.sourced_id)],
        ),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors == {"classes": ["選んだ学校のクラスを選んでください。"]}
    nothing_written()


def test_other_administrators_get_404(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    issued = register()
    client_id = issued.oidc_client.client_id
    before = AuditEvent.objects.count()
    for person in (
        BoardAdministratorFactory.create(),  # another board's
        SchoolAdministratorFactory.create(org=board.school),  # a school of this board
        board.teacher,
    ):
        browser = Client()
        browser.force_login(person)
        assert browser.get(url(board)).status_code == HTTPStatus.NOT_FOUND
        assert browser.post(url(board), form(board)).status_code == HTTPStatus.NOT_FOUND
        assert browser.get(url(board, client_id)).status_code == HTTPStatus.NOT_FOUND
        for action in ("deactivate", "secret"):
            response = browser.post(url(board, client_id, action))
            assert response.status_code == HTTPStatus.NOT_FOUND
    assert OidcClient.objects.count() == 1
    assert OidcClient.objects.get().active
    assert AuditEvent.objects.count() == before


def test_editing_changes_the_level_and_is_audited(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    issued = register(privacy_level=PrivacyLevel.NAME_EMAIL)
    admin = signed_in(client, board.admin)
    client_id = issued.oidc_client.client_id
    assert admin.get(url(board, client_id)).status_code == HTTPStatus.OK
    response = admin.post(
        url(board, client_id),
        form(board, privacy_level=PrivacyLevel.ID_ONLY, redirect_uris=REDIRECT_URI, schools=[]),
    )
    assert response.status_code == HTTPStatus.FOUND
    oidc_client = OidcClient.objects.get()
    assert oidc_client.privacy_level == PrivacyLevel.ID_ONLY
    event = AuditEvent.objects.get(action="oidc_client.changed")
    assert event.before is not None and event.after is not None
    assert (event.before["privacy_level"], event.after["privacy_level"]) == (
        "name_email",
        "id_only",
    )


def test_a_new_secret_replaces_the_old_one(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    issued = register()
    admin = signed_in(client, board.admin)
    response = admin.post(url(board, issued.oidc_client.client_id, "secret"))
    assert response.status_code == HTTPStatus.OK
    new = response.context["issued"].secret
    stored = IdpClient.objects.get()
    assert stored.check_secret(new)
    assert not stored.check_secret(issued.secret)
    assert AuditEvent.objects.filter(action="oidc_client.secret_issued").count() == 1


def test_turning_a_client_off_deletes_what_it_holds(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    issued = register()
    Token.objects.create(
        client=issued.oidc_client.client, user=board.student, type=Token.Type.ACCESS_TOKEN, hash="x"
    )
    admin = signed_in(client, board.admin)
    response = admin.post(url(board, issued.oidc_client.client_id, "deactivate"))
    assert response.status_code == HTTPStatus.FOUND
    assert not OidcClient.objects.get().active
    assert not Token.objects.exists()
    assert AuditEvent.objects.filter(action="oidc_client.deactivated").count() == 1
    response = admin.post(url(board, issued.oidc_client.client_id, "activate"))
    assert response.status_code == HTTPStatus.FOUND
    assert OidcClient.objects.get().active
    unknown = admin.post(url(board, issued.oidc_client.client_id, "delete"))
    assert unknown.status_code == HTTPStatus.NOT_FOUND


def test_the_pages_speak_english_too(client: Client, board: Board, settings: Any) -> None:
    admin = signed_in(client, board.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = admin.get(url(board)).content.decode()
    assert "OIDC sign-in of まなび市教育委員会" in page
    assert "Register and issue a secret" in page
    assert "Redirect URIs (one per line, matched exactly)" in page
    refused = admin.post(url(board), form(board, redirect_uris="http://drill.example.jp/cb"))
    assert "A redirect URI must use https (http only for localhost and 127.0.0.1)." in (
        refused.content.decode()
    )


def test_operators_read_the_clients_in_the_django_admin(
    client: Client, board: Board, register: Callable[..., Issued]
) -> None:
    from tests.factories import OperatorFactory

    issued = register()
    operator = signed_in(client, OperatorFactory.create())
    listing = operator.get("/admin/oidc_clients/oidcclient/")
    assert listing.status_code == HTTPStatus.OK
    assert issued.oidc_client.client_id.encode() in listing.content
    assert operator.get("/admin/oidc_clients/oidcclient/add/").status_code == HTTPStatus.FORBIDDEN
