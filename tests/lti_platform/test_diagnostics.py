"""Launch diagnostics: each family of refusal leaves one row with the exact reason and no
personal data; the success path leaves none; repeats are counted; old rows are pruned;
recording never turns a refusal into a 500."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from lti_platform import diagnostics
from lti_platform.models import DiagnosticKind, LaunchDiagnostic
from lti_platform.protocol import constants as c
from roster.models import User
from tests.lti_platform.service_helpers import (
    ags_url,
    assertion,
    bearer,
    demo_roster,
    deployment,
    get_token,
    post_token,
    private_key,
    register_tool,
    school_class,
    token_form,
)
from tools_registry import tool_keys
from tools_registry.models import Placement, Registration

pytestmark = pytest.mark.django_db

STUDENT = "sakura-5-2-01"


@pytest.fixture
def roster(db: None) -> dict[str, User]:
    return demo_roster()


@pytest.fixture
def tool(roster: dict[str, User]) -> Registration:
    return register_tool("diag-tool")


def start(client: Client, user: User, tool: Registration) -> dict[str, str]:
    placement = Placement.objects.get(deployment__registration=tool)
    assert user.home_class is not None
    response = client.get(f"/lti/launch/{placement.resource_link_id}/{user.home_class.sourced_id}")
    assert response.status_code == HTTPStatus.FOUND
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def auth_params(login: dict[str, str], tool: Registration, **overrides: str) -> dict[str, str]:
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": tool.redirect_uris[0],
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "nonce": "n-0S6_WzA2Mj",
        "state": "st-af0ifjsldkj",
    }
    params.update(overrides)
    return params


def only_row() -> dict[str, Any]:
    [row] = LaunchDiagnostic.objects.values(
        "registration_id",
        "client_id",
        "kind",
        "error",
        "description",
        "message_key",
        "params",
        "status",
        "count",
    )
    return dict(row)


def assert_no_personal_data(user: User, *values: str) -> None:
    """No row holds the user's names, username, e-portal UUID or any of ``values``."""
    dumped = json.dumps(list(LaunchDiagnostic.objects.values()), default=str, ensure_ascii=False)
    personal = [
        user.username,
        str(user.eportal_uuid),
        str(user.eportal_uuid).replace("-", ""),
        user.full_name,
        user.last_name,
        user.first_name,
        *values,
    ]
    for value in personal:
        if value:
            assert value not in dumped


# --- authorization requests ----------------------------------------------------------------


def test_a_redirect_uri_mismatch_is_recorded_with_the_uri_without_its_query(
    roster: dict[str, User], tool: Registration, signed_in: Callable[[str], Client]
) -> None:
    client = signed_in(STUDENT)
    login = start(client, roster[STUDENT], tool)
    uri = f"https://evil.example/cb?hint={login['login_hint']}"
    response = client.get("/lti/authorize", auth_params(login, tool, redirect_uri=uri))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert only_row() == {
        "registration_id": tool.pk,
        "client_id": tool.client_id,
        "kind": DiagnosticKind.AUTHORIZE,
        "error": "invalid_request",
        "description": (
            "redirect_uri does not match any registered URI: https://evil.example/cb "
            "(query omitted)"
        ),
        "message_key": "redirect_uri_mismatch",
        "params": {"uri": "https://evil.example/cb (query omitted)"},
        "status": 400,
        "count": 1,
    }
    assert_no_personal_data(roster[STUDENT], login["login_hint"], login["lti_message_hint"])


def test_an_error_answered_to_the_redirect_uri_is_recorded_without_the_hints(
    roster: dict[str, User], tool: Registration, signed_in: Callable[[str], Client]
) -> None:
    client = signed_in(STUDENT)
    login = start(client, roster[STUDENT], tool)
    forged = login["login_hint"][::-1]
    response = client.get("/lti/authorize", auth_params(login, tool, login_hint=forged))
    assert response.status_code == HTTPStatus.OK  # the error form_post to the tool
    assert only_row() == {
        "registration_id": tool.pk,
        "client_id": tool.client_id,
        "kind": DiagnosticKind.AUTHORIZE,
        "error": "login_required",
        "description": "login_hint does not match the signed-in user",
        "message_key": "login_hint_mismatch",
        "params": {},
        "status": 200,
        "count": 1,
    }
    assert_no_personal_data(roster[STUDENT], forged, login["login_hint"], login["lti_message_hint"])


