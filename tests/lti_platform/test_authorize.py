"""The authentication endpoint: every check of SPEC_NOTES.md, each with its OIDC error."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from django.test import Client
from django.utils import timezone

from lti_platform import services
from lti_platform.keys import key_ring
from lti_platform.models import OneTimeToken
from lti_platform.protocol import hints
from lti_platform.protocol.constants import CLAIM_MESSAGE_TYPE
from roster.models import SchoolClass, User
from tests.ltiflow import forms
from tools_registry.models import Placement, Registration

pytestmark = pytest.mark.django_db


def start(client: Client, user: User, tool: str = "demo-drill") -> dict[str, str]:
    """Start a launch from the portal and return the login initiation parameters."""
    placement = Placement.objects.filter(
        deployment__registration__tool__slug=tool, school=user.org
    ).first()
    assert placement is not None
    assert user.home_class is not None
    response = client.get(f"/lti/launch/{placement.resource_link_id}/{user.home_class.sourced_id}")
    assert response.status_code == HTTPStatus.FOUND
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def auth_params(login: dict[str, str], **overrides: str | None) -> dict[str, str]:
    registration = Registration.objects.get(client_id=login["client_id"])
    params: dict[str, str | None] = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": registration.redirect_uris[0],
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "nonce": "n-0S6_WzA2Mj",
        "state": "st-af0ifjsldkj",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def form_post(response: Any) -> tuple[str, dict[str, str]]:
    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"].startswith("max-age=0")
    [form] = forms(response.content.decode())
    return form.action, form.fields


@pytest.fixture
def student_login(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> tuple[Client, dict[str, str]]:
    client = signed_in("sakura-5-2-01")
    return client, start(client, demo_school["sakura-5-2-01"])


def test_login_initiation_carries_every_parameter(student_login: Any) -> None:
    _client, login = student_login
    registration = Registration.objects.get(tool__slug="demo-drill")
    assert set(login) == {
        "iss",
        "login_hint",
        "target_link_uri",
        "client_id",
        "lti_deployment_id",
        "lti_message_hint",
    }
    assert login["iss"] == "http://testserver"
    assert login["client_id"] == registration.client_id
    assert login["lti_deployment_id"] == "B_132993"
    assert login["target_link_uri"] == registration.target_link_uri
    student = User.objects.get(username="sakura-5-2-01")
    assert len(login["login_hint"]) == 40
    for identifier in (str(student.eportal_uuid), student.username):
        assert identifier not in login["login_hint"]


def test_valid_request_gets_an_id_token_and_state_echoed(student_login: Any) -> None:
    client, login = student_login
    action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert action == "http://testserver/tools/drill/launch"
    assert set(fields) == {"id_token", "state"}
    assert fields["state"] == "st-af0ifjsldkj"
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims[CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"


def test_post_is_accepted_like_get(student_login: Any) -> None:
    client, login = student_login
    _action, fields = form_post(client.post("/lti/authorize", auth_params(login)))
    assert "id_token" in fields


@pytest.mark.parametrize(
    ("override", "error", "description"),
    [
        ({"scope": "openid profile"}, "invalid_scope", "scope must be openid"),
        ({"scope": None}, "invalid_scope", "scope must be openid"),
        ({"response_type": "code"}, "unsupported_response_type", "response_type must be id_token"),
        ({"response_mode": "query"}, "invalid_request", "response_mode must be form_post"),
        ({"response_mode": None}, "invalid_request", "response_mode must be form_post"),
        ({"prompt": "login"}, "invalid_request", "prompt must be none"),
        ({"prompt": None}, "invalid_request", "prompt must be none"),
        ({"nonce": None}, "invalid_request", "nonce is required"),
        ({"nonce": ""}, "invalid_request", "nonce is required"),
        ({"login_hint": None}, "invalid_request", "login_hint is required"),
        (
            {"login_hint": "0" * 40},
            "login_required",
            "login_hint does not match the signed-in user",
        ),
        ({"lti_message_hint": None}, "invalid_request", "lti_message_hint is required"),
        (
            {"lti_message_hint": "not-a-jwt"},
            "invalid_request",
            "lti_message_hint is malformed or its signature is invalid",
        ),
    ],
)
def test_each_check_answers_its_error_at_the_redirect_uri(
    student_login: Any, override: dict[str, str | None], error: str, description: str
) -> None:
    client, login = student_login
    action, fields = form_post(client.get("/lti/authorize", auth_params(login, **override)))
    assert action == "http://testserver/tools/drill/launch"
    assert fields == {"error": error, "error_description": description, "state": "st-af0ifjsldkj"}
    assert not OneTimeToken.objects.exists()


def test_error_without_state_sends_no_state(student_login: Any) -> None:
    client, login = student_login
    _action, fields = form_post(
        client.get("/lti/authorize", auth_params(login, state=None, nonce=None))
    )
    assert fields == {"error": "invalid_request", "error_description": "nonce is required"}


@pytest.mark.parametrize(
    ("override", "description"),
    [
        ({"client_id": None}, "client_id is required"),
        ({"client_id": "mh-unknown"}, "client_id is unknown or not active"),
        ({"redirect_uri": None}, "redirect_uri is required"),
        (
            {"redirect_uri": "http://testserver/tools/drill/launch/"},
            "redirect_uri is not registered for this client",
        ),
        (
            {"redirect_uri": "http://testserver/tools/drill/launch?x=1"},
            "redirect_uri is not registered for this client",
        ),
        (
            {"redirect_uri": "http://evil.example/tools/drill/launch"},
            "redirect_uri is not registered for this client",
        ),
        (
            {"redirect_uri": "http://testserver/tools/cbt/launch"},
            "redirect_uri is not registered for this client",
        ),
    ],
)
def test_untrusted_redirect_gets_an_error_page_not_a_redirect(
    student_login: Any, override: dict[str, str | None], description: str
) -> None:
    client, login = student_login
    response = client.get("/lti/authorize", auth_params(login, **override))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.content.decode()
    assert description in body
    assert 'name="id_token"' not in body and "document.forms[0].submit()" not in body


def test_inactive_registration_is_unknown(student_login: Any) -> None:
    client, login = student_login
    Registration.objects.filter(client_id=login["client_id"]).update(is_active=False)
    response = client.get("/lti/authorize", auth_params(login))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "client_id is unknown or not active" in response.content.decode()


def test_signed_out_user_gets_login_required(student_login: Any) -> None:
    client, login = student_login
    client.logout()
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert fields == {
        "error": "login_required",
        "error_description": "the user is not signed in to the platform",
        "state": "st-af0ifjsldkj",
    }


def test_other_user_cannot_use_the_hints(
    student_login: Any, signed_in: Callable[[str], Client]
) -> None:
    client, login = student_login
    client.logout()
    other = signed_in("sakura-5-2-02")
    _action, fields = form_post(other.get("/lti/authorize", auth_params(login)))
    assert fields["error"] == "login_required"


def test_replayed_message_hint_is_refused(student_login: Any) -> None:
    client, login = student_login
    form_post(client.get("/lti/authorize", auth_params(login)))
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert fields == {
        "error": "invalid_request",
        "error_description": "lti_message_hint has already been used",
        "state": "st-af0ifjsldkj",
    }


def test_expired_message_hint_is_refused(student_login: Any, monkeypatch: Any) -> None:
    client, login = student_login
    real = services.clock
    monkeypatch.setattr(services, "clock", lambda: real() + 301)
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert fields["error_description"] == "lti_message_hint has expired"
    assert not OneTimeToken.objects.exists()


def test_tampered_message_hint_is_refused(student_login: Any) -> None:
    client, login = student_login
    header, _payload, signature = login["lti_message_hint"].split(".")
    claims = jwt.decode(login["lti_message_hint"], options={"verify_signature": False})
    other = Placement.objects.exclude(resource_link_id=claims["rl"]).first()
    assert other is not None
    claims["rl"] = str(other.resource_link_id)
    forged_payload = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    forged = f"{header}.{forged_payload}.{signature}"
    _action, fields = form_post(
        client.get("/lti/authorize", auth_params(login, lti_message_hint=forged))
    )
    assert (
        fields["error_description"] == "lti_message_hint is malformed or its signature is invalid"
    )


def test_hint_signed_with_another_secret_is_refused(student_login: Any) -> None:
    client, login = student_login
    student = User.objects.get(username="sakura-5-2-01")
    claims = jwt.decode(login["lti_message_hint"], options={"verify_signature": False})
    forged, _ = hints.make_message_hint(
        user=str(student.eportal_uuid),
        client_id=claims["cid"],
        deployment_id=claims["dep"],
        placement=claims["rl"],
        context=claims["ctx"],
        now=int(services.clock()),
        lifetime=300,
        secret=b"attacker-secret-of-32-bytes-long!",
    )
    _action, fields = form_post(
        client.get("/lti/authorize", auth_params(login, lti_message_hint=forged))
    )
    assert fields["error"] == "invalid_request"


def test_hint_for_another_client_is_refused(
    student_login: Any, demo_school: dict[str, User]
) -> None:
    client, login = student_login
    cbt = start(client, demo_school["sakura-5-2-01"], tool="demo-cbt")
    mixed = auth_params(login, lti_message_hint=cbt["lti_message_hint"])
    _action, fields = form_post(client.get("/lti/authorize", mixed))
    assert fields["error_description"] == "lti_message_hint was issued for another client"


def test_launch_removed_between_login_and_auth_is_refused(student_login: Any) -> None:
    client, login = student_login
    claims = jwt.decode(login["lti_message_hint"], options={"verify_signature": False})
    Placement.objects.filter(resource_link_id=claims["rl"]).delete()
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert fields["error_description"] == "the launch named by lti_message_hint no longer exists"


def test_student_leaving_the_class_is_refused(student_login: Any) -> None:
    client, login = student_login
    User.objects.get(username="sakura-5-2-01").enrollments.all().delete()
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert fields == {
        "error": "access_denied",
        "error_description": "you are not a member of this class",
        "state": "st-af0ifjsldkj",
    }


def test_junk_requests_never_500(client: Client, demo_school: dict[str, User]) -> None:
    for params in ({}, {"client_id": "\x00"}, {"client_id": "a" * 5000}, {"redirect_uri": "::"}):
        response = client.get("/lti/authorize", params)
        assert response.status_code == HTTPStatus.BAD_REQUEST
    assert client.put("/lti/authorize").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_launch_of_a_class_the_user_is_not_in_is_not_found(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("sakura-5-2-01")
    other_class = SchoolClass.objects.get(class_code="1-1")
    placement = Placement.objects.get(
        deployment__registration__tool__slug="demo-drill", school=other_class.school
    )
    response = client.get(f"/lti/launch/{placement.resource_link_id}/{other_class.sourced_id}")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Location" not in response


def test_launch_of_another_schools_placement_is_not_found(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("sakura-5-2-01")
    student = demo_school["sakura-5-2-01"]
    placement = Placement.objects.get(
        deployment__registration__tool__slug="demo-cbt", school__identifier="C113210000019"
    )
    assert student.home_class is not None
    response = client.get(
        f"/lti/launch/{placement.resource_link_id}/{student.home_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_launch_requires_sign_in(client: Client, demo_school: dict[str, User]) -> None:
    placement = Placement.objects.first()
    assert placement is not None
    school_class = SchoolClass.objects.first()
    assert school_class is not None
    response = client.get(f"/lti/launch/{placement.resource_link_id}/{school_class.sourced_id}")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_one_time_store_consumes_once() -> None:
    expires = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=5)
    assert services.consume_once("k1", expires_at=expires) is True
    assert services.consume_once("k1", expires_at=expires) is False
    assert services.consume_once("k2", expires_at=expires) is True


def test_no_signing_key_is_reported_not_crashed(student_login: Any) -> None:
    from lti_platform.checks import check_signing_key
    from lti_platform.models import PlatformKey

    PlatformKey.objects.all().delete()
    key_ring.invalidate()
    [error] = check_signing_key()
    assert error.id == "lti_platform.E001"


def test_one_time_rows_are_stored_like_the_orm_stores_them() -> None:
    # Still in the future when the test runs: one consume_once in 256 deletes expired rows.
    expires = datetime.datetime(2100, 5, 1, 9, 30, tzinfo=datetime.UTC)
    assert services.consume_once("k-format", expires_at=expires) is True
    assert OneTimeToken.objects.get(key="k-format").expires_at == expires
    assert (
        OneTimeToken.objects.filter(expires_at__lt=expires + datetime.timedelta(seconds=1)).count()
        == 1
    )


def test_an_enrollment_past_its_end_date_cannot_launch(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    client = signed_in("sakura-5-2-01")
    student = demo_school["sakura-5-2-01"]
    login = start(client, student)  # still a member when the launch starts
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    student.enrollments.update(end_date=yesterday)
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    assert fields == {
        "error": "access_denied",
        "error_description": "you are not a member of this class",
        "state": "st-af0ifjsldkj",
    }
    placement = Placement.objects.get(resource_link_id=login_placement(login))
    assert student.home_class is not None
    response = client.get(
        f"/lti/launch/{placement.resource_link_id}/{student.home_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Location" not in response


def login_placement(login: dict[str, str]) -> str:
    return str(jwt.decode(login["lti_message_hint"], options={"verify_signature": False})["rl"])


def test_custom_parameters_cannot_replace_the_platform_grade(student_login: Any) -> None:
    """A registration saying {"grade": "5年"} (the admin does not validate it as register_tool
    does) still launches with the P5 grade code Japanese tools check."""
    client, login = student_login
    Registration.objects.filter(client_id=login["client_id"]).update(
        custom_parameters={"grade": "5年", "unit": "kakezan"}
    )
    placement = Placement.objects.get(resource_link_id=login_placement(login))
    Placement.objects.filter(pk=placement.pk).update(custom_parameters={"grade": "$User.id"})
    _action, fields = form_post(client.get("/lti/authorize", auth_params(login)))
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    assert claims["https://purl.imsglobal.org/spec/lti/claim/custom"] == {
        "grade": "P5",
        "unit": "kakezan",
    }
