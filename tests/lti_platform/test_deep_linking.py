"""Deep Linking 2.0: the request a teacher starts, and every refusal of a tool's response with
its exact page and nothing written."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from django.test import Client

from assignments.models import Assignment
from events.models import Event
from lti_platform import services
from lti_platform.keys import ensure_keys
from lti_platform.models import DeepLinkingRequest, LineItem
from lti_platform.protocol import constants as c
from lti_platform.protocol import jose
from roster.models import SchoolClass, User
from tests.factories import PlacementFactory, RegistrationFactory, StudentFactory, TeacherFactory
from tests.ltiflow import forms
from tools_registry import tool_keys
from tools_registry.models import Placement, Registration

pytestmark = pytest.mark.django_db

TOOL_KEY = jose.generate_private_key()
TOOL_KID = "tool-key-1"
OTHER_KEY = jose.generate_private_key()


@dataclass
class World:
    client: Client
    teacher: User
    school_class: SchoolClass
    registration: Registration
    placement: Placement


@pytest.fixture
def world(client: Client, monkeypatch: pytest.MonkeyPatch, settings: Any) -> World:
    ensure_keys()
    registration = RegistrationFactory.create(
        jwks_url="https://dl-tool.example/jwks",
        deep_linking_url="https://dl-tool.example/deep-link",
        allowed_services=["ags"],
    )
    placement = PlacementFactory.create(deployment__registration=registration)
    jwk = {**jose.public_jwk(TOOL_KEY.public_key()), "kid": TOOL_KID}
    monkeypatch.setattr(tool_keys, "_fetch_jwks", lambda url: [jwk])
    school_class = placement.school_class
    assert school_class is not None
    teacher = TeacherFactory.create(org=school_class.school, teaches=[school_class])
    client.force_login(teacher)
    return World(client, teacher, school_class, registration, placement)


def login_params(response: Any) -> dict[str, str]:
    assert response.status_code == HTTPStatus.FOUND, response.content
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def request_claims(w: World, *, multiple: bool = True) -> dict[str, Any]:
    """Start deep linking from the class page and return the id_token's claims."""
    query = "" if multiple else "?multiple=0"
    login = login_params(
        w.client.get(
            f"/lti/deep-linking/{w.placement.resource_link_id}/{w.school_class.sourced_id}{query}"
        )
    )
    assert login["target_link_uri"] == "https://dl-tool.example/deep-link"
    response = w.client.get(
        "/lti/authorize",
        {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": w.registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": uuid.uuid4().hex,
            "state": "st",
        },
    )
    assert response.status_code == HTTPStatus.OK
    [form] = forms(response.content.decode())
    assert set(form.fields) == {"id_token", "state"}, form.fields
    return dict(jwt.decode(form.fields["id_token"], options={"verify_signature": False}))


def response_jwt(
    w: World, request: dict[str, Any], items: list[dict[str, Any]], **overrides: Any
) -> str:
    settings_claim = request[c.CLAIM_DEEP_LINKING_SETTINGS]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": w.registration.client_id,
        "aud": [request["iss"]],
        "iat": now,
        "exp": now + 300,
        "nonce": uuid.uuid4().hex,
        c.CLAIM_DEPLOYMENT_ID: request[c.CLAIM_DEPLOYMENT_ID],
        c.CLAIM_MESSAGE_TYPE: "LtiDeepLinkingResponse",
        c.CLAIM_VERSION: "1.3.0",
        c.CLAIM_DL_CONTENT_ITEMS: items,
        c.CLAIM_DL_DATA: settings_claim["data"],
    }
    key = overrides.pop("key", TOOL_KEY)
    kid = overrides.pop("kid", TOOL_KID)
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


LINK = {"type": "ltiResourceLink", "title": "分数のたし算", "url": "https://dl-tool.example/u/1"}


def post(w: World, token: str, client: Client | None = None) -> Any:
    return (client or w.client).post("/lti/deep-linking/return", {"JWT": token})


def refusal(response: Any) -> str:
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.content.decode()
    assert "課題を追加できませんでした" in body
    match = re.search(r'<code data-testid="refusal">([^<]*)</code>', body)
    assert match, body
    return match.group(1).replace("&#x27;", "'")


def nothing_written() -> None:
    assert Assignment.objects.count() == 0
    assert LineItem.objects.count() == 0
    assert not DeepLinkingRequest.objects.filter(used_at__isnull=False).exists()
    assert not Event.objects.filter(kind="assignment.created").exists()


# --- the request ----------------------------------------------------------------------------


