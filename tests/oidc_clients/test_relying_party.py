"""A real relying party — Authlib's OAuth 2.0 client and its OpenID Connect ID token rules, on
joserfc — signs in through the portal's provider served by a live server: discovery,
authorization code with PKCE, the token endpoint, ID token validation against our JWKS, and
UserInfo. The person's browser is a ``requests`` session holding a portal session cookie.

Negative cases answer exactly what the specifications say and leave nothing issued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.idp.oidc.models import Token
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from oidc_clients import services
from oidc_clients.adapter import subject
from oidc_clients.protocol.claims import ROSTER_CLAIM
from oidc_clients.services import Issued
from roster.models import User
from tests.oidc_clients.conftest import REDIRECT_URI, Board
from tools_registry.models import PrivacyLevel

pytestmark = pytest.mark.django_db(transaction=True)

# Claims every ID token has besides the user's (OpenID Connect Core §2, allauth's jti).
TOKEN_CLAIMS = {"iss", "aud", "exp", "iat", "auth_time", "nonce", "jti", "at_hash"}


@pytest.fixture
def provider(live_server: Any, settings: Any) -> str:
    settings.LTI_ISSUER = live_server.url
    return str(live_server.url)


@pytest.fixture
def browser(provider: str) -> Iterator[Callable[[User], requests.Session]]:
    """A browser signed in to the portal as the given person (a real session row)."""
    sessions: list[requests.Session] = []

    def signed_in(user: User) -> requests.Session:
        django_client = Client()
        django_client.force_login(user)
        browser = requests.Session()
        name = settings.SESSION_COOKIE_NAME
        browser.cookies.set(name, django_client.cookies[name].value)
        sessions.append(browser)
        return browser

    yield signed_in
    for s in sessions:
        s.close()


@dataclass
class RelyingParty:
    """One tool's "Sign in with まなびハブ", configured only from what the board hands over:
    the issuer (discovery), the client id and the secret."""

    issuer: str
    client_id: str
    secret: str
    metadata: dict[str, Any]
    scope: str = "openid profile email"

    def session(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.secret,
            scope=self.scope,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
        )

    def jwks(self) -> KeySet:
        return KeySet.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=10).json())


@dataclass
class Started:
    oauth: OAuth2Session
    url: str
    state: str
    nonce: str
    verifier: str


def discover(provider: str, issued: Issued, scope: str = "openid profile email") -> RelyingParty:
    issuer = provider + "/oidc"
    response = requests.get(issuer + "/.well-known/openid-configuration", timeout=10)
    assert response.status_code == HTTPStatus.OK
    return RelyingParty(
        issuer=issuer,
        client_id=issued.oidc_client.client_id,
        secret=issued.secret,
        metadata=response.json(),
        scope=scope,
    )


def start(rp: RelyingParty, **extra: str) -> Started:
    oauth = rp.session()
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = oauth.create_authorization_url(
        rp.metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    return Started(oauth, url, state, nonce, verifier)


def authorize(browser: requests.Session, started: Started) -> str:
    """The browser follows the authorization request; the provider's redirect's Location."""
    response = browser.get(started.url, allow_redirects=False, timeout=10)
    assert response.status_code == HTTPStatus.FOUND, response.text[:500]
    return str(response.headers["Location"])


def validated_id_token(rp: RelyingParty, started: Started, token: dict[str, Any]) -> CodeIDToken:
    """ID token validation (Core §3.1.3.7) by the library: signature against our JWKS, iss,
    aud, exp, iat, nonce, azp and at_hash."""
    decoded = jwt.decode(token["id_token"], rp.jwks(), algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={
            "iss": {"essential": True, "value": rp.issuer},
            "aud": {"essential": True, "value": rp.client_id},
        },
        params={
            "nonce": started.nonce,
            "client_id": rp.client_id,
            "access_token": token["access_token"],
        },
    )
    claims.validate(leeway=30)
    return claims


def sign_in(rp: RelyingParty, browser: requests.Session) -> tuple[Started, dict[str, Any]]:
    started = start(rp)
    location = authorize(browser, started)
    token = started.oauth.fetch_token(
        rp.metadata["token_endpoint"],
        authorization_response=location,
        code_verifier=started.verifier,
    )
    return started, dict(token)


def user_claims(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in TOKEN_CLAIMS}


def roster(board: Board) -> dict[str, Any]:
    return {
        "board": {
            "id": str(board.board.sourced_id),
            "name": "まなび市教育委員会",
            "code": board.board.identifier,
        },
        "school": {
            "id": str(board.school.sourced_id),
            "name": "まなび市立さくら小学校",
            "code": "B113299300015",
        },
        "grade": "P5",
        "role": "student",
    }


def tokens_issued() -> int:
    return Token.objects.filter(
        type__in=[Token.Type.AUTHORIZATION_CODE, Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN]
    ).count()


# --- discovery ------------------------------------------------------------------------------


def test_discovery_names_the_provider_issuer_apart_from_the_lti_platform(provider: str) -> None:
    issuer = provider + "/oidc"
    body = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert body["issuer"] == issuer
    assert body["authorization_endpoint"] == issuer + "/identity/o/authorize"
    assert body["token_endpoint"] == issuer + "/identity/o/api/token"
    assert body["userinfo_endpoint"] == issuer + "/identity/o/api/userinfo"
    assert body["jwks_uri"] == issuer + "/.well-known/jwks.json"
    assert body["response_types_supported"] == ["code"]
    assert body["grant_types_supported"] == ["authorization_code"]
    assert body["subject_types_supported"] == ["pairwise"]
    assert body["scopes_supported"] == ["openid", "profile", "email"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert "device_authorization_endpoint" not in body
    assert ROSTER_CLAIM in body["claims_supported"]
    # The LTI platform's own document at the root is unchanged: LTI launches, not this.
    lti = requests.get(provider + "/.well-known/openid-configuration", timeout=10).json()
    assert lti["issuer"] == provider
    assert lti["authorization_endpoint"] == provider + "/lti/authorize"


# --- sign-in, claims by privacy level -------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "personal"),
    [
        (PrivacyLevel.ID_ONLY, {}),
        (
            PrivacyLevel.NAME,
            {
                "name": "佐藤\u3000陽翔",
                "family_name": "佐藤",
                "given_name": "陽翔",
                "name#ja-Hira": "さとう\u3000はると",
                "family_name#ja-Hira": "さとう",
                "given_name#ja-Hira": "はると",
            },
        ),
        (
            PrivacyLevel.NAME_EMAIL,
            {
                "name": "佐藤\u3000陽翔",
                "family_name": "佐藤",
                "given_name": "陽翔",
                "name#ja-Hira": "さとう\u3000はると",
                "family_name#ja-Hira": "さとう",
                "given_name#ja-Hira": "はると",
                "email": "haruto@example.jp",
                "email_verified": False,
            },
        ),
    ],
)
def test_a_child_signs_in_and_the_tool_gets_what_the_privacy_level_allows(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
    level: str,
    personal: dict[str, Any],
) -> None:
    issued = register(privacy_level=level)
    rp = discover(provider, issued)
    started, token = sign_in(rp, browser(board.student))

    claims = validated_id_token(rp, started, token)
    sub = subject(issued.oidc_client, board.student)
    expected = {"sub": sub, **personal, ROSTER_CLAIM: roster(board)}
    assert user_claims(dict(claims)) == expected
    assert claims["iss"] == rp.issuer
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == started.nonce
    assert token["token_type"] == "Bearer"
    assert sorted(token["scope"].split()) == ["email", "openid", "profile"]

    userinfo = started.oauth.get(rp.metadata["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == HTTPStatus.OK
    assert userinfo.headers["Cache-Control"] == "no-store"
    assert userinfo.json() == expected


def test_only_the_scopes_asked_for_are_answered(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    """A name_email grant, but the tool asks only openid: sub and the roster claim."""
    rp = discover(provider, register(privacy_level=PrivacyLevel.NAME_EMAIL), scope="openid")
    started, token = sign_in(rp, browser(board.student))
    sub = subject(rp_client(rp), board.student)
    assert user_claims(dict(validated_id_token(rp, started, token))) == {
        "sub": sub,
        ROSTER_CLAIM: roster(board),
    }


def rp_client(rp: RelyingParty) -> Any:
    from oidc_clients.models import OidcClient

    return OidcClient.objects.get(client_id=rp.client_id)


def test_the_subject_is_pairwise_per_client(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    first = discover(provider, register(name="ツールA"))
    second = discover(provider, register(name="ツールB"))
    person = browser(board.student)
    subs = []
    for rp in (first, second):
        started, token = sign_in(rp, person)
        subs.append(validated_id_token(rp, started, token)["sub"])
    assert subs[0] != subs[1]
    assert str(board.student.eportal_uuid) not in subs
    # Stable: the same person signs in again to the first tool with the same sub.
    started, token = sign_in(first, person)
    assert validated_id_token(first, started, token)["sub"] == subs[0]


def test_a_client_opened_to_one_class_signs_in_its_members_only(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register(classes=[board.klass]))
    started, token = sign_in(rp, browser(board.teacher))  # the class's teacher
    assert validated_id_token(rp, started, token)[ROSTER_CLAIM]["role"] == "teacher"

    started = start(rp)
    location = authorize(browser(board.classmate_elsewhere), started)
    assert_access_denied(
        location,
        started,
        "the user is not in a class the board has opened this client to",
    )


# --- refusals -------------------------------------------------------------------------------


def assert_access_denied(location: str, started: Started, description: str) -> None:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    assert parse_qs(parts.query) == {
        "error": ["access_denied"],
        "error_description": [description],
        "state": [started.state],
    }


def test_a_person_of_another_board_goes_back_with_access_denied_and_nothing_issued(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register())
    started = start(rp)
    location = authorize(browser(board.outsider), started)
    assert_access_denied(location, started, "the user does not belong to the board of this client")
    assert tokens_issued() == 0


def test_a_school_not_chosen_goes_back_with_access_denied(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register(schools=[board.other_school]))
    started = start(rp)
    location = authorize(browser(board.student), started)
    assert_access_denied(
        location, started, "the board has not opened this client to the user's school"
    )
    assert tokens_issued() == 0


def page_refusal(response: requests.Response, description: str) -> None:
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<code>{description}</code>" in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8765/callback/",  # one character more
        "http://127.0.0.1:8765/callback?next=/",  # a query the registration does not have
        "http://127.0.0.1:9999/callback",  # another port of the loopback host
        "https://evil.example/callback",
    ],
)
def test_a_redirect_uri_not_registered_exactly_is_a_page_never_a_redirect(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
    redirect_uri: str,
) -> None:
    rp = discover(provider, register())
    oauth = rp.session()
    oauth.redirect_uri = redirect_uri
    url, _state = oauth.create_authorization_url(
        rp.metadata["authorization_endpoint"], code_verifier=generate_token(48), nonce="n-1"
    )
    response = browser(board.student).get(url, allow_redirects=False, timeout=10)
    page_refusal(response, "redirect_uri is not registered for this client")
    assert tokens_issued() == 0


def test_an_unknown_client_is_a_page(
    provider: str, board: Board, browser: Callable[[User], requests.Session]
) -> None:
    response = browser(board.student).get(
        provider + "/oidc/identity/o/authorize",
        params={
            "client_id": "no-such-client",
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        },
        allow_redirects=False,
        timeout=10,
    )
    page_refusal(response, "unknown client_id")


def test_a_wrong_secret_is_invalid_client_and_the_code_stays_unexchanged(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register())
    started = start(rp)
    location = authorize(browser(board.student), started)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = requests.post(
        rp.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": started.verifier,
        },
        auth=(rp.client_id, "not-the-secret"),
        timeout=10,
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"error": "invalid_client"}
    assert response.headers["Cache-Control"] == "no-store"
    assert not Token.objects.filter(type=Token.Type.ACCESS_TOKEN).exists()


def test_a_wrong_code_verifier_is_invalid_grant(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register())
    started = start(rp)
    location = authorize(browser(board.student), started)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = requests.post(
        rp.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": generate_token(48),
        },
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "invalid_grant"}
    assert not Token.objects.filter(type=Token.Type.ACCESS_TOKEN).exists()


def test_a_replayed_code_is_invalid_grant_and_revokes_what_it_gave(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register())
    started = start(rp)
    location = authorize(browser(board.student), started)
    first = started.oauth.fetch_token(
        rp.metadata["token_endpoint"],
        authorization_response=location,
        code_verifier=started.verifier,
    )
    code = parse_qs(urlsplit(location).query)["code"][0]
    replay = requests.post(
        rp.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": started.verifier,
        },
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json() == {"error": "invalid_grant"}
    # RFC 6749 §10.5: the tokens the code gave are revoked.
    userinfo = requests.get(
        rp.metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {first['access_token']}"},
        timeout=10,
    )
    assert userinfo.status_code == HTTPStatus.UNAUTHORIZED
    assert not Token.objects.filter(type=Token.Type.ACCESS_TOKEN).exists()


def test_a_disabled_client_signs_in_nobody_and_its_tokens_stop(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    issued = register()
    rp = discover(provider, issued)
    person = browser(board.student)
    signed_in, _token = sign_in(rp, person)
    pending = start(rp)
    location = authorize(person, pending)  # a code not yet exchanged

    services.set_active(acting_user=board.admin, oidc_client=issued.oidc_client, active=False)

    response = person.get(start(rp).url, allow_redirects=False, timeout=10)
    page_refusal(response, "the board has disabled this client")
    exchange = requests.post(
        rp.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pending.verifier,
        },
        auth=(rp.client_id, rp.secret),
        timeout=10,
    )
    assert exchange.status_code == HTTPStatus.UNAUTHORIZED
    assert exchange.json() == {
        "error": "invalid_client",
        "error_description": "client authentication failed",
    }
    userinfo = signed_in.oauth.get(rp.metadata["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == HTTPStatus.UNAUTHORIZED
    assert tokens_issued() == 0


def test_a_signed_out_person_is_sent_to_the_portal_sign_in_first(
    provider: str, board: Board, register: Callable[..., Issued]
) -> None:
    rp = discover(provider, register())
    started = start(rp)
    response = requests.get(started.url, allow_redirects=False, timeout=10)
    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response.headers["Location"])
    assert location.path == "/accounts/login/"
    assert parse_qs(location.query)["next"][0].startswith("/oidc/identity/o/authorize?")
    assert tokens_issued() == 0


def move_to_another_board(board: Board) -> None:
    """The child changes schools: now of the other board's school."""
    board.student.org = board.outsider.org
    board.student.save(update_fields=["org"])


