"""LTI Dynamic Registration 1.0: the platform's OpenID configuration, registration tokens and
the registration endpoint, through the test client."""

from __future__ import annotations

import copy
import datetime
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from lti_platform.dynamic_registration import (
    RegistrationNotAllowed,
    start_dynamic_registration,
)
from lti_platform.protocol.claims import SUPPORTED_VARIABLES, custom_variables
from roster.models import RosterRole, User
from tests.factories import (
    BoardAdministratorFactory,
    DeploymentFactory,
    OperatorFactory,
    RegistrationFactory,
    UserFactory,
)
from tools_registry import grants
from tools_registry.models import Registration, RegistrationStatus, RegistrationToken, Tool

JSON = "application/json"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

METADATA: dict[str, Any] = {
    "application_type": "web",
    "response_types": ["id_token"],
    "grant_types": ["implicit", "client_credentials"],
    "initiate_login_uri": "https://tool.example.jp/lti/login",
    "redirect_uris": ["https://tool.example.jp/lti/launch"],
    "client_name": "かんじドリル",
    "jwks_uri": "https://keys.tool.example.jp/jwks.json",
    "token_endpoint_auth_method": "private_key_jwt",
    "scope": f"{AGS}score {NRPS}",
    "logo_uri": "https://tool.example.jp/logo.png",
    "https://canvas.instructure.com/lti/privacy_level": "public",
    TOOL_CONFIG: {
        "domain": "tool.example.jp",
        "target_link_uri": "https://tool.example.jp/lti/launch",
        "description": "漢字の練習",
        "custom_parameters": {"course": "$Context.id"},
        "claims": ["iss", "sub", "name", "https://example.jp/unknown"],
        "messages": [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": "https://tool.example.jp/lti/deep-link",
                "label": "課題を選ぶ",
                "placements": ["ContentArea", "course_navigation"],
            },
            {"type": "LtiStartProctoring"},
        ],
    },
}

STORED: dict[str, Any] = {
    "application_type": "web",
    "response_types": ["id_token"],
    "grant_types": ["implicit", "client_credentials"],
    "initiate_login_uri": "https://tool.example.jp/lti/login",
    "redirect_uris": ["https://tool.example.jp/lti/launch"],
    "client_name": "かんじドリル",
    "jwks_uri": "https://keys.tool.example.jp/jwks.json",
    "token_endpoint_auth_method": "private_key_jwt",
    "scope": f"{AGS}score {NRPS}",
    "logo_uri": "https://tool.example.jp/logo.png",
    TOOL_CONFIG: {
        "domain": "tool.example.jp",
        "target_link_uri": "https://tool.example.jp/lti/launch",
        "description": "漢字の練習",
        "custom_parameters": {"course": "$Context.id"},
        "claims": ["iss", "sub", "name"],
        "messages": [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": "https://tool.example.jp/lti/deep-link",
                "label": "課題を選ぶ",
                "placements": ["ContentArea"],
            }
        ],
    },
}


@pytest.fixture
def vendor(db: None) -> User:
    return UserFactory.create(username="vendor-a", role=RosterRole.VENDOR)


@pytest.fixture
def token(vendor: User) -> str:
    started = start_dynamic_registration(
        acting_user=vendor, tool_url="https://tool.example.jp/register", vendor=vendor
    )
    return parse_qs(urlsplit(started.url).query)["registration_token"][0]


def post(client: Client, token: str, body: Any, **extra: Any) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
    return client.post(
        "/lti/register", data, content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {token}", **extra
    )


def counts() -> dict[str, int]:
    return {
        "tools": Tool.objects.count(),
        "registrations": Registration.objects.count(),
        "used_tokens": RegistrationToken.objects.filter(used_at__isnull=False).count(),
    }


def refused(response: Any, status: int, body: dict[str, str], before: dict[str, int]) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert response["Cache-Control"] == "no-store"
    assert response.json() == body
    assert counts() == before


