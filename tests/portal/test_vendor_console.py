"""The vendor console (/vendor/…): a vendor account's own tools — their status and where they
are deployed, the registration made by hand (the Dynamic Registration rules, exact errors,
nothing stored on a refusal), the values page, a Dynamic Registration started for a tool and
the refresh of its keys. Another vendor's tool, and the whole console for anyone without the
vendor role, answer 404 and change nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client
from django.utils.html import escape

from audit.models import AuditEvent
from lti_platform.protocol import jose
from roster.models import Org, OrgType, RosterRole, User
from tests.factories import (
    BoardAdministratorFactory,
    DeploymentFactory,
    DistrictFactory,
    PlacementFactory,
    RegistrationFactory,
    SchoolAdministratorFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
    ToolFactory,
    UserFactory,
)
from tests.lti_platform.service_helpers import private_key
from tests.portal.test_school_admin import _Page, page
from tests.tools_registry.test_tool_keys import ToolJwks
from tools_registry.models import Registration, RegistrationStatus, RegistrationToken, Tool

pytestmark = pytest.mark.django_db

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
GOOD: dict[str, Any] = {
    "name": "かんじドリル",
    "description": "漢字の練習",
    "domain": "",
    "initiate_login_uri": "https://tool.example.jp/lti/login",
    "redirect_uris": "https://tool.example.jp/lti/launch\r\nhttps://app.tool.example.jp/launch",
    "target_link_uri": "https://tool.example.jp/lti/launch",
    "deep_linking_url": "https://tool.example.jp/lti/deep-link",
    "jwks_url": "https://keys.tool.example.jp/jwks.json",
    "public_key": "",
    "custom_parameters": "course=$Context.id\r\nlevel = 3",
    "services": ["ags", "nrps"],
    "privacy_level": "name",
}


def vendor(username: str) -> User:
    return UserFactory.create(
        username=username, role=RosterRole.VENDOR, last_name="教材", first_name=username
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def vendor_registration(owner: User | None, slug: str, **fields: Any) -> Registration:
    tool = ToolFactory.create(slug=slug, name=f"ツール {slug}", vendor=owner)
    return RegistrationFactory.create(tool=tool, **fields)


def pem_of(kid: str) -> str:
    public = private_key(kid).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def snapshot() -> list[tuple[Any, ...]]:
    """Every tool and registration as stored, with the audit rows and registration tokens."""
    return [
        *Tool.objects.order_by("pk").values_list(),
        *Registration.objects.order_by("pk").values_list(),
        ("audit", AuditEvent.objects.count()),
        ("tokens", RegistrationToken.objects.count()),
    ]


def field_error(body: str, field: str, message: str) -> bool:
    return f'<ul class="errorlist" id="id_{field}_error"><li>{escape(message)}</li></ul>' in body


# --- home ------------------------------------------------------------------------------------


def test_a_vendor_sees_only_its_tools_with_status_deployments_and_placements() -> None:
    mine, other = vendor("vendor-a"), vendor("vendor-b")
    board = DistrictFactory.create(name="まなび市教育委員会")
    school = SchoolFactory.create(parent=board, name="さくら小学校")
    approved = vendor_registration(mine, "a-drill")
    deployment = DeploymentFactory.create(registration=approved, org=board, deployment_id="B_1")
    PlacementFactory.create(deployment=deployment, school=school, school_class=None)
    PlacementFactory.create(deployment=deployment, school=school)
    DeploymentFactory.create(registration=approved, org=school, deployment_id="S_1")
    vendor_registration(mine, "b-pending", status=RegistrationStatus.PENDING, is_active=False)
    rejected = vendor_registration(
        mine, "c-rejected", status=RegistrationStatus.REJECTED, is_active=False
    )
    Registration.objects.filter(pk=rejected.pk).update(rejection_reason="氏名は送れません")
    vendor_registration(other, "d-theirs")
    vendor_registration(None, "e-operators")

    parsed = page(signed_in(mine), "/vendor/")

    # Each board's decision (here the platform's, for boards without one of their own).
    boards = [b.name for b in Org.objects.filter(type=OrgType.DISTRICT).order_by("name", "pk")]
    assert parsed.tables["tools"] == [
        ["ツール", "承認", "配備先", "配置"],
        [
            "ツール a-drill",
            " / ".join(f"{b}: 承認済み" for b in boards),
            "さくら小学校（学校） / まなび市教育委員会（教育委員会）",
            "2か所",
        ],
        [
            "ツール b-pending",
            " / ".join(f"{b}: 承認待ち" for b in boards),
            "まだ配備されていません",
            "0か所",
        ],
        [
            "ツール c-rejected",
            " / ".join(f"{b}: 却下 / 理由: 氏名は送れません" for b in boards),
            "まだ配備されていません",
            "0か所",
        ],
    ]
    assert ("＋ ツールを登録する", "/vendor/tools/new") in parsed.links


def test_the_home_page_sends_a_vendor_to_the_console() -> None:
    response = signed_in(vendor("vendor-a")).get("/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/vendor/"


def test_a_vendor_without_tools_sees_an_empty_list() -> None:
    parsed = page(signed_in(vendor("vendor-a")), "/vendor/")
    assert parsed.tables["tools"] == [
        ["ツール", "承認", "配備先", "配置"],
        ["登録したツールはまだありません。"],
    ]


# --- who gets the console --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: StudentFactory.create(),
        lambda: TeacherFactory.create(),
        lambda: SchoolAdministratorFactory.create(),
        lambda: BoardAdministratorFactory.create(),
        lambda: UserFactory.create(
            role=RosterRole.DISTRICT_ADMINISTRATOR, is_staff=True, is_superuser=True
        ),
    ],
    ids=["student", "teacher", "school-admin", "board-admin", "operator"],
)
def test_only_vendor_accounts_get_the_console(make: Any) -> None:
    owner = vendor("vendor-a")
    vendor_registration(owner, "a-drill")
    user: User = make()
    client = signed_in(user)
    before = snapshot()
    for url in ("/vendor/", "/vendor/tools/new", "/vendor/tools/a-drill/"):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
    assert client.post("/vendor/tools/new", GOOD).status_code == HTTPStatus.NOT_FOUND
    new_registration = {"tool_url": "https://new-drill.example/lti/register"}
    response = client.post("/vendor/dynamic-registration", new_registration)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert snapshot() == before


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    response = Client().get("/vendor/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/vendor/"


# --- another vendor's tool -------------------------------------------------------------------


def test_another_vendors_tool_is_not_found_and_nothing_changes() -> None:
    vendor_registration(vendor("vendor-b"), "b-tool", jwks_url="https://b-tool.example/jwks")
    client = signed_in(vendor("vendor-a"))
    before = snapshot()
    for url in ("/vendor/tools/b-tool/", "/vendor/tools/b-tool/edit", "/vendor/tools/none/"):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
    posts = {
        "/vendor/tools/b-tool/edit": {**GOOD, "domain": "b-tool.example"},
        "/vendor/tools/b-tool/dynamic-registration": {"tool_url": "https://b-tool.example/dr"},
        "/vendor/tools/b-tool/refresh-keys": {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == HTTPStatus.NOT_FOUND, url
    assert snapshot() == before


# --- the registration made by hand -----------------------------------------------------------


def broken(rule: str) -> str:
    """The form's message for a Dynamic Registration rule the values break: Japanese first,
    then the rule in the spec's own words."""
    return f"LTI の登録の規則に合いません（{rule}）。"