def test_the_request_carries_the_deep_linking_settings(world: World, settings: Any) -> None:
    claims = request_claims(world)
    record = DeepLinkingRequest.objects.get()
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingRequest"
    assert claims[c.CLAIM_VERSION] == "1.3.0"
    assert claims[c.CLAIM_DEPLOYMENT_ID] == world.placement.deployment.deployment_id
    assert c.CLAIM_RESOURCE_LINK not in claims
    assert claims[c.CLAIM_CONTEXT]["id"] == str(world.school_class.sourced_id)
    assert claims[c.CLAIM_ROLES] == [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    ]
    assert "lineitem" not in claims[c.CLAIM_AGS_ENDPOINT]
    assert claims[c.CLAIM_DEEP_LINKING_SETTINGS] == {
        "deep_link_return_url": settings.LTI_ISSUER + "/lti/deep-linking/return",
        "accept_types": ["ltiResourceLink", "link", "file", "html", "image"],
        "accept_presentation_document_targets": ["window"],  # no platform storage: no iframe
        "accept_multiple": True,
        "accept_lineitem": True,
        "auto_create": False,
        "title": world.placement.title,
        "text": world.school_class.title,
        "data": claims[c.CLAIM_DEEP_LINKING_SETTINGS]["data"],
    }
    assert claims[c.CLAIM_DEEP_LINKING_SETTINGS]["data"].startswith(record.key + ".")
    assert (record.user, record.school_class, record.accept_multiple) == (
        world.teacher,
        world.school_class,
        True,
    )


def test_iframe_is_offered_only_to_a_tool_with_platform_storage(world: World) -> None:
    """Third-party cookies are blocked in frames: a tool that keeps its login state in cookies
    would fail there, so iframe is offered, and accepted, only with platform storage."""
    request = request_claims(world)
    framed = [{**LINK, "iframe": {"width": 800, "height": 600}}]
    assert refusal(post(world, response_jwt(world, request, framed))) == (
        "content_items[0]: presentation target 'iframe' was not accepted"
    )
    nothing_written()
    world.registration.platform_storage = True
    world.registration.save()
    request = request_claims(world)
    settings_claim = request[c.CLAIM_DEEP_LINKING_SETTINGS]
    assert settings_claim["accept_presentation_document_targets"] == ["window", "iframe"]
    assert post(world, response_jwt(world, request, framed)).status_code == HTTPStatus.OK
    assert Assignment.objects.get().target == "iframe"


def test_a_student_cannot_start_deep_linking(world: World) -> None:
    student = StudentFactory.create(home_class=world.school_class)
    world.client.force_login(student)
    response = world.client.get(
        f"/lti/deep-linking/{world.placement.resource_link_id}/{world.school_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "only the class&#x27;s teachers can assign content from a tool" in (
        response.content.decode()
    )
    assert DeepLinkingRequest.objects.count() == 0