def test_an_unknown_client_id_is_recorded_without_a_registration(
    roster: dict[str, User], tool: Registration, signed_in: Callable[[str], Client]
) -> None:
    client = signed_in(STUDENT)
    login = start(client, roster[STUDENT], tool)
    unknown = "mh-" + "x" * 80
    response = client.get("/lti/authorize", auth_params(login, tool, client_id=unknown))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert only_row() == {
        "registration_id": None,
        "client_id": unknown[:64],
        "kind": DiagnosticKind.AUTHORIZE,
        "error": "invalid_request",
        "description": "client_id is unknown or not active",
        "message_key": "client_unknown",
        "params": {},
        "status": 400,
        "count": 1,
    }


def test_a_successful_launch_and_token_leave_no_diagnostic(
    roster: dict[str, User], tool: Registration, signed_in: Callable[[str], Client]
) -> None:
    client = signed_in(STUDENT)
    login = start(client, roster[STUDENT], tool)
    response = client.get("/lti/authorize", auth_params(login, tool))
    assert response.status_code == HTTPStatus.OK
    assert b'name="id_token"' in response.content
    get_token(client, tool)
    assert not LaunchDiagnostic.objects.exists()


# --- token requests ------------------------------------------------------------------------


def test_a_reused_assertion_jti_is_recorded(client: Client, tool: Registration) -> None:
    signed = assertion(tool.client_id, key=private_key("diag-tool"))
    assert post_token(client, token_form(signed, [c.SCOPE_SCORE])).status_code == HTTPStatus.OK
    response = post_token(client, token_form(signed, [c.SCOPE_SCORE]))
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "client_assertion jti has already been used",
    }
    assert only_row() == {
        "registration_id": tool.pk,
        "client_id": tool.client_id,
        "kind": DiagnosticKind.TOKEN,
        "error": "invalid_client",
        "description": "client_assertion jti has already been used",
        "message_key": "jti_reused",
        "params": {},
        "status": 400,
        "count": 1,
    }
    assert signed not in json.dumps(list(LaunchDiagnostic.objects.values()), default=str)


def test_an_unknown_kid_is_recorded(client: Client, tool: Registration) -> None:
    Registration.objects.filter(pk=tool.pk).update(
        public_key_pem="", jwks_url="https://diag-tool.example/jwks"
    )
    tool.refresh_from_db()
    tool_keys.cache.set(tool_keys._cache_key(tool.jwks_url), "[]", 60)  # cached without k9
    tool_keys.cache.set(tool_keys._limit_key("refetch", tool), 1e12, 60)  # refetch taken
    signed = assertion(tool.client_id, key=private_key("diag-tool"), headers={"kid": "k9"})
    response = post_token(client, token_form(signed, [c.SCOPE_SCORE]))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    row = only_row()
    assert (row["description"], row["message_key"], row["params"]) == (
        "no key with kid 'k9' in the tool's JWKS",
        "unknown_kid",
        {"kid": "'k9'"},
    )


def test_an_unreachable_jwks_is_recorded_with_the_timeout(
    client: Client, tool: Registration, monkeypatch: pytest.MonkeyPatch
) -> None:
    Registration.objects.filter(pk=tool.pk).update(
        public_key_pem="", jwks_url="https://diag-tool.example/jwks"
    )

    def timeout(*args: Any, **kwargs: Any) -> Any:
        raise requests.ReadTimeout("read timed out")

    monkeypatch.setattr(tool_keys.fetching, "get", timeout)
    signed = assertion(tool.client_id, key=private_key("diag-tool"))
    response = post_token(client, token_form(signed, [c.SCOPE_SCORE]))
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "the tool's JWKS URL could not be fetched",
    }
    assert only_row() == {
        "registration_id": tool.pk,
        "client_id": tool.client_id,
        "kind": DiagnosticKind.TOKEN,
        "error": "invalid_client",
        "description": "tool JWKS unreachable: timeout after 5 s",
        "message_key": "jwks_timeout",
        "params": {"seconds": "5"},
        "status": 400,
        "count": 1,
    }


def test_repeats_of_one_refusal_are_counted_on_one_row(client: Client, tool: Registration) -> None:
    for _ in range(3):
        response = post_token(client, {"grant_type": "client_credentials"})
        assert response.status_code == HTTPStatus.BAD_REQUEST
    row = only_row()
    assert (row["registration_id"], row["client_id"], row["count"]) == (None, "", 3)
    assert row["description"] == f"client_assertion_type must be {c.CLIENT_ASSERTION_TYPE}"


# --- deep-linking responses, services, registration -----------------------------------------