def required(rule: str) -> str:
    """The form's message for a value Dynamic Registration requires."""
    return f"入力してください（{rule}）。"


BAD_CASES = [
    (
        "redirect_uris",
        {"redirect_uris": "http://tool.example.jp/lti/launch"},
        broken(
            "redirect_uris[0]: must be https (http only on localhost): "
            "http://tool.example.jp/lti/launch"
        ),
    ),
    (
        "target_link_uri",
        {"target_link_uri": "https://elsewhere.example.com/launch"},
        broken(
            f"{TOOL_CONFIG}.target_link_uri: https://elsewhere.example.com/launch is outside the "
            "tool's domain tool.example.jp"
        ),
    ),
    (
        "jwks_url",
        {"jwks_url": "https://keys.example.net/jwks.json"},
        broken(
            "jwks_uri: https://keys.example.net/jwks.json is outside the tool's domain "
            "tool.example.jp"
        ),
    ),
    (
        "deep_linking_url",
        {"deep_linking_url": "http://tool.example.jp/dl"},
        broken(
            f"{TOOL_CONFIG}.messages[0].target_link_uri: must be https (http only on localhost): "
            "http://tool.example.jp/dl"
        ),
    ),
    ("name", {"name": ""}, required("client_name: required")),
    ("initiate_login_uri", {"initiate_login_uri": ""}, required("initiate_login_uri: required")),
    (
        "redirect_uris",
        {"redirect_uris": ""},
        required("redirect_uris: a non-empty array is required"),
    ),
    (
        "target_link_uri",
        {"target_link_uri": ""},
        required(f"{TOOL_CONFIG}.target_link_uri: required"),
    ),
    (
        "domain",
        {"domain": "not a domain"},
        broken(
            f"{TOOL_CONFIG}.domain: a host name (optionally with a port) is required, "
            "not 'not a domain'"
        ),
    ),
    (
        "custom_parameters",
        {"custom_parameters": "grade=5"},
        broken(
            f"{TOOL_CONFIG}.custom_parameters: grade is set by the platform and cannot be "
            "configured"
        ),
    ),
    (
        "custom_parameters",
        {"custom_parameters": "no value here"},
        "「no value here」: キー=値 の形で書いてください。",
    ),
    (
        "jwks_url",
        {"jwks_url": ""},
        "JWKS URL か公開鍵（JWK または PEM）のどちらかを入力してください。",
    ),
    (
        "public_key",
        {"public_key": pem_of("k1")},
        "JWKS URL と公開鍵は、どちらか一方だけを入力してください。",
    ),
    (
        "public_key",
        {
            "jwks_url": "",
            "public_key": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
        },
        "PEM の公開鍵として読めません（-----BEGIN PUBLIC KEY----- で始まる形）。",
    ),
    (
        "public_key",
        {"jwks_url": "", "public_key": '{"kty": "RSA", "n": "AQAB"}'},
        "JWK として読めません（RSA の公開鍵の JWK を貼り付けてください）。",
    ),
    (
        "public_key",
        {
            "jwks_url": "",
            "public_key": private_key("k1")
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode(),
        },
        "秘密鍵です。公開鍵だけを貼り付けてください（秘密鍵は誰にも渡さないでください）。",
    ),
    (
        "services",
        {"services": ["deep_linking"]},
        "正しく選択してください。 deep_linking は候補にありません。",
    ),
]