def test_a_teacher_cannot_start_deep_linking_in_another_teachers_class(world: World) -> None:
    other = TeacherFactory.create(org=world.school_class.school)
    world.client.force_login(other)
    response = world.client.get(
        f"/lti/deep-linking/{world.placement.resource_link_id}/{world.school_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "you are not a member of this class" in response.content.decode()
    assert DeepLinkingRequest.objects.count() == 0


def test_a_tool_without_a_deep_linking_url_offers_nothing(world: World) -> None:
    Registration.objects.filter(pk=world.registration.pk).update(deep_linking_url="")
    response = world.client.get(
        f"/lti/deep-linking/{world.placement.resource_link_id}/{world.school_class.sourced_id}"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "no deep-linking URL" in response.content.decode()


# --- the response: accepted ------------------------------------------------------------------


def test_an_accepted_response_creates_assignments_and_line_items(world: World) -> None:
    request = request_claims(world)
    items: list[dict[str, Any]] = [
        {**LINK, "lineItem": {"scoreMaximum": 10, "label": "分数", "tag": "unit-1"}},
        {**LINK, "custom": {"unit": "1"}},  # the same URL again: its own assignment
        {"type": "html", "html": "<p>よみましょう</p>", "title": "音読"},
    ]
    response = post(world, response_jwt(world, request, items, **{c.CLAIM_DL_MSG: "3件です"}))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "課題を3件追加しました" in body
    assert "ツールからのメッセージ: 3件です" in body
    rows = list(Assignment.objects.order_by("position"))
    assert [(a.item_type, a.title, a.position, a.custom_parameters) for a in rows] == [
        ("ltiResourceLink", "分数のたし算", 1, {}),
        ("ltiResourceLink", "分数のたし算", 2, {"unit": "1"}),
        ("html", "音読", 3, {}),
    ]
    [item] = LineItem.objects.all()
    assert (item.assignment, item.label, item.score_maximum, item.tag) == (
        rows[0],
        "分数",
        10.0,
        "unit-1",
    )
    assert Event.objects.filter(kind="assignment.created").count() == 3
    assert DeepLinkingRequest.objects.get().used_at is not None


def test_an_assignment_launches_with_its_line_item_and_stops_when_deleted(world: World) -> None:
    request = request_claims(world)
    item = {**LINK, "lineItem": {"scoreMaximum": 5}, "custom": {"unit": "3"}}
    assert post(world, response_jwt(world, request, [item])).status_code == HTTPStatus.OK
    assignment = Assignment.objects.get()
    line_item = LineItem.objects.get()
    url = f"/lti/launch/{assignment.resource_link_id}/{world.school_class.sourced_id}"
    login = login_params(world.client.get(url))
    assert login["target_link_uri"] == "https://dl-tool.example/u/1"
    response = world.client.get(
        "/lti/authorize",
        {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": world.registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": "n1",
        },
    )
    [form] = forms(response.content.decode())
    claims = jwt.decode(form.fields["id_token"], options={"verify_signature": False})
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[c.CLAIM_RESOURCE_LINK]["id"] == str(assignment.resource_link_id)
    assert claims[c.CLAIM_CUSTOM]["unit"] == "3"
    assert claims[c.CLAIM_AGS_ENDPOINT]["lineitem"].endswith(f"/lineitems/{line_item.pk}")

    Assignment.objects.filter(pk=assignment.pk).update(deleted_at="2026-01-01T00:00:00Z")
    refused = world.client.get(url)
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert "this tool is not placed for this class" in refused.content.decode()
    assert LineItem.objects.filter(pk=line_item.pk).exists()  # scores stay


# --- the response: refused, nothing written ---------------------------------------------------


def _now() -> int:
    return int(time.time())


CASES = [
    ("bad signature", {"key": OTHER_KEY}, "the JWT signature is not valid for the tool's key"),
    (
        "unknown kid",
        {"kid": "nope"},
        "the tool's key was not found: no key with kid 'nope' in the tool's JWKS",
    ),
    ("wrong iss", {"iss": "mh-unknown"}, "iss is not the client_id of an active tool"),
    (
        "wrong aud",
        {"aud": ["https://elsewhere.example"]},
        "aud does not contain the platform's issuer",
    ),
    ("expired", {"exp": _now() - 120, "iat": _now() - 400}, "the JWT has expired (exp)"),
    ("future iat", {"iat": _now() + 600}, "the JWT was issued in the future (iat)"),
    (
        "wrong deployment",
        {c.CLAIM_DEPLOYMENT_ID: "other-deployment"},
        "deployment_id is not the deployment of the deep-linking request",
    ),
    (
        "wrong message type",
        {c.CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"},
        "message_type must be LtiDeepLinkingResponse",
    ),
    ("wrong version", {c.CLAIM_VERSION: "1.1"}, "version must be 1.3.0"),
    ("no nonce", {"nonce": ""}, "nonce is missing"),
    (
        "unsupported type",
        {c.CLAIM_DL_CONTENT_ITEMS: [{"type": "video", "url": "https://x.example/"}]},
        "content_items[0]: type 'video' was not accepted",
    ),
    (
        "score maximum 0",
        {c.CLAIM_DL_CONTENT_ITEMS: [{**LINK, "lineItem": {"scoreMaximum": 0}}]},
        "content_items[0]: lineItem.scoreMaximum must be a number greater than 0",
    ),
    (
        "custom not a string",
        {c.CLAIM_DL_CONTENT_ITEMS: [{**LINK, "custom": {"n": 1}}]},
        "content_items[0]: custom value 'n' must be a string",
    ),
    (
        "javascript link",
        {c.CLAIM_DL_CONTENT_ITEMS: [{"type": "link", "url": "javascript:alert(1)"}]},
        "content_items[0]: url must be an absolute http(s) URL",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "description"), CASES, ids=[x[0] for x in CASES])
def test_a_wrong_response_is_refused(
    world: World, case: str, overrides: dict[str, Any], description: str
) -> None:
    request = request_claims(world)
    response = post(world, response_jwt(world, request, [LINK], **overrides))
    assert refusal(response) == description
    nothing_written()


def test_altered_data_is_refused(world: World) -> None:
    request = request_claims(world)
    data = request[c.CLAIM_DEEP_LINKING_SETTINGS]["data"] + "0"
    response = post(world, response_jwt(world, request, [LINK], **{c.CLAIM_DL_DATA: data}))
    assert refusal(response) == "data is not a value the platform sent"
    nothing_written()


def test_reused_data_is_refused(world: World) -> None:
    request = request_claims(world)
    assert post(world, response_jwt(world, request, [LINK])).status_code == HTTPStatus.OK
    response = post(world, response_jwt(world, request, [LINK]))  # a new nonce, the same data
    assert refusal(response) == "data has already been used (a response is accepted once)"
    assert Assignment.objects.count() == 1


def test_a_replayed_nonce_is_refused(world: World) -> None:
    first = request_claims(world)
    assert post(world, response_jwt(world, first, [LINK], nonce="n-1")).status_code == 200
    second = request_claims(world)
    response = post(world, response_jwt(world, second, [LINK], nonce="n-1"))
    assert refusal(response) == "nonce has been used before (a replayed response)"
    assert Assignment.objects.count() == 1
    assert DeepLinkingRequest.objects.filter(used_at__isnull=True).count() == 1


def test_several_items_when_accept_multiple_is_false_are_refused(world: World) -> None:
    request = request_claims(world, multiple=False)
    assert request[c.CLAIM_DEEP_LINKING_SETTINGS]["accept_multiple"] is False
    response = post(world, response_jwt(world, request, [LINK, LINK]))
    assert refusal(response) == "several content items were sent but accept_multiple is false"
    nothing_written()


def test_another_teacher_cannot_use_the_response(world: World) -> None:
    request = request_claims(world)
    other = TeacherFactory.create(org=world.school_class.school, teaches=[world.school_class])
    client = Client()
    client.force_login(other)
    response = post(world, response_jwt(world, request, [LINK]), client=client)
    assert refusal(response) == "data was issued to another user"
    nothing_written()


def test_a_teacher_who_left_the_class_cannot_assign(world: World) -> None:
    request = request_claims(world)
    world.teacher.enrollments.update(status="tobedeleted")
    response = post(world, response_jwt(world, request, [LINK]))
    assert refusal(response) == "you are not a teacher of this class"
    nothing_written()


def test_an_expired_request_record_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_claims(world)
    token = response_jwt(world, request, [LINK])
    monkeypatch.setattr(services, "clock", lambda: time.time() + 3601)
    assert refusal(post(world, token)) == "the deep-linking request has expired; start again"
    nothing_written()


def test_a_response_without_a_jwt_is_refused(world: World) -> None:
    assert refusal(post(world, "")) == "the form has no JWT field"
    assert refusal(post(world, "not.a.jwt")) == "JWT is not a valid JSON Web Token"


# --- the authorization endpoint checks the deep-linking hint again --------------------------


def _authorize(w: World, login: dict[str, str]) -> dict[str, str]:
    response = w.client.get(
        "/lti/authorize",
        {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": w.registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": "n",
            "state": "st",
        },
    )
    [form] = forms(response.content.decode())
    return form.fields


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"role": "student"}, "only the class's teachers can assign content from a tool"),
        ({"status": "tobedeleted"}, "you are not a member of this class"),
    ],
)
def test_authorize_refuses_a_deep_linking_hint_of_someone_no_longer_teaching(
    world: World, change: dict[str, str], description: str
) -> None:
    login = login_params(
        world.client.get(
            f"/lti/deep-linking/{world.placement.resource_link_id}/{world.school_class.sourced_id}"
        )
    )
    world.teacher.enrollments.update(**change)
    assert _authorize(world, login) == {
        "error": "access_denied",
        "error_description": description,
        "state": "st",
    }
    assert DeepLinkingRequest.objects.count() == 0


