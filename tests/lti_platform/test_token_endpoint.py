"""The OAuth2 token endpoint (client_credentials + private_key_jwt): every refusal, exactly.

Each refused request answers the RFC 6749 §5.2 JSON body, never caches, and writes nothing.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import Client
from django.utils import timezone

from lti_platform import services
from lti_platform.models import AccessToken, OneTimeToken
from lti_platform.protocol import constants as c
from roster.models import User
from tests.lti_platform.service_helpers import (
    ALL_SCOPES,
    FORM,
    TOKEN_URL,
    assertion,
    counts,
    demo_roster,
    post_token,
    private_key,
    register_tool,
    token_form,
)
from tools_registry.models import Deployment, Registration

pytestmark = pytest.mark.django_db

AGS_AND_NRPS = " ".join(ALL_SCOPES)


@pytest.fixture
def roster(db: None) -> dict[str, User]:
    return demo_roster()


@pytest.fixture
def tool(roster: dict[str, User]) -> Registration:
    return register_tool("test-tool")


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> int:
    """The platform's clock, stopped at this second: iat and exp are set against the very
    second the endpoint reads, so the boundaries are exact on a machine of any speed."""
    moment = int(time.time())
    monkeypatch.setattr(services, "clock", lambda: moment)
    return moment


def sign(tool: Registration, **claims: Any) -> str:
    return assertion(tool.client_id, key=private_key("test-tool"), **claims)


def assert_refused(
    response: Any, before: dict[str, int], error: str, description: str, status: int = 400
) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    assert response.json() == {"error": error, "error_description": description}
    assert counts() == before


def raw_jwt(header: dict[str, Any], payload: str, key_name: str = "test-tool") -> str:
    """A JWT whose payload text we write ourselves (pyjwt would not encode NaN or strings)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(payload.encode())
    signature = private_key(key_name).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + b64(signature)).decode()


# --- success -----------------------------------------------------------------------------------


def test_happy_path_issues_a_bearer_token_and_stores_only_its_hash(
    client: Client, tool: Registration
) -> None:
    before = counts()
    asked = timezone.now()
    response = post_token(client, token_form(sign(tool), ALL_SCOPES))
    answered = timezone.now()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    token = body["access_token"]
    assert body == {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": AGS_AND_NRPS,
    }
    assert len(token) >= 40
    assert counts() == {**before, "AccessToken": 1, "OneTimeToken": before["OneTimeToken"] + 1}
    [row] = AccessToken.objects.all()
    assert row.registration == tool
    assert row.scopes == list(ALL_SCOPES)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    hour = datetime.timedelta(seconds=3600)
    assert asked + hour <= row.expires_at <= answered + hour
    stored = json.dumps(list(AccessToken.objects.values()), default=str)
    assert token not in stored


def test_unknown_scopes_are_dropped_and_only_granted_ones_returned(
    client: Client, tool: Registration
) -> None:
    scopes = ["openid", c.SCOPE_SCORE, "https://example.com/scope/admin", c.SCOPE_SCORE]
    response = post_token(client, token_form(sign(tool), scopes))
    assert response.status_code == 200
    assert response.json()["scope"] == c.SCOPE_SCORE
    assert AccessToken.objects.get().scopes == [c.SCOPE_SCORE]


def test_charset_parameter_on_the_form_content_type_is_accepted(
    client: Client, tool: Registration
) -> None:
    response = client.post(
        "/lti/token",
        urlencode(token_form(sign(tool), ALL_SCOPES)),
        content_type=FORM + "; charset=UTF-8",
    )
    assert response.status_code == 200


def test_aud_as_a_list_containing_the_token_url_is_accepted(
    client: Client, tool: Registration
) -> None:
    audience = ["https://other.example/token", TOKEN_URL]
    response = post_token(client, token_form(sign(tool, aud=audience), [c.SCOPE_NRPS]))
    assert response.status_code == 200
    assert response.json()["scope"] == c.SCOPE_NRPS


def test_assertion_expired_just_inside_the_clock_skew_is_accepted(
    client: Client, tool: Registration, now: int
) -> None:
    response = post_token(
        client, token_form(sign(tool, iat=now - 360, exp=now - 60), [c.SCOPE_SCORE])
    )
    assert response.status_code == 200


def test_iat_slightly_in_the_future_is_accepted(
    client: Client, tool: Registration, now: int
) -> None:
    response = post_token(
        client, token_form(sign(tool, iat=now + 60, exp=now + 360), [c.SCOPE_SCORE])
    )
    assert response.status_code == 200