@pytest.mark.parametrize(
    ("field", "change", "message"), BAD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CASES)]
)
def test_a_bad_registration_is_refused_with_the_exact_error_and_nothing_stored(
    field: str, change: dict[str, Any], message: str
) -> None:
    client = signed_in(vendor("vendor-a"))
    before = snapshot()
    response = client.post("/vendor/tools/new", {**GOOD, **change})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.content.decode()
    assert field_error(body, field, message), body
    assert snapshot() == before


def test_a_second_tool_on_the_same_domain_is_refused() -> None:
    client = signed_in(vendor("vendor-a"))
    assert client.post("/vendor/tools/new", GOOD).status_code == HTTPStatus.FOUND
    before = snapshot()
    response = client.post("/vendor/tools/new", {**GOOD, "name": "もうひとつ"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    message = (
        "このドメインのツール「かんじドリル」はもう登録されています。そのツールを編集してください。"
    )
    assert field_error(response.content.decode(), "domain", message)
    assert snapshot() == before


def test_a_good_new_tool_is_stored_pending_and_inactive_and_audited() -> None:
    owner = vendor("vendor-a")
    response = signed_in(owner).post("/vendor/tools/new", GOOD)

    registration = Registration.objects.select_related("tool").get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/vendor/tools/{registration.tool.slug}/"
    tool = registration.tool
    assert (tool.name, tool.description, tool.vendor) == ("かんじドリル", "漢字の練習", owner)
    assert registration.status == RegistrationStatus.PENDING
    assert registration.is_active is False
    assert registration.initiate_login_uri == "https://tool.example.jp/lti/login"
    assert registration.redirect_uris == [
        "https://tool.example.jp/lti/launch",
        "https://app.tool.example.jp/launch",
    ]
    assert registration.target_link_uri == "https://tool.example.jp/lti/launch"
    assert registration.deep_linking_url == "https://tool.example.jp/lti/deep-link"
    assert registration.jwks_url == "https://keys.tool.example.jp/jwks.json"
    assert registration.public_key_pem == ""
    assert registration.custom_parameters == {"course": "$Context.id", "level": "3"}
    assert registration.allowed_services == ["ags", "nrps", "deep_linking"]
    config = registration.client_metadata[TOOL_CONFIG]
    assert config["domain"] == "tool.example.jp"
    assert config["claims"] == ["sub", "name", "given_name", "family_name"]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.org, event.before) == (
        "tool.registered",
        owner,
        None,
        None,
    )
    assert event.after is not None
    assert event.after["status"] == "pending"
    assert event.after["jwks_url"] == "https://keys.tool.example.jp/jwks.json"


def test_a_tool_may_give_a_jwk_instead_of_a_jwks_url() -> None:
    jwk = jose.public_jwk(private_key("k9").public_key())
    data = {**GOOD, "jwks_url": "", "public_key": json.dumps(jwk)}
    response = signed_in(vendor("vendor-a")).post("/vendor/tools/new", data)
    assert response.status_code == HTTPStatus.FOUND
    registration = Registration.objects.get()
    assert (registration.jwks_url, registration.public_key_pem) == ("", pem_of("k9"))


def test_an_edit_of_an_approved_tool_keeps_it_approved_and_is_audited() -> None:
    owner = vendor("vendor-a")
    registration = vendor_registration(
        owner, "a-drill", jwks_url="https://a-drill.example/jwks", allowed_services=["ags"]
    )
    client = signed_in(owner)
    form = client.get("/vendor/tools/a-drill/edit")
    assert form.status_code == HTTPStatus.OK
    assert 'value="https://a-drill.example/login"' in form.content.decode()
    data = {
        **GOOD,
        "initiate_login_uri": "https://a-drill.example/v2/login",
        "redirect_uris": "https://a-drill.example/v2/launch",
        "target_link_uri": "https://a-drill.example/v2/launch",
        "deep_linking_url": "",
        "jwks_url": "",
        "public_key": pem_of("k2"),
        "custom_parameters": "",
    }
    response = client.post("/vendor/tools/a-drill/edit", data)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/vendor/tools/a-drill/"
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    assert registration.is_active is True
    assert registration.initiate_login_uri == "https://a-drill.example/v2/login"
    assert (registration.jwks_url, registration.public_key_pem) == ("", pem_of("k2"))
    assert registration.allowed_services == ["ags"]  # NRPS asked for: waits for an approval
    assert Tool.objects.count() == 1
    event = AuditEvent.objects.get()
    assert (event.action, event.org) == ("tool.changed", None)
    assert event.before is not None and event.after is not None
    assert event.before["jwks_url"] == "https://a-drill.example/jwks"
    assert event.after["initiate_login_uri"] == "https://a-drill.example/v2/login"
    assert event.after["status"] == "approved"


# --- the tool page ---------------------------------------------------------------------------


def test_the_tool_page_shows_every_value_the_tool_needs(settings: Any) -> None:
    owner = vendor("vendor-a")
    registration = vendor_registration(owner, "a-drill", jwks_url="https://a-drill.example/jwks")
    board: Org = DistrictFactory.create(name="まなび市教育委員会")
    school: Org = SchoolFactory.create(parent=board, name="さくら小学校")
    DeploymentFactory.create(registration=registration, org=board, deployment_id="B_131001")
    DeploymentFactory.create(registration=registration, org=school, deployment_id="S_B113210000019")

    parsed: _Page = page(signed_in(owner), "/vendor/tools/a-drill/")

    assert parsed.tables["sheet"] == [
        ["Issuer（iss）", "http://testserver"],
        ["クライアントID（client_id）", registration.client_id],
        ["認可エンドポイント（OIDC 認証）", "http://testserver/lti/authorize"],
        ["トークンエンドポイント", "http://testserver/lti/token"],
        ["プラットフォームの JWKS URL", "http://testserver/lti/jwks"],
        [
            "OpenID 設定（openid-configuration）",
            "http://testserver/.well-known/openid-configuration",
        ],
    ]
    assert parsed.tables["deployments"] == [
        ["配備ID", "配備先", "配置"],
        ["S_B113210000019", "さくら小学校（学校）", "0か所"],
        ["B_131001", "まなび市教育委員会（教育委員会）", "0か所"],
    ]
    assert parsed.texts["status"] == "承認済み"
    assert parsed.texts["tool-jwks"] == "https://a-drill.example/jwks"


def test_a_dynamic_registration_started_for_the_tool_shows_the_url_to_open() -> None:
    owner = vendor("vendor-a")
    vendor_registration(owner, "a-drill")
    response = signed_in(owner).post(
        "/vendor/tools/a-drill/dynamic-registration",
        {"tool_url": "https://a-drill.example/lti/register?lang=ja"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "no-cache" in response["Cache-Control"]
    token = RegistrationToken.objects.get()
    assert (token.tool, token.vendor, token.created_by) == (Tool.objects.get(), owner, owner)
    assert token.tool_url == "https://a-drill.example/lti/register?lang=ja"
    parsed = _Page()
    parsed.feed(response.content.decode())
    url = parsed.texts["started-url"]
    prefix = "https://a-drill.example/lti/register?lang=ja&" + urlencode(
        {"openid_configuration": "http://testserver/.well-known/openid-configuration"}
    )
    assert url.startswith(prefix + "&registration_token="), url
    event = AuditEvent.objects.get()
    assert (event.action, event.org) == ("tool.registration_started", None)


def test_a_bad_registration_url_is_refused_and_nothing_stored() -> None:
    owner = vendor("vendor-a")
    vendor_registration(owner, "a-drill")
    before = snapshot()
    response = signed_in(owner).post(
        "/vendor/tools/a-drill/dynamic-registration", {"tool_url": "ftp://a-drill.example/"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    message = "tool_url: not an http(s) URL: 'ftp://a-drill.example/'"
    assert field_error(response.content.decode(), "tool_url", message)
    assert snapshot() == before


def test_a_dynamic_registration_for_a_new_tool_shows_the_url_to_open_on_the_home_page() -> None:
    owner = vendor("vendor-a")
    response = signed_in(owner).post(
        "/vendor/dynamic-registration", {"tool_url": "https://new-drill.example/lti/register"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "no-cache" in response["Cache-Control"]
    token = RegistrationToken.objects.get()
    assert (token.tool, token.vendor, token.created_by) == (None, owner, owner)
    assert token.tool_url == "https://new-drill.example/lti/register"
    parsed = _Page()
    parsed.feed(response.content.decode())
    url = parsed.texts["started-url"]
    prefix = "https://new-drill.example/lti/register?" + urlencode(
        {"openid_configuration": "http://testserver/.well-known/openid-configuration"}
    )
    assert url.startswith(prefix + "&registration_token="), url
    assert not Tool.objects.exists()  # the tool is made by the registration itself
    event = AuditEvent.objects.get()
    assert (event.action, event.target_type, event.target_id, event.org) == (
        "tool.registration_started",
        "vendor",
        str(owner.pk),
        None,
    )


def test_a_new_tools_bad_registration_url_is_refused_and_nothing_stored() -> None:
    owner = vendor("vendor-a")
    before = snapshot()
    response = signed_in(owner).post(
        "/vendor/dynamic-registration", {"tool_url": "ftp://new-drill.example/"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    message = "tool_url: not an http(s) URL: 'ftp://new-drill.example/'"
    assert field_error(response.content.decode(), "tool_url", message)
    assert snapshot() == before


@pytest.fixture
def jwks_server() -> Iterator[ToolJwks]:
    jwks = ToolJwks()
    thread = threading.Thread(target=jwks.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield jwks
    finally:
        jwks.server.shutdown()
        jwks.server.server_close()
        thread.join(timeout=10)


def test_refresh_keys_fetches_the_tools_jwks_now(jwks_server: ToolJwks) -> None:
    owner = vendor("vendor-a")
    registration = vendor_registration(owner, "a-drill", jwks_url=jwks_server.url)
    client = signed_in(owner)
    jwks_server.kids = ["k1"]
    assert client.post("/vendor/tools/a-drill/refresh-keys").status_code == HTTPStatus.FOUND
    assert page(client, "/vendor/tools/a-drill/").texts["messages"] == (
        "鍵を再取得しました（1個: k1）。"
    )
    jwks_server.kids = ["k1", "k2"]  # rotated: a refresh fetches again at once
    response = client.post("/vendor/tools/a-drill/refresh-keys")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/vendor/tools/a-drill/"
    assert jwks_server.fetches == 2
    parsed = page(client, "/vendor/tools/a-drill/")
    assert parsed.texts["messages"] == "鍵を再取得しました（2個: k1、k2）。"
    events = AuditEvent.objects.order_by("pk")
    assert [(e.action, e.org, e.after) for e in events][-1] == (
        "tool.keys_refreshed",
        None,
        {"jwks_url": registration.jwks_url, "kids": ["k1", "k2"]},
    )


def test_refresh_keys_says_why_the_jwks_could_not_be_fetched(jwks_server: ToolJwks) -> None:
    owner = vendor("vendor-a")
    vendor_registration(owner, "a-drill", jwks_url=jwks_server.url)
    jwks_server.status = HTTPStatus.INTERNAL_SERVER_ERROR
    response = signed_in(owner).post("/vendor/tools/a-drill/refresh-keys")
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    parsed = _Page()
    parsed.feed(response.content.decode())
    assert parsed.texts["error"] == "鍵を取得できませんでした: tool JWKS unreachable: HTTP 500"
    assert AuditEvent.objects.count() == 0


def test_a_tool_with_a_registered_pem_has_nothing_to_refresh() -> None:
    owner = vendor("vendor-a")
    vendor_registration(owner, "a-drill", jwks_url="", public_key_pem=pem_of("k1"))
    response = signed_in(owner).post("/vendor/tools/a-drill/refresh-keys")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    parsed = _Page()
    parsed.feed(response.content.decode())
    assert parsed.texts["error"] == (
        "このツールの鍵は登録した公開鍵です。JWKS URL がないので再取得はありません。"
    )