def test_a_code_whose_person_left_the_board_is_invalid_grant(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register())
    started = start(rp)
    location = authorize(browser(board.student), started)
    move_to_another_board(board)
    exchange = {
        "grant_type": "authorization_code",
        "code": parse_qs(urlsplit(location).query)["code"][0],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": started.verifier,
    }
    # Without the secret nothing is said about the code (and it stays).
    wrong = requests.post(
        rp.metadata["token_endpoint"], data=exchange, auth=(rp.client_id, "nope"), timeout=10
    )
    assert wrong.status_code == HTTPStatus.UNAUTHORIZED
    assert wrong.json() == {"error": "invalid_client"}
    assert Token.objects.filter(type=Token.Type.AUTHORIZATION_CODE).count() == 1
    response = requests.post(
        rp.metadata["token_endpoint"], data=exchange, auth=(rp.client_id, rp.secret), timeout=10
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "the user may no longer sign in to this client",
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert tokens_issued() == 0


def test_userinfo_stops_when_the_person_left_the_board(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register())
    started, _token = sign_in(rp, browser(board.student))
    move_to_another_board(board)
    userinfo = started.oauth.get(rp.metadata["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == HTTPStatus.UNAUTHORIZED
    assert userinfo.json()["error"] == "invalid_token"
    assert not Token.objects.filter(type=Token.Type.ACCESS_TOKEN).exists()


def test_client_secret_post_works_as_well(
    provider: str,
    board: Board,
    register: Callable[..., Issued],
    browser: Callable[[User], requests.Session],
) -> None:
    rp = discover(provider, register(privacy_level=PrivacyLevel.ID_ONLY))
    started = start(rp)
    location = authorize(browser(board.student), started)
    response = requests.post(
        rp.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": started.verifier,
            "client_id": rp.client_id,
            "client_secret": rp.secret,
        },
        timeout=10,
    )
    assert response.status_code == HTTPStatus.OK
    token = response.json()
    claims = validated_id_token(rp, started, token)
    assert user_claims(dict(claims)) == {
        "sub": subject(rp_client(rp), board.student),
        ROSTER_CLAIM: roster(board),
    }
