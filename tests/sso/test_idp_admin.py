"""The administrators' sign-in pages: their own organisation's IdPs only, secrets write-only,
every change audited, bad input refused with nothing written, and the configuration test
against the real OIDC IdP (tests/peers/oidc_idp)."""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.socialaccount.models import SocialApp
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from sso import signin_log
from sso.models import FailureReason, IdentityProvider, IdpKind, MatchRule
from tests.factories import (
    BoardAdministratorFactory,
    DistrictFactory,
    OperatorFactory,
    SchoolAdministratorFactory,
    SchoolFactory,
    TeacherFactory,
)
from tests.peers.oidc_idp import CLIENT_ID, CLIENT_SECRET, OidcIdP, start_oidc_idp
from tests.serving import free_port
from tests.sso.idps import make_idp
from tests.sso.pages import main_text
from tests.tools_registry.test_fetch_private import answer, resolve_as

pytestmark = pytest.mark.django_db

SECRET = "very-secret-client-value-42"


@pytest.fixture(scope="module")
def oidc_idp() -> Iterator[OidcIdP]:
    yield from start_oidc_idp([])


@pytest.fixture
def board() -> Any:
    return DistrictFactory.create(name="まなび市教育委員会")


@pytest.fixture
def admin_client(board: Any) -> Client:
    client = Client()
    client.force_login(BoardAdministratorFactory.create(org=board))
    return client


def page(org: Any, suffix: str = "") -> str:
    return f"/school/org/{org.sourced_id}/sign-in{suffix}"