def test_a_refused_deep_linking_response_is_recorded(
    roster: dict[str, User], tool: Registration, signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("sakura-t-kato")
    token = jwt.encode({"iss": tool.client_id}, private_key("diag-tool"), algorithm="RS256")
    response = client.post("/lti/deep-linking/return", {"JWT": token})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    row = only_row()
    assert (row["registration_id"], row["kind"], row["status"]) == (
        tool.pk,
        DiagnosticKind.DEEP_LINKING,
        400,
    )
    assert row["description"] == "data is not a value the platform sent"
    assert token not in json.dumps(list(LaunchDiagnostic.objects.values()), default=str)
    assert_no_personal_data(roster["sakura-t-kato"])


def test_a_refused_service_call_is_recorded_for_the_tool(
    client: Client, tool: Registration
) -> None:
    token = get_token(client, tool, [c.SCOPE_NRPS])
    deployed = deployment(tool)
    url = ags_url(deployed, school_class("5-2"))
    response = client.get(url, headers=bearer(token))
    assert response.status_code == HTTPStatus.FORBIDDEN
    scopes = f"{c.SCOPE_LINEITEM} {c.SCOPE_LINEITEM_READONLY}"
    assert only_row() == {
        "registration_id": tool.pk,
        "client_id": tool.client_id,
        "kind": DiagnosticKind.SERVICE,
        "error": "insufficient_scope",
        "description": f"this request needs one of the scopes {scopes}",
        "message_key": "insufficient_scope",
        "params": {"scopes": scopes, "deployment": deployed.pk},  # the board's: of_board
        "status": 403,
        "count": 1,
    }
    assert token not in json.dumps(list(LaunchDiagnostic.objects.values()), default=str)


def test_a_refused_registration_is_recorded(client: Client, roster: dict[str, User]) -> None:
    response = client.post(
        "/lti/register", "{}", content_type="application/json", headers=bearer("not-a-token")
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert only_row() == {
        "registration_id": None,
        "client_id": "",
        "kind": DiagnosticKind.REGISTRATION,
        "error": "invalid_token",
        "description": "the registration token is unknown",
        "message_key": "registration_token",
        "params": {"what": "is unknown"},
        "status": 401,
        "count": 1,
    }


# --- bounds and safety -----------------------------------------------------------------------


def test_old_rows_are_pruned_after_the_retention(tool: Registration, settings: Any) -> None:
    settings.LTI_DIAGNOSTICS_RETENTION_DAYS = 30
    now = timezone.now()
    for days in (31, 29):
        at = now - datetime.timedelta(days=days)
        LaunchDiagnostic.objects.create(
            registration=tool,
            client_id=tool.client_id,
            kind=DiagnosticKind.TOKEN,
            error="invalid_client",
            description=f"{days} days old",
            message_key="other",
            status=400,
            fingerprint=str(days),
            created_at=at,
            last_seen_at=at,
        )
    assert diagnostics.prune(now=now) == 1
    assert list(LaunchDiagnostic.objects.values_list("description", flat=True)) == ["29 days old"]


def test_an_insert_sometimes_prunes(tool: Registration, monkeypatch: pytest.MonkeyPatch) -> None:
    old = timezone.now() - datetime.timedelta(days=40)
    LaunchDiagnostic.objects.create(
        registration=tool,
        kind=DiagnosticKind.TOKEN,
        error="invalid_client",
        description="old",
        message_key="other",
        status=400,
        fingerprint="old",
        created_at=old,
        last_seen_at=old,
    )
    monkeypatch.setattr(diagnostics.random, "random", lambda: 0.0)
    diagnostics.record(DiagnosticKind.TOKEN, error="invalid_client", description="new", status=400)
    assert list(LaunchDiagnostic.objects.values_list("description", flat=True)) == ["new"]


def test_a_failure_to_record_leaves_the_refusal_as_it_was(
    client: Client, tool: Registration, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("disk full")

    monkeypatch.setattr(LaunchDiagnostic.objects, "create", broken)
    response = post_token(client, {"grant_type": "client_credentials"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"
    assert not LaunchDiagnostic.objects.exists()


def test_scrub_removes_uuids_e_mail_jwts_and_given_values() -> None:
    text = (
        "user 0b9e4f6e-2c1d-4a8b-9f3e-7d6c5b4a3f21 mail taro@example.jp "
        "token eyJhbGciOi.eyJzdWIiOi.c2ln hint abcdef123"
    )
    assert diagnostics.scrub(text, ["abcdef123"]) == (
        "user [uuid] mail [e-mail] token [jwt] hint [omitted]"
    )


def test_a_jwks_url_on_a_private_address_has_its_own_reason() -> None:
    key, params = diagnostics.classify(
        "tool JWKS URL resolves to a private address (10.0.0.5): refused"
    )
    assert (key, params) == ("jwks_private_address", {"address": "10.0.0.5"})