def with_change(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(METADATA)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()


# --- the OpenID configuration -----------------------------------------------------------------


def test_openid_configuration_is_the_exact_document(client: Client) -> None:
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == JSON
    assert response["Cache-Control"] == "public, max-age=300"
    assert response.json() == {
        "issuer": "http://testserver",
        "authorization_endpoint": "http://testserver/lti/authorize",
        "token_endpoint": "http://testserver/lti/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": "http://testserver/lti/jwks",
        "registration_endpoint": "http://testserver/lti/register",
        "scopes_supported": [
            "openid",
            AGS + "lineitem",
            AGS + "lineitem.readonly",
            AGS + "result.readonly",
            AGS + "score",
            NRPS,
        ],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": [
            "iss",
            "aud",
            "azp",
            "sub",
            "exp",
            "iat",
            "nonce",
            "locale",
            "name",
            "given_name",
            "family_name",
            "email",
        ],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "manabi-hub",
            "version": "0.1.0",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
                {"type": "LtiSubmissionReviewRequest"},
            ],
            "variables": list(SUPPORTED_VARIABLES),
        },
    }


def test_configuration_variables_are_those_the_launch_substitutes() -> None:
    from lti_platform.protocol.claims import Context, Person, ResourceLink

    given = custom_variables(
        person=Person(sub="s", username="u", sourced_id="p"),
        context=Context(id="c", label="l", title="t", sourced_id="cs"),
        resource_link=ResourceLink(id="r", title="t"),
        roles=[],
        platform_guid="g",
        share_name=True,
        share_email=True,
        grade="P5",
    )
    assert set(SUPPORTED_VARIABLES) == set(given) - {"$LineItem.resultValue.max"}


def test_openid_configuration_refuses_post(client: Client) -> None:
    response = client.post("/.well-known/openid-configuration")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "allowed methods: GET, HEAD",
    }


# --- starting a registration ------------------------------------------------------------------


def test_command_prints_the_url_with_a_hashed_single_use_token(vendor: User, capsys: Any) -> None:
    call_command(
        "start_dynamic_registration",
        "--tool-url",
        "https://tool.example.jp/register?x=1",
        "--vendor",
        "vendor-a",
    )
    url = capsys.readouterr().out.strip()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "tool.example.jp", "/register")
    assert query["x"] == ["1"]
    assert query["openid_configuration"] == ["http://testserver/.well-known/openid-configuration"]
    token = RegistrationToken.objects.get()
    secret = query["registration_token"][0]
    assert token.token_hash != secret and secret not in token.token_hash
    assert token.vendor == vendor and token.created_by is None
    assert token.expires_at - token.created_at == datetime.timedelta(hours=1)


def test_only_operators_board_admins_and_the_vendor_itself_start_one(vendor: User) -> None:
    url = "https://tool.example.jp/register"
    start_dynamic_registration(acting_user=OperatorFactory.create(), tool_url=url)
    start_dynamic_registration(
        acting_user=BoardAdministratorFactory.create(), tool_url=url, vendor=vendor
    )
    other = UserFactory.create(role=RosterRole.VENDOR)
    teacher = UserFactory.create(role=RosterRole.TEACHER)
    mine = RegistrationFactory.create(tool__vendor=other).tool
    cases: list[tuple[User, User | None, Tool | None]] = [
        (other, vendor, None),
        (other, None, None),
        (vendor, None, mine),
        (teacher, None, None),
    ]
    for acting_user, for_vendor, tool in cases:
        with pytest.raises(RegistrationNotAllowed):
            start_dynamic_registration(
                acting_user=acting_user, tool_url=url, vendor=for_vendor, tool=tool
            )
    with pytest.raises(RegistrationNotAllowed, match="is not a vendor account"):
        start_dynamic_registration(acting_user=None, tool_url=url, vendor=teacher)
    assert RegistrationToken.objects.count() == 2


# --- registering ------------------------------------------------------------------------------


def test_a_good_registration_is_stored_pending_and_answered(
    client: Client, token: str, vendor: User
) -> None:
    response = post(client, token, METADATA)
    assert response.status_code == HTTPStatus.CREATED
    assert response["Content-Type"] == JSON
    assert response["Cache-Control"] == "no-store"
    registration = Registration.objects.get()
    assert response.json() == {"client_id": registration.client_id, **STORED}
    assert registration.status == RegistrationStatus.PENDING
    assert registration.is_active is False
    assert registration.tool.vendor == vendor
    assert registration.tool.name == "かんじドリル"
    assert registration.tool.slug.startswith("dr-tool-example-jp-")
    assert (registration.initiate_login_uri, registration.target_link_uri) == (
        "https://tool.example.jp/lti/login",
        "https://tool.example.jp/lti/launch",
    )
    assert registration.redirect_uris == ["https://tool.example.jp/lti/launch"]
    assert registration.jwks_url == "https://keys.tool.example.jp/jwks.json"
    assert registration.deep_linking_url == "https://tool.example.jp/lti/deep-link"
    assert registration.custom_parameters == {"course": "$Context.id"}
    assert registration.allowed_services == ["ags", "nrps", "deep_linking"]
    assert registration.privacy_level == "id_only"
    assert registration.client_metadata == STORED
    assert RegistrationToken.objects.get().used_at is not None