def form(**fields: Any) -> dict[str, Any]:
    values = {
        "kind": IdpKind.OIDC,
        "name_ja": "まなび市アカウント",
        "name_en": "Manabi City account",
        "issuer": "https://idp.manabi.example.jp",
        "client_id": "portal",
        "client_secret": SECRET,
        "tenant_id": "",
        "allowed_domains": "",
        "match_rule": MatchRule.USERNAME,
        "match_claim": "preferred_username",
        "allow_students": "on",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def assert_secret_encrypted(idp: IdentityProvider, secret: str) -> None:
    """No column of the provider's two rows holds the secret in clear; ours decrypts to it."""
    with connection.cursor() as cursor:
        for table, pk in (
            (SocialApp._meta.db_table, idp.app_id),
            (IdentityProvider._meta.db_table, idp.pk),
        ):
            cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 - our names
            row = cursor.fetchone()
            assert row is not None
            assert not any(secret in str(value) for value in row), table
    stored = IdentityProvider.objects.get(pk=idp.pk)
    assert stored.app.secret == ""
    assert stored.client_secret_at_rest.startswith("gAAAAA")  # a Fernet token
    assert stored.client_secret() == secret


def test_a_board_admin_adds_an_idp_audited_and_the_secret_never_shown(admin_client, board):
    answer = admin_client.post(page(board, "/add"), form())
    assert answer.status_code == HTTPStatus.FOUND, main_text(answer.content.decode())
    assert answer["Location"] == page(board)
    idp = IdentityProvider.objects.get()
    assert (idp.org, idp.kind, idp.enabled, idp.match_claim) == (
        board,
        IdpKind.OIDC,
        True,
        "preferred_username",
    )
    assert idp.app.provider == "openid_connect"
    assert idp.app.provider_id.startswith("oidc-")
    assert_secret_encrypted(idp, SECRET)
    assert idp.app.settings == {
        "server_url": "https://idp.manabi.example.jp",
        "oauth_pkce_enabled": True,
        "uid_field": "sub",
        "auth_params": {"prompt": "login"},
    }
    listing = admin_client.get(page(board)).content.decode()
    assert f"http://testserver/accounts/oidc/{idp.provider_id}/login/callback/" in listing
    edit = admin_client.get(page(board, f"/{idp.pk}")).content.decode()
    assert SECRET not in listing + edit
    event = AuditEvent.objects.get(action="idp.added")
    assert event.org == board
    assert event.after is not None
    assert event.after["client_secret_set"] is True
    assert SECRET not in str(event.after)


def test_the_django_admin_lists_the_apps_without_their_secret_and_edits_nothing(board):
    idp = make_idp(board, secret=SECRET)
    operator = Client()
    operator.force_login(OperatorFactory.create())
    listing = operator.get("/admin/socialaccount/socialapp/")
    change = operator.get(f"/admin/socialaccount/socialapp/{idp.app_id}/change/")
    assert (listing.status_code, change.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert idp.app.client_id in change.text
    assert SECRET not in listing.text + change.text
    assert 'name="secret"' not in change.text
    edited = operator.post(
        f"/admin/socialaccount/socialapp/{idp.app_id}/change/",
        {"name": "x", "provider": "openid_connect", "client_id": "x", "secret": "typed"},
    )
    assert edited.status_code == HTTPStatus.FORBIDDEN
    assert operator.get("/admin/socialaccount/socialapp/add/").status_code == (HTTPStatus.FORBIDDEN)
    assert_secret_encrypted(idp, SECRET)


def test_editing_keeps_the_secret_unless_typed_and_a_new_host_needs_it_again(admin_client, board):
    idp = make_idp(board, secret=SECRET, server_url="https://idp.manabi.example.jp")
    kept = admin_client.post(
        page(board, f"/{idp.pk}"), form(client_secret="", name_ja="新しい名前")
    )
    assert kept.status_code == HTTPStatus.FOUND
    idp.refresh_from_db()
    idp.app.refresh_from_db()
    assert idp.name_ja == "新しい名前"
    assert_secret_encrypted(idp, SECRET)
    event = AuditEvent.objects.get(action="idp.changed")
    assert event.before is not None and event.after is not None
    assert event.before["name_ja"] != event.after["name_ja"]
    assert event.after["client_secret_changed"] is False
    moved = admin_client.post(
        page(board, f"/{idp.pk}"), form(client_secret="", issuer="https://evil.example")
    )
    assert moved.status_code == HTTPStatus.BAD_REQUEST
    assert "IdP のホストを変えるときは、クライアントシークレットも入力してください。" in (
        main_text(moved.content.decode())
    )
    idp.app.refresh_from_db()
    assert idp.app.settings["server_url"] == "https://idp.manabi.example.jp"
    assert AuditEvent.objects.filter(action="idp.changed").count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": IdpKind.GOOGLE, "issuer": ""}, "Google Workspace のドメイン"),
        ({"kind": IdpKind.ENTRA, "issuer": "", "tenant_id": "not-a-tenant"}, "テナントID"),
        ({"issuer": "http://idp.example.jp"}, "https の URL にしてください"),
        ({"issuer": "https://u:p@idp.example.jp"}, "URL に認証情報"),
        ({"client_secret": ""}, "クライアントシークレットを入力してください。"),
        ({"match_claim": ""}, "照合に使うクレームの名前を入力してください。"),
        ({"match_rule": MatchRule.EMAIL, "match_claim": ""}, "許可するドメインが要ります"),
        ({"allowed_domains": "not a domain"}, "ドメインの形ではありません"),
        ({"allow_students": None}, "児童生徒か教職員の少なくとも一方"),
        ({"kind": IdpKind.SAML}, "saml は候補にありません。"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(admin_client, board, fields, message):
    answer = admin_client.post(page(board, "/add"), form(**fields))
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert message in main_text(answer.content.decode())
    assert not IdentityProvider.objects.exists()
    assert not SocialApp.objects.exists()
    assert not AuditEvent.objects.exists()


def test_google_and_entra_get_their_real_issuers(admin_client, board):
    admin_client.post(
        page(board, "/add"),
        form(kind=IdpKind.GOOGLE, issuer="", allowed_domains="manabi.ed.jp\nManabi2.ed.jp"),
    )
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    admin_client.post(page(board, "/add"), form(kind=IdpKind.ENTRA, issuer="", tenant_id=tenant))
    google, entra = IdentityProvider.objects.order_by("pk")
    assert google.app.settings["server_url"] == "https://accounts.google.com"
    assert google.app.settings["auth_params"] == {"prompt": "select_account", "hd": "manabi.ed.jp"}
    assert google.allowed_domains == ["manabi.ed.jp", "manabi2.ed.jp"]
    assert entra.app.settings["server_url"] == f"https://login.microsoftonline.com/{tenant}/v2.0"
    assert entra.tenant_id == tenant
    assert entra.app.settings["auth_params"] == {"prompt": "login"}


def test_disable_and_enable_are_audited(admin_client, board):
    idp = make_idp(board)
    assert admin_client.post(page(board, f"/{idp.pk}/disable")).status_code == HTTPStatus.FOUND
    idp.refresh_from_db()
    assert not idp.enabled
    assert admin_client.post(page(board, f"/{idp.pk}/enable")).status_code == HTTPStatus.FOUND
    idp.refresh_from_db()
    assert idp.enabled
    assert list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)) == [
        "idp.disabled",
        "idp.enabled",
    ]
    assert admin_client.post(page(board, f"/{idp.pk}/explode")).status_code == HTTPStatus.NOT_FOUND
    assert admin_client.get(page(board, f"/{idp.pk}/disable")).status_code == (
        HTTPStatus.METHOD_NOT_ALLOWED
    )


def test_only_the_orgs_own_administrators_see_its_pages(board):
    school = SchoolFactory.create(parent=board)
    other_board = DistrictFactory.create()
    idp = make_idp(board)
    school_idp = make_idp(school)
    signin_log.record_failure(idp, FailureReason.UNMATCHED, subject="x")
    signin_log.record_failure(school_idp, FailureReason.OTHER_ORG, subject="y")
    outsiders = [
        SchoolAdministratorFactory.create(org=school),  # a school's admin: not the board's page
        BoardAdministratorFactory.create(org=other_board),
        TeacherFactory.create(org=school),
    ]
    for person in outsiders:
        client = Client()
        client.force_login(person)
        for url in (page(board), page(board, f"/{idp.pk}"), page(board, "/add")):
            assert client.get(url).status_code == HTTPStatus.NOT_FOUND, (person.role, url)
        assert client.post(page(board, f"/{idp.pk}/disable")).status_code == HTTPStatus.NOT_FOUND
    idp.refresh_from_db()
    assert idp.enabled
    # the school's admin sees the school's provider and its failures, not the board's
    school_admin = Client()
    school_admin.force_login(outsiders[0])
    text = main_text(school_admin.get(page(school)).content.decode())
    assert school_idp.name_ja in text and "ほかの組織の利用者です" in text
    assert idp.name_ja not in text and "名簿に該当する利用者がいません" not in text
    # an IdP of the board is not reachable through the school's URL
    assert school_admin.get(page(school, f"/{idp.pk}")).status_code == HTTPStatus.NOT_FOUND
    assert Client().get(page(board)).status_code == HTTPStatus.FOUND  # to the sign-in page


def test_the_configuration_test_reads_the_real_idp(admin_client, board, oidc_idp):
    idp = make_idp(board, server_url=oidc_idp.issuer, client_id=CLIENT_ID, secret=CLIENT_SECRET)
    answer = admin_client.post(page(board, f"/{idp.pk}/check"), follow=True)
    assert answer.status_code == HTTPStatus.OK
    text = main_text(answer.content.decode())
    assert "ディスカバリー文書を取得しました。" in text
    assert "発行者（issuer）は設定のとおりです。" in text
    assert "公開鍵（JWKS）に鍵が 1 個あります。" in text
    assert "この設定でログインできるはずです。" in text
    # a wrong issuer path: the document is not found; a closed port: no connection
    idp.app.settings = {**idp.app.settings, "server_url": oidc_idp.issuer + "/nothing-here"}
    idp.app.save()
    text = main_text(
        admin_client.post(page(board, f"/{idp.pk}/check"), follow=True).content.decode()
    )
    assert "HTTP 404 が返りました。" in text
    idp.app.settings = {**idp.app.settings, "server_url": f"http://127.0.0.1:{free_port()}"}
    idp.app.save()
    text = main_text(
        admin_client.post(page(board, f"/{idp.pk}/check"), follow=True).content.decode()
    )
    assert "接続できませんでした。" in text
    assert "この設定でログインできるはずです。" not in text


def test_the_configuration_test_redirects_and_shows_its_result_once(admin_client, board, oidc_idp):
    """POST → redirect → GET: reloading the page shows the list, and sends nothing again."""
    idp = make_idp(board, server_url=oidc_idp.issuer, client_id=CLIENT_ID, secret=CLIENT_SECRET)
    answer = admin_client.post(page(board, f"/{idp.pk}/check"))
    assert answer.status_code == HTTPStatus.FOUND
    assert answer["Location"] == page(board)
    shown = admin_client.get(page(board))
    assert shown.status_code == HTTPStatus.OK
    body = shown.content.decode()
    assert 'data-testid="check-report" data-ok="true"' in body
    assert f"「{idp.name_ja}」の設定のテスト" in body
    assert "この設定でログインできるはずです。" in main_text(body)
    reloaded = admin_client.get(page(board)).content.decode()
    assert 'data-testid="check-report"' not in reloaded
    assert idp.name_ja in reloaded  # the list itself


def test_a_kept_result_shows_only_on_its_own_organisations_page(admin_client, board):
    """A result kept for one IdP is not shown on a page that does not list it."""
    from sso.admin_views import CHECK_SESSION_KEY

    session = admin_client.session
    session[CHECK_SESSION_KEY] = {"idp": 987654, "ok": True, "lines": ["よそのテスト"]}
    session.save()
    body = admin_client.get(page(board)).content.decode()
    assert 'data-testid="check-report"' not in body and "よそのテスト" not in body
    assert CHECK_SESSION_KEY not in admin_client.session


@pytest.mark.parametrize(
    ("issuer", "resolved", "words"),
    [
        ("https://10.0.0.5", None, "内部のアドレス（10.0.0.5）"),
        ("http://127.0.0.1:9000", None, "内部のアドレス（127.0.0.1）"),
        ("https://idp.inside.example", "169.254.169.254", "内部のアドレス（169.254.169.254）"),
        ("https://idp.inside.example", "fd00::5", "内部のアドレス（fd00::5）"),
        (
            "https://idp.nowhere.example",
            "",
            "この URL のホスト（idp.nowhere.example）が見つかりません。",
        ),
    ],
)
def test_an_issuer_at_a_private_address_is_refused_and_nothing_written(
    admin_client, board, settings, monkeypatch, issuer, resolved, words
):
    settings.LTI_FETCH_PRIVATE_ADDRESSES = False
    if resolved is not None:
        resolve_as(monkeypatch, {urlsplit(issuer).hostname: answer(resolved) if resolved else []})
    refused = admin_client.post(page(board, "/add"), form(issuer=issuer))
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert words in main_text(refused.content.decode())
    assert not SocialApp.objects.exists()
    assert not AuditEvent.objects.exists()
    # an existing provider cannot be moved there either
    idp = make_idp(board, server_url="https://idp.manabi.example.jp")
    moved = admin_client.post(page(board, f"/{idp.pk}"), form(issuer=issuer))
    assert moved.status_code == HTTPStatus.BAD_REQUEST
    assert words in main_text(moved.content.decode())
    idp.app.refresh_from_db()
    assert idp.app.settings["server_url"] == "https://idp.manabi.example.jp"


def test_an_issuer_at_a_public_address_is_accepted(admin_client, board, settings, monkeypatch):
    settings.LTI_FETCH_PRIVATE_ADDRESSES = False
    resolve_as(monkeypatch, {"idp.manabi.example.jp": answer("203.0.113.7", "93.184.216.34")})
    answer_ = admin_client.post(page(board, "/add"), form())
    # 203.0.113.0/24 is documentation space, not global: one such address refuses the name
    assert answer_.status_code == HTTPStatus.BAD_REQUEST
    resolve_as(monkeypatch, {"idp.manabi.example.jp": answer("93.184.216.34")})
    assert admin_client.post(page(board, "/add"), form()).status_code == HTTPStatus.FOUND
    assert IdentityProvider.objects.get().app.settings["server_url"] == (
        "https://idp.manabi.example.jp"
    )