def test_lifetime_of_exactly_one_hour_is_accepted(
    client: Client, tool: Registration, now: int
) -> None:
    response = post_token(client, token_form(sign(tool, iat=now, exp=now + 3600), [c.SCOPE_SCORE]))
    assert response.status_code == 200


# --- the HTTP request itself ---------------------------------------------------------------


def test_get_is_method_not_allowed(client: Client, tool: Registration) -> None:
    before = counts()
    response = client.get("/lti/token", token_form(sign(tool), ALL_SCOPES))
    assert_refused(response, before, "invalid_request", "allowed methods: POST", status=405)
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_not_allowed(client: Client, tool: Registration, method: str) -> None:
    before = counts()
    response = getattr(client, method)("/lti/token")
    assert_refused(response, before, "invalid_request", "allowed methods: POST", status=405)


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/json", json.dumps),
        ("multipart/form-data; boundary=BoUnDaRy", None),
        ("text/plain", lambda form: "&".join(f"{k}={v}" for k, v in form.items())),
    ],
)
def test_body_must_be_a_form(
    client: Client, tool: Registration, content_type: str, encode: Any
) -> None:
    before = counts()
    form = token_form(sign(tool), ALL_SCOPES)
    if encode is None:
        response = client.post("/lti/token", form)  # the test client's multipart encoding
    else:
        response = client.post("/lti/token", encode(form), content_type=content_type)
    assert_refused(
        response, before, "invalid_request", "the body must be application/x-www-form-urlencoded"
    )


# --- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"grant_type": None}, "invalid_request", "grant_type is required"),
        ({"grant_type": ""}, "invalid_request", "grant_type is required"),
        (
            {"grant_type": "authorization_code"},
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        ),
        (
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"},
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        ),
        (
            {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
            "invalid_request",
            f"client_assertion_type must be {c.CLIENT_ASSERTION_TYPE}",
        ),
        (
            {"client_assertion_type": None},
            "invalid_request",
            f"client_assertion_type must be {c.CLIENT_ASSERTION_TYPE}",
        ),
        ({"client_assertion": None}, "invalid_request", "client_assertion is required"),
        ({"client_assertion": ""}, "invalid_request", "client_assertion is required"),
        ({"scope": None}, "invalid_scope", "scope is required"),
        ({"scope": "   "}, "invalid_scope", "scope is required"),
        (
            {"client_assertion": "not-a-jwt"},
            "invalid_client",
            "client_assertion is not a well-formed JWT",
        ),
        (
            {"client_assertion": "a.b.c"},
            "invalid_client",
            "client_assertion is not a well-formed JWT",
        ),
    ],
)
def test_each_parameter_check_answers_its_error(
    client: Client,
    tool: Registration,
    overrides: dict[str, str | None],
    error: str,
    description: str,
) -> None:
    before = counts()
    response = post_token(client, token_form(sign(tool), ALL_SCOPES, **overrides))
    assert_refused(response, before, error, description)


# --- the client and its assertion ----------------------------------------------------------


def test_unknown_client_id_is_invalid_client(client: Client, tool: Registration) -> None:
    before = counts()
    signed = assertion("mh-unknown", key=private_key("test-tool"))
    response = post_token(client, token_form(signed, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_id is unknown or not active")


def test_inactive_registration_is_unknown(client: Client, tool: Registration) -> None:
    Registration.objects.filter(pk=tool.pk).update(is_active=False)
    before = counts()
    response = post_token(client, token_form(sign(tool), ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_id is unknown or not active")


def test_tool_without_active_deployment_is_unauthorized(client: Client, tool: Registration) -> None:
    Deployment.objects.filter(registration=tool).update(is_active=False)
    before = counts()
    response = post_token(client, token_form(sign(tool), ALL_SCOPES))
    assert_refused(response, before, "unauthorized_client", "the tool has no active deployment")


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"sub": "mh-someone-else"}, "client_assertion sub must equal iss (the client_id)"),
        ({"sub": None}, "client_assertion sub must equal iss (the client_id)"),
        ({"iss": None}, "client_assertion has no iss"),
        ({"iss": "", "sub": ""}, "client_assertion has no iss"),
        (
            {"aud": "https://platform.example/lti/token"},
            "client_assertion aud must contain http://testserver/lti/token",
        ),
        (
            {"aud": "http://testserver/lti/token/"},
            "client_assertion aud must contain http://testserver/lti/token",
        ),
        (
            {"aud": ["https://platform.example/lti/token"]},
            "client_assertion aud must contain http://testserver/lti/token",
        ),
        ({"aud": None}, "client_assertion is missing the aud claim"),
        ({"exp": None}, "client_assertion is missing the exp claim"),
        ({"iat": None}, "client_assertion is missing the iat claim"),
        ({"jti": None}, "client_assertion is missing the jti claim"),
        ({"jti": ""}, "client_assertion jti must be a non-empty string"),
        ({"jti": 12345}, "client_assertion is invalid: JWT ID must be a string"),
        ({"jti": "j" * 256}, "client_assertion jti must be a non-empty string"),
        ({"iat": "yesterday"}, "client_assertion iat must be a number"),
        ({"exp": "tomorrow"}, "client_assertion exp must be a number"),
    ],
)
def test_each_assertion_check_answers_invalid_client(
    client: Client, tool: Registration, claims: dict[str, Any], description: str
) -> None:
    before = counts()
    response = post_token(client, token_form(sign(tool, **claims), ALL_SCOPES))
    assert_refused(response, before, "invalid_client", description)