def test_a_pending_registration_gets_no_service_token(client: Client, token: str) -> None:
    post(client, token, METADATA)
    client_id = Registration.objects.get().client_id
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _unsigned_assertion(client_id),
        "scope": AGS + "score",
    }
    response = client.post(
        "/lti/token", urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "client_id is unknown or not active",
    }


def _unsigned_assertion(client_id: str) -> str:
    """An assertion the platform refuses before its signature: the client is not active."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"iss": client_id, "sub": client_id}, key, algorithm="RS256")


def test_an_active_registration_no_board_approved_gets_no_token(client: Client, token: str) -> None:
    """Each board approves for itself (tools_registry.grants): active and deployed is not
    enough, the deployment's board must have approved the tool."""
    post(client, token, METADATA)
    Registration.objects.update(is_active=True)
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.PENDING
    DeploymentFactory.create(registration=registration)
    assert grants.active_grants(registration) == [grants.NOTHING]


def test_the_response_names_our_one_deployment(client: Client, vendor: User) -> None:
    first = start_dynamic_registration(acting_user=vendor, tool_url="https://t.jp/", vendor=vendor)
    post(client, parse_qs(urlsplit(first.url).query)["registration_token"][0], METADATA)
    registration = Registration.objects.get()
    DeploymentFactory.create(registration=registration, deployment_id="S_D113210000011")
    again = start_dynamic_registration(acting_user=vendor, tool_url="https://t.jp/", vendor=vendor)
    response = post(client, parse_qs(urlsplit(again.url).query)["registration_token"][0], METADATA)
    body = response.json()
    assert body[TOOL_CONFIG]["deployment_id"] == "S_D113210000011"


def test_re_registration_updates_the_tool_in_place(client: Client, vendor: User) -> None:
    def register(body: dict[str, Any]) -> Any:
        started = start_dynamic_registration(
            acting_user=vendor, tool_url="https://tool.example.jp/register", vendor=vendor
        )
        return post(client, parse_qs(urlsplit(started.url).query)["registration_token"][0], body)

    first = register(METADATA).json()
    registration = Registration.objects.get()
    # A board approves it (the approval pages come next) with AGS only.
    Registration.objects.update(status="approved", is_active=True, allowed_services=["ags"])
    changed = with_change(("jwks_uri",), "https://tool.example.jp/new-keys.json")
    changed["redirect_uris"] = ["https://tool.example.jp/lti/launch2"]
    response = register(changed)
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["client_id"] == first["client_id"]
    assert (Tool.objects.count(), Registration.objects.count()) == (1, 1)
    registration.refresh_from_db()
    assert registration.jwks_url == "https://tool.example.jp/new-keys.json"
    assert registration.redirect_uris == ["https://tool.example.jp/lti/launch2"]
    # Still approved and active; not granted more than it had.
    assert (registration.status, registration.is_active) == ("approved", True)
    assert registration.allowed_services == ["ags"]
    # Another vendor's registration of the same domain is another tool.
    other = UserFactory.create(role=RosterRole.VENDOR)
    started = start_dynamic_registration(acting_user=other, tool_url="https://x.jp/", vendor=other)
    post(client, parse_qs(urlsplit(started.url).query)["registration_token"][0], METADATA)
    assert Registration.objects.count() == 2


def test_a_rejected_tool_that_registers_again_is_pending_again(
    client: Client, token: str, vendor: User
) -> None:
    post(client, token, METADATA)
    Registration.objects.update(status="rejected")
    again = start_dynamic_registration(acting_user=vendor, tool_url="https://t.jp/", vendor=vendor)
    post(client, parse_qs(urlsplit(again.url).query)["registration_token"][0], METADATA)
    registration = Registration.objects.get()
    assert (registration.status, registration.is_active) == ("pending", False)


# --- negatives: the exact error, nothing stored, the token still unused -------------------------


def test_a_used_token_is_refused(client: Client, token: str) -> None:
    post(client, token, METADATA)
    before = counts()
    response = post(client, token, METADATA)
    refused(
        response,
        HTTPStatus.UNAUTHORIZED,
        {"error": "invalid_token", "error_description": "the registration token was already used"},
        before,
    )
    assert response["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="the registration token was already used"'
    )