def _accepted_assignment(w: World, **fields: Any) -> Assignment:
    request = request_claims(w)
    assert post(w, response_jwt(w, request, [LINK])).status_code == HTTPStatus.OK
    Assignment.objects.update(**fields)
    return Assignment.objects.get()


@pytest.mark.parametrize(
    "fields",
    [{"hidden": True}],
    ids=["hidden"],  # outside its window: tests/assignments/test_distribution.py (a 403 page)
)
def test_a_student_cannot_launch_a_hidden_or_closed_assignment(
    world: World, fields: dict[str, Any]
) -> None:
    assignment = _accepted_assignment(world, **fields)
    student = StudentFactory.create(home_class=world.school_class)
    world.client.force_login(student)
    url = f"/lti/launch/{assignment.resource_link_id}/{world.school_class.sourced_id}"
    response = world.client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "this tool is not placed for this class" in response.content.decode()


def test_a_student_launches_an_open_assignment(world: World) -> None:
    assignment = _accepted_assignment(world, available_end="2099-03-31T00:00:00Z")
    student = StudentFactory.create(home_class=world.school_class)
    world.client.force_login(student)
    login = login_params(
        world.client.get(
            f"/lti/launch/{assignment.resource_link_id}/{world.school_class.sourced_id}"
        )
    )
    claims = jwt.decode(_authorize(world, login)["id_token"], options={"verify_signature": False})
    assert claims[c.CLAIM_RESOURCE_LINK] == {
        "id": str(assignment.resource_link_id),
        "title": "分数のたし算",
        "description": "",
    }
    assert claims[c.CLAIM_ROLES][-1].endswith("membership#Learner")