def test_assertion_expired_beyond_the_clock_skew_is_refused(
    client: Client, tool: Registration, now: int
) -> None:
    before = counts()
    response = post_token(client, token_form(sign(tool, iat=now - 361, exp=now - 61), ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion has expired")


def test_iat_in_the_future_beyond_the_clock_skew_is_refused(
    client: Client, tool: Registration, now: int
) -> None:
    before = counts()
    response = post_token(client, token_form(sign(tool, iat=now + 61, exp=now + 361), ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion iat is in the future")


def test_lifetime_over_one_hour_is_refused(client: Client, tool: Registration, now: int) -> None:
    before = counts()
    response = post_token(client, token_form(sign(tool, iat=now, exp=now + 3601), ALL_SCOPES))
    assert_refused(
        response, before, "invalid_client", "client_assertion lifetime is longer than one hour"
    )


def test_not_yet_valid_assertion_is_refused(client: Client, tool: Registration, now: int) -> None:
    before = counts()
    response = post_token(client, token_form(sign(tool, nbf=now + 600), ALL_SCOPES))
    assert_refused(
        response,
        before,
        "invalid_client",
        "client_assertion is invalid: The token is not yet valid (nbf)",
    )


def test_signature_by_another_key_is_refused(client: Client, tool: Registration) -> None:
    before = counts()
    forged = assertion(tool.client_id, key=private_key("attacker"))
    response = post_token(client, token_form(forged, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion signature is invalid")


def test_tampered_payload_is_refused(client: Client, tool: Registration) -> None:
    header, _payload, signature = sign(tool).split(".")
    claims = jwt.decode(sign(tool), options={"verify_signature": False})
    claims["exp"] += 3000
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    before = counts()
    response = post_token(client, token_form(f"{header}.{payload}.{signature}", ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion signature is invalid")


def test_hs256_assertion_is_refused(client: Client, tool: Registration, now: int) -> None:
    """An attacker must not be able to sign with the (public) PEM as an HMAC secret."""
    claims = {
        "iss": tool.client_id,
        "sub": tool.client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    forged = jwt.encode(claims, "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256")
    before = counts()
    response = post_token(client, token_form(forged, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion must be signed with RS256")


def test_unsigned_assertion_is_refused(client: Client, tool: Registration, now: int) -> None:
    claims = {
        "iss": tool.client_id,
        "sub": tool.client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    unsigned = jwt.encode(claims, "", algorithm="none")
    before = counts()
    response = post_token(client, token_form(unsigned, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion must be signed with RS256")
    # The same with an empty signature segment glued onto an RS256 header.
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode()
    glued = header + "." + unsigned.split(".")[1] + "."
    response = post_token(client, token_form(glued, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion signature is invalid")


# --- jti replay ----------------------------------------------------------------------------


def test_replayed_assertion_is_refused(client: Client, tool: Registration) -> None:
    signed = sign(tool)
    assert post_token(client, token_form(signed, ALL_SCOPES)).status_code == 200
    before = counts()
    response = post_token(client, token_form(signed, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion jti has already been used")
    # Asking for another scope does not make the replay acceptable.
    response = post_token(client, token_form(signed, [c.SCOPE_NRPS]))
    assert_refused(response, before, "invalid_client", "client_assertion jti has already been used")


def test_new_assertion_reusing_a_jti_is_refused(
    client: Client, tool: Registration, now: int
) -> None:
    assert post_token(client, token_form(sign(tool, jti="same"), ALL_SCOPES)).status_code == 200
    before = counts()
    again = sign(tool, jti="same", iat=now + 1, exp=now + 200)
    response = post_token(client, token_form(again, [c.SCOPE_SCORE]))
    assert_refused(response, before, "invalid_client", "client_assertion jti has already been used")


def test_longest_jti_is_replay_checked_and_fits_the_one_time_store(
    client: Client, tool: Registration
) -> None:
    jti = "ま" * 255
    assert post_token(client, token_form(sign(tool, jti=jti), ALL_SCOPES)).status_code == 200
    [used] = OneTimeToken.objects.filter(key__startswith="jti:")
    assert len(used.key) <= 128  # OneTimeToken.key's max_length
    assert jti not in used.key
    before = counts()
    response = post_token(client, token_form(sign(tool, jti=jti), ALL_SCOPES))
    assert_refused(response, before, "invalid_client", "client_assertion jti has already been used")


def test_jtis_are_kept_apart_per_client(client: Client, tool: Registration) -> None:
    other = register_tool("other-tool")
    assert post_token(client, token_form(sign(tool, jti="shared"), ALL_SCOPES)).status_code == 200
    signed = assertion(other.client_id, key=private_key("other-tool"), jti="shared")
    assert post_token(client, token_form(signed, ALL_SCOPES)).status_code == 200


def test_refused_request_does_not_burn_the_jti(client: Client, tool: Registration) -> None:
    signed = sign(tool)
    before = counts()
    response = post_token(client, token_form(signed, ["openid"]))
    assert_refused(
        response, before, "invalid_scope", "none of the requested scopes is allowed for this tool"
    )
    assert not OneTimeToken.objects.filter(key__startswith="jti:").exists()
    assert post_token(client, token_form(signed, ALL_SCOPES)).status_code == 200


# --- scopes --------------------------------------------------------------------------------


def test_no_allowed_scope_is_invalid_scope(client: Client, tool: Registration) -> None:
    before = counts()
    response = post_token(
        client, token_form(sign(tool), ["openid", "https://example.com/scope/grades"])
    )
    assert_refused(
        response, before, "invalid_scope", "none of the requested scopes is allowed for this tool"
    )


def test_tool_without_nrps_cannot_get_the_nrps_scope(
    client: Client, roster: dict[str, User]
) -> None:
    ags_only = register_tool("ags-only", services=["ags"])
    before = counts()
    signed = assertion(ags_only.client_id, key=private_key("ags-only"))
    response = post_token(client, token_form(signed, [c.SCOPE_NRPS]))
    assert_refused(
        response, before, "invalid_scope", "none of the requested scopes is allowed for this tool"
    )
    signed = assertion(ags_only.client_id, key=private_key("ags-only"))
    response = post_token(client, token_form(signed, [c.SCOPE_NRPS, c.SCOPE_SCORE]))
    assert response.status_code == 200
    assert response.json()["scope"] == c.SCOPE_SCORE


def test_tool_without_services_gets_no_scope(client: Client, roster: dict[str, User]) -> None:
    plain = register_tool("plain", services=[])
    before = counts()
    signed = assertion(plain.client_id, key=private_key("plain"))
    response = post_token(client, token_form(signed, ALL_SCOPES))
    assert_refused(
        response, before, "invalid_scope", "none of the requested scopes is allowed for this tool"
    )


# --- junk never answers 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        # exp as a numeric string: pyjwt accepts it, the lifetime check must not crash.
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":{now},"exp":"{exp}","jti":"j1"}}',
            "client_assertion exp must be a number",
        ),
        # NaN iat would pass every comparison; a far exp must not overflow the jti expiry.
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":NaN,"exp":1e20,"jti":"j2"}}',
            "client_assertion iat must be a number",
        ),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":Infinity,"exp":{exp},"jti":"j3"}}',
            "client_assertion iat must be a number",
        ),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":true,"exp":{exp},"jti":"j4"}}',
            "client_assertion iat must be a number",
        ),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":{now},"exp":Infinity,"jti":"j5"}}',
            "client_assertion exp must be a number",
        ),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":{now},"exp":1{zeros},"jti":"j7"}}',
            "client_assertion lifetime is longer than one hour",
        ),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":-1{zeros},"exp":{exp},"jti":"j8"}}',
            "client_assertion lifetime is longer than one hour",
        ),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":"{aud}","iat":{now},"exp":-1{zeros},"jti":"j9"}}',
            "client_assertion has expired",
        ),
        (
            '{{"iss":42,"sub":42,"aud":"{aud}","iat":{now},"exp":{exp}}}',
            "client_assertion has no iss",
        ),
        ('{{"iss":["{cid}"],"sub":"{cid}"}}', "client_assertion has no iss"),
        (
            '{{"iss":"{cid}","sub":"{cid}","aud":["{aud}",5],"iat":{now},"exp":{exp},"jti":"j6"}}',
            "client_assertion aud must contain http://testserver/lti/token",
        ),
    ],
)
def test_odd_claim_types_are_refused_not_crashed(
    client: Client, tool: Registration, now: int, payload: str, description: str
) -> None:
    text = payload.format(
        cid=tool.client_id, aud=TOKEN_URL, now=now, exp=now + 300, zeros="0" * 400
    )
    signed = raw_jwt({"alg": "RS256", "typ": "JWT", "kid": "k"}, text)
    before = counts()
    response = post_token(client, token_form(signed, ALL_SCOPES))
    assert_refused(response, before, "invalid_client", description)


@pytest.mark.parametrize(
    "client_assertion",
    [
        "\x00",
        "a" * 100_000,
        "ま.な.び",
        "eyJhbGciOiJSUzI1NiJ9.WzFd.c2ln",  # payload is a JSON list
        "eyJhbGciOiJSUzI1NiJ9.bnVsbA.c2ln",  # payload is null
        "W10.e30.c2ln",  # header is a JSON list
        "....",
    ],
)
def test_junk_assertions_are_invalid_client(
    client: Client, tool: Registration, client_assertion: str
) -> None:
    before = counts()
    response = post_token(client, token_form(client_assertion, ALL_SCOPES))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    assert counts() == before


def test_junk_client_ids_and_kids_are_invalid_client(client: Client, tool: Registration) -> None:
    before = counts()
    for client_id in ("\x00", "x" * 5000, "まなび", "' OR 1=1 --"):
        signed = assertion(client_id, key=private_key("test-tool"))
        response = post_token(client, token_form(signed, ALL_SCOPES))
        assert_refused(response, before, "invalid_client", "client_id is unknown or not active")
    for kid in ("\x00", "ま" * 500):
        # A static-key tool has one key: the kid does not matter, the signature does.
        response = post_token(client, token_form(sign(tool, headers={"kid": kid}), ALL_SCOPES))
        assert response.status_code == 200
    claims = jwt.decode(sign(tool), options={"verify_signature": False})
    before = counts()
    odd_kids: list[Any] = [42, None, ["k"]]
    for odd in odd_kids:
        signed = raw_jwt({"alg": "RS256", "kid": odd}, json.dumps(claims))
        response = post_token(client, token_form(signed, ALL_SCOPES))
        assert_refused(
            response, before, "invalid_client", "client_assertion is not a well-formed JWT"
        )


def test_junk_form_fields_never_500(client: Client, tool: Registration) -> None:
    before = counts()
    for form in (
        {},
        {"grant_type": "\x00"},
        {"grant_type": "client_credentials", "client_assertion_type": "ま" * 1000},
        {"grant_type": ["client_credentials", "password"]},
    ):
        response = client.post("/lti/token", urlencode(form, doseq=True), content_type=FORM)
        assert response.status_code == 400
        assert response.json()["error"] in ("invalid_request", "unsupported_grant_type")
    response = client.post("/lti/token", b"\xff\xfe\x00=%%%&&&=", content_type=FORM)
    assert response.status_code == 400
    assert counts() == before


def test_too_many_form_fields_is_a_json_error(client: Client, tool: Registration) -> None:
    before = counts()
    body = "&".join(f"f{n}=1" for n in range(2000))
    response = client.post("/lti/token", body, content_type=FORM)
    assert_refused(response, before, "invalid_request", "the form body is too large")


def test_huge_form_body_is_a_json_error(client: Client, tool: Registration) -> None:
    before = counts()
    form = token_form(sign(tool), ALL_SCOPES, padding="x" * 3_000_000)
    response = post_token(client, form)
    assert_refused(response, before, "invalid_request", "the form body is too large")