def test_an_expired_token_is_refused(client: Client, token: str) -> None:
    RegistrationToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    refused(
        post(client, token, METADATA),
        HTTPStatus.UNAUTHORIZED,
        {"error": "invalid_token", "error_description": "the registration token has expired"},
        counts(),
    )


@pytest.mark.parametrize(
    ("authorization", "description"),
    [
        ("", "a registration token is required"),
        ("Basic abc", "a registration token is required"),
        ("Bearer not-a-token", "the registration token is unknown"),
    ],
)
def test_a_missing_or_unknown_token_is_refused(
    client: Client, token: str, authorization: str, description: str
) -> None:
    response = client.post(
        "/lti/register", json.dumps(METADATA), content_type=JSON, HTTP_AUTHORIZATION=authorization
    )
    refused(
        response,
        HTTPStatus.UNAUTHORIZED,
        {"error": "invalid_token", "error_description": description},
        counts(),
    )


REDIRECT = "invalid_redirect_uri"
METADATA_ERR = "invalid_client_metadata"


@pytest.mark.parametrize(
    ("path", "value", "error", "description"),
    [
        (
            ("redirect_uris",),
            ["http://tool.example.jp/lti/launch"],
            REDIRECT,
            "redirect_uris[0]: must be https (http only on localhost): "
            "http://tool.example.jp/lti/launch",
        ),
        (
            ("redirect_uris",),
            ["https://evil.example.com/launch"],
            REDIRECT,
            "redirect_uris[0]: https://evil.example.com/launch is outside the tool's domain "
            "tool.example.jp",
        ),
        (("redirect_uris",), [], REDIRECT, "redirect_uris: a non-empty array is required"),
        (
            ("redirect_uris",),
            ["javascript:alert(1)"],
            REDIRECT,
            "redirect_uris[0]: not an http(s) URL: 'javascript:alert(1)'",
        ),
        (
            ("initiate_login_uri",),
            "https://tool.example.jp.evil.com/login",
            METADATA_ERR,
            "initiate_login_uri: https://tool.example.jp.evil.com/login is outside the tool's "
            "domain tool.example.jp",
        ),
        (
            ("jwks_uri",),
            "https://cdn.example.net/jwks",
            METADATA_ERR,
            "jwks_uri: https://cdn.example.net/jwks is outside the tool's domain tool.example.jp",
        ),
        (
            (TOOL_CONFIG, "target_link_uri"),
            "https://other.example/launch",
            METADATA_ERR,
            f"{TOOL_CONFIG}.target_link_uri: https://other.example/launch is outside the tool's "
            "domain tool.example.jp",
        ),
        (
            (TOOL_CONFIG, "messages"),
            [{"type": "LtiDeepLinkingRequest", "target_link_uri": "https://x.example/dl"}],
            METADATA_ERR,
            f"{TOOL_CONFIG}.messages[0].target_link_uri: https://x.example/dl is outside the "
            "tool's domain tool.example.jp",
        ),
        (
            ("logo_uri",),
            "https://img.example.org/logo.png",
            METADATA_ERR,
            "logo_uri: https://img.example.org/logo.png is outside the tool's domain "
            "tool.example.jp",
        ),
        (("initiate_login_uri",), _DELETE, METADATA_ERR, "initiate_login_uri: required"),
        (("jwks_uri",), _DELETE, METADATA_ERR, "jwks_uri: required"),
        (("client_name",), _DELETE, METADATA_ERR, "client_name: required"),
        (("application_type",), _DELETE, METADATA_ERR, "application_type: required"),
        (("application_type",), "native", METADATA_ERR, 'application_type: must be "web"'),
        (("response_types",), ["code"], METADATA_ERR, 'response_types: must be ["id_token"]'),
        (
            ("grant_types",),
            ["implicit"],
            METADATA_ERR,
            'grant_types: must be ["implicit", "client_credentials"]',
        ),
        (
            ("token_endpoint_auth_method",),
            "client_secret_basic",
            METADATA_ERR,
            'token_endpoint_auth_method: must be "private_key_jwt"',
        ),
        ((TOOL_CONFIG,), _DELETE, METADATA_ERR, f"{TOOL_CONFIG}: required"),
        (
            (TOOL_CONFIG, "domain"),
            _DELETE,
            METADATA_ERR,
            f"{TOOL_CONFIG}.domain: a host name (optionally with a port) is required, not None",
        ),
        (
            (TOOL_CONFIG, "target_link_uri"),
            _DELETE,
            METADATA_ERR,
            f"{TOOL_CONFIG}.target_link_uri: required",
        ),
        (
            (TOOL_CONFIG, "custom_parameters"),
            {"n": 1},
            METADATA_ERR,
            f"{TOOL_CONFIG}.custom_parameters: an object of strings is required",
        ),
        (
            (TOOL_CONFIG, "custom_parameters"),
            {"grade": "P9"},
            METADATA_ERR,
            f"{TOOL_CONFIG}.custom_parameters: grade is set by the platform and cannot be "
            "configured",
        ),
        (
            (TOOL_CONFIG, "messages"),
            [{"label": "no type"}],
            METADATA_ERR,
            f"{TOOL_CONFIG}.messages[0].type: required",
        ),
        (
            ("scope",),
            f"{AGS}score https://example.jp/scope/everything openid",
            METADATA_ERR,
            "scope: not offered by this platform: https://example.jp/scope/everything openid "
            f"(offered: {AGS}lineitem {AGS}lineitem.readonly {AGS}result.readonly {AGS}score "
            f"{NRPS})",
        ),
    ],
)
def test_invalid_metadata_is_refused_with_the_field_and_nothing_stored(
    client: Client,
    token: str,
    path: tuple[str, ...],
    value: Any,
    error: str,
    description: str,
) -> None:
    refused(
        post(client, token, with_change(path, value)),
        HTTPStatus.BAD_REQUEST,
        {"error": error, "error_description": description},
        counts(),
    )
    assert RegistrationToken.objects.get().used_at is None


def test_oversized_metadata_is_refused(client: Client, token: str) -> None:
    body = with_change((TOOL_CONFIG, "description"), "あ" * 11_000)  # 33 000 bytes in UTF-8
    refused(
        post(client, token, body),
        HTTPStatus.BAD_REQUEST,
        {
            "error": "invalid_client_metadata",
            "error_description": "the client metadata is larger than 32768 bytes",
        },
        counts(),
    )


def test_a_body_that_is_not_json_is_refused(client: Client, token: str) -> None:
    refused(
        post(client, token, "{not json"),
        HTTPStatus.BAD_REQUEST,
        {"error": "invalid_client_metadata", "error_description": "the body is not valid JSON"},
        counts(),
    )
    refused(
        client.post(
            "/lti/register",
            "a=b",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ),
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        {
            "error": "unsupported_media_type",
            "error_description": "the body must be application/json",
        },
        counts(),
    )


def test_http_is_allowed_on_loopback_hosts(client: Client, token: str) -> None:
    body = copy.deepcopy(METADATA)
    local = "http://127.0.0.1:8123"
    body.update(
        initiate_login_uri=local + "/login",
        redirect_uris=[local + "/launch"],
        jwks_uri=local + "/jwks",
        logo_uri=local + "/logo.png",
    )
    body[TOOL_CONFIG].update(domain="127.0.0.1:8123", target_link_uri=local + "/launch")
    body[TOOL_CONFIG]["messages"] = [{"type": "LtiResourceLinkRequest"}]
    response = post(client, token, body)
    assert response.status_code == HTTPStatus.CREATED
    assert Registration.objects.get().redirect_uris == [local + "/launch"]
    wrong_port = dict(body, jwks_uri="http://127.0.0.1:9999/jwks")
    refused(
        post(client, _another_token(), wrong_port),
        HTTPStatus.BAD_REQUEST,
        {
            "error": "invalid_client_metadata",
            "error_description": "jwks_uri: http://127.0.0.1:9999/jwks is outside the tool's "
            "domain 127.0.0.1:8123",
        },
        counts(),
    )


def _another_token() -> str:
    started = start_dynamic_registration(acting_user=None, tool_url="https://tool.example.jp/r")
    return parse_qs(urlsplit(started.url).query)["registration_token"][0]


def test_urls_on_subdomains_and_secondary_domains_are_inside(client: Client, token: str) -> None:
    body = with_change(("jwks_uri",), "https://keys.partner.example.com/jwks")
    body[TOOL_CONFIG]["secondary_domains"] = ["partner.example.com"]
    assert post(client, token, body).status_code == HTTPStatus.CREATED


def test_register_refuses_get(client: Client) -> None:
    response = client.get("/lti/register")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "allowed methods: POST",
    }
