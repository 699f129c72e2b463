"""LTI Submission Review 1.0: a line item's submissionReview, the gradebook's 「提出物を見る」 link,
and the LtiSubmissionReviewRequest a teacher starts from it (its claims and refusals)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from django.test import Client

from lti_platform.keys import ensure_keys
from lti_platform.models import LineItem, OneTimeToken, Score, ScoreEvent
from lti_platform.protocol import ags as ags_protocol
from lti_platform.protocol import constants as c
from roster.models import SchoolClass, User
from tests.factories import (
    LineItemFactory,
    PlacementFactory,
    RegistrationFactory,
    ScoreFactory,
    StudentFactory,
    TeacherFactory,
)
from tests.lti_platform import test_deep_linking as dlt
from tests.lti_platform.service_helpers import (
    ISSUER,
    ags_url,
    bearer,
    demo_roster,
    deployment,
    get_token,
    register_tool,
    school_class,
)
from tests.ltiflow import forms
from tools_registry.models import Registration

pytestmark = pytest.mark.django_db

REVIEW = {
    "reviewableStatus": ["Completed"],
    "label": "こたえを見る",
    "url": "https://review-tool.example/review",
    "custom": {"view": "answers"},
}


@dataclass
class World:
    client: Client
    teacher: User
    student: User
    school_class: SchoolClass
    registration: Registration
    item: LineItem
    score: Score


@pytest.fixture
def world(client: Client) -> World:
    ensure_keys()
    registration = RegistrationFactory.create(allowed_services=["ags"])
    placement = PlacementFactory.create(deployment__registration=registration)
    item = LineItemFactory.create(placement=placement, submission_review=REVIEW)
    score = ScoreFactory.create(line_item=item)
    school_class = placement.school_class
    assert school_class is not None
    teacher = TeacherFactory.create(org=school_class.school, teaches=[school_class])
    client.force_login(teacher)
    return World(client, teacher, score.user, school_class, registration, item, score)


def start_url(w: World, student: User | None = None) -> str:
    return f"/lti/review/{w.item.pk}/{(student or w.student).eportal_uuid}"


def authorize(w: World, login: dict[str, str]) -> dict[str, str]:
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
            "nonce": "n-1",
            "state": "st",
        },
    )
    assert response.status_code == HTTPStatus.OK
    [form] = forms(response.content.decode())
    return form.fields


def login_params(response: Any) -> dict[str, str]:
    assert response.status_code == HTTPStatus.FOUND, response.content
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def test_the_review_request_carries_for_user_and_the_line_item(world: World, settings: Any) -> None:
    login = login_params(world.client.get(start_url(world)))
    assert login["target_link_uri"] == "https://review-tool.example/review"
    fields = authorize(world, login)
    assert set(fields) == {"id_token", "state"}
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    deployment = world.item.deployment
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiSubmissionReviewRequest"
    assert claims["sub"] == str(world.teacher.eportal_uuid)
    assert claims[c.CLAIM_TARGET_LINK_URI] == "https://review-tool.example/review"
    assert claims[c.CLAIM_ROLES] == [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    ]
    student = world.student
    assert claims[c.CLAIM_FOR_USER] == {
        "user_id": str(student.eportal_uuid),
        "person_sourcedid": str(student.sourced_id),
        "given_name": student.first_name,
        "family_name": student.last_name,
        "name": f"{student.last_name}\u3000{student.first_name}",
        "roles": [
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
        ],
    }
    lineitems = (
        f"{settings.LTI_ISSUER}/lti/ags/{deployment.pk}/{world.school_class.sourced_id}/lineitems"
    )
    assert claims[c.CLAIM_AGS_ENDPOINT] == {
        "scope": list(c.AGS_SCOPES),
        "lineitems": lineitems,
        "lineitem": f"{lineitems}/{world.item.pk}",
    }
    assert world.item.placement is not None
    assert claims[c.CLAIM_RESOURCE_LINK]["id"] == str(world.item.placement.resource_link_id)
    assert claims[c.CLAIM_CUSTOM]["view"] == "answers"
    assert claims[c.CLAIM_CONTEXT]["id"] == str(world.school_class.sourced_id)


@pytest.mark.parametrize(
    ("level", "named", "with_email"),
    [("id_only", False, False), ("name", True, False), ("name_email", True, True)],
)
def test_for_user_names_only_as_privacy_allows(
    world: World, level: str, named: bool, with_email: bool
) -> None:
    Registration.objects.filter(pk=world.registration.pk).update(privacy_level=level)
    User.objects.filter(pk=world.student.pk).update(email="aoi@sakura.example")
    claims = jwt.decode(
        authorize(world, login_params(world.client.get(start_url(world))))["id_token"],
        options={"verify_signature": False},
    )
    student = world.student
    expected: dict[str, Any] = {
        "user_id": str(student.eportal_uuid),
        "person_sourcedid": str(student.sourced_id),
    }
    if named:
        expected.update(
            {
                "given_name": student.first_name,
                "family_name": student.last_name,
                "name": f"{student.last_name}\u3000{student.first_name}",
            }
        )
    if with_email:
        expected["email"] = "aoi@sakura.example"
    expected["roles"] = [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    ]
    assert claims[c.CLAIM_FOR_USER] == expected


def test_the_hint_is_single_use(world: World) -> None:
    login = login_params(world.client.get(start_url(world)))
    assert "id_token" in authorize(world, login)
    assert authorize(world, login) == {
        "error": "invalid_request",
        "error_description": "lti_message_hint has already been used",
        "state": "st",
    }


def test_without_a_url_the_tool_default_target_is_used(world: World) -> None:
    LineItem.objects.filter(pk=world.item.pk).update(submission_review={})
    login = login_params(world.client.get(start_url(world)))
    assert login["target_link_uri"] == world.registration.target_link_uri


def test_a_student_is_refused(world: World) -> None:
    world.client.force_login(world.student)
    response = world.client.get(start_url(world))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "only the class&#x27;s teachers can open a child&#x27;s submission" in (
        response.content.decode()
    )


def test_another_classes_teacher_gets_not_found(world: World) -> None:
    other = TeacherFactory.create(org=world.school_class.school)
    world.client.force_login(other)
    response = world.client.get(start_url(world))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "this grade column offers no submission review" in response.content.decode()


def test_a_child_who_is_not_a_learner_of_the_class_is_refused(world: World) -> None:
    stranger = StudentFactory.create(org=world.school_class.school)
    response = world.client.get(start_url(world, stranger))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "this person is not a learner of this class" in response.content.decode()


def test_a_status_not_reviewable_is_refused(world: World) -> None:
    Score.objects.filter(pk=world.score.pk).update(activity_progress="Started")
    response = world.client.get(start_url(world))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "this child has no submission to review yet" in response.content.decode()


def test_authorize_refuses_a_hint_when_the_child_left_the_class(world: World) -> None:
    login = login_params(world.client.get(start_url(world)))
    world.student.enrollments.update(status="tobedeleted")
    assert authorize(world, login) == {
        "error": "access_denied",
        "error_description": "this person is not a learner of this class",
        "state": "st",
    }
    assert not OneTimeToken.objects.exists()


def test_a_line_item_without_submission_review_cannot_be_reviewed(world: World) -> None:
    LineItem.objects.filter(pk=world.item.pk).update(submission_review=None)
    response = world.client.get(start_url(world))
    assert response.status_code == HTTPStatus.NOT_FOUND
    page = world.client.get(f"/classes/{world.school_class.sourced_id}/gradebook")
    assert page.status_code == HTTPStatus.OK
    assert "提出物を見る" not in page.content.decode()


# --- the gradebook links ------------------------------------------------------------------------


def test_the_gradebook_and_history_link_to_the_review(world: World) -> None:
    href = f'href="/lti/review/{world.item.pk}/{world.student.eportal_uuid}"'
    page = world.client.get(f"/classes/{world.school_class.sourced_id}/gradebook").content.decode()
    assert href in page and "提出物を見る" in page
    s = world.score
    ScoreEvent.objects.create(
        line_item=world.item,
        user=world.student,
        score_given=s.score_given,
        score_maximum=s.score_maximum,
        activity_progress=s.activity_progress,
        grading_progress=s.grading_progress,
        timestamp=s.timestamp,
    )
    history = world.client.get(
        f"/classes/{world.school_class.sourced_id}/gradebook/students/{world.student.eportal_uuid}"
    ).content.decode()
    assert href in history


def test_no_link_for_a_score_whose_status_is_not_reviewable(world: World) -> None:
    Score.objects.filter(pk=world.score.pk).update(activity_progress="InProgress")
    page = world.client.get(f"/classes/{world.school_class.sourced_id}/gradebook").content.decode()
    assert "提出物を見る" not in page


# --- parsing ------------------------------------------------------------------------------------


def test_submission_review_is_parsed_and_answered_back() -> None:
    data = ags_protocol.parse_line_item(
        {"label": "x", "scoreMaximum": 3, "submissionReview": {**REVIEW, "extra": 1}}
    )
    assert data.submission_review == REVIEW
    item = ags_protocol.line_item_json(
        url="u",
        label="x",
        score_maximum=3,
        resource_id="",
        tag="",
        resource_link_id=None,
        start_date_time=None,
        end_date_time=None,
        grades_released=None,
        submission_review=data.submission_review,
    )
    assert item == {"id": "u", "label": "x", "scoreMaximum": 3, "submissionReview": REVIEW}


@pytest.mark.parametrize(
    ("review", "description"),
    [
        ("yes", "submissionReview must be an object"),
        ({"url": "/review"}, "submissionReview.url must be an absolute http(s) URL"),
        ({"url": "javascript:alert(1)"}, "submissionReview.url must be an absolute http(s) URL"),
        (
            {"reviewableStatus": ["Graded"]},
            "submissionReview.reviewableStatus must be a list of Any, Initialized, Started, "
            "InProgress, Submitted, Completed",
        ),
        ({"custom": {"a": 1}}, "submissionReview.custom must be an object of string values"),
    ],
)
def test_a_bad_submission_review_is_refused(review: Any, description: str) -> None:
    with pytest.raises(ags_protocol.AgsError) as raised:
        ags_protocol.parse_line_item({"label": "x", "scoreMaximum": 3, "submissionReview": review})
    assert raised.value.description == description


def test_unknown_line_item_is_not_found(world: World) -> None:
    response = world.client.get(f"/lti/review/999999/{uuid.uuid4()}")
    assert response.status_code == HTTPStatus.NOT_FOUND


# --- through the services: AGS line items and a deep-linking lineItem -----------------------


def test_a_tool_creates_and_updates_a_line_item_with_submission_review(client: Client) -> None:
    demo_roster()
    tool = register_tool("review-tool")
    headers = bearer(get_token(client, tool))
    url = ags_url(deployment(tool), school_class("5-2"))
    body = {"label": "テスト", "scoreMaximum": 3, "submissionReview": REVIEW}
    created = client.post(url, json.dumps(body), content_type=c.MEDIA_LINEITEM, headers=headers)
    assert created.status_code == HTTPStatus.CREATED, created.content
    assert created.json()["submissionReview"] == REVIEW
    item_url = created.json()["id"].removeprefix(ISSUER)
    assert LineItem.objects.get().submission_review == REVIEW
    bad = client.put(
        item_url,
        json.dumps({**body, "submissionReview": {"url": "ftp://x.example/"}}),
        content_type=c.MEDIA_LINEITEM,
        headers=headers,
    )
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json() == {
        "error": "invalid_request",
        "error_description": "submissionReview.url must be an absolute http(s) URL",
    }
    assert LineItem.objects.get().submission_review == REVIEW
    cleared = client.put(
        item_url,
        json.dumps({"label": "テスト", "scoreMaximum": 3}),
        content_type=c.MEDIA_LINEITEM,
        headers=headers,
    )
    assert cleared.status_code == HTTPStatus.OK
    assert "submissionReview" not in cleared.json()
    assert LineItem.objects.get().submission_review is None


def test_a_deep_linking_line_item_keeps_its_submission_review(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_keys()
    registration = RegistrationFactory.create(
        jwks_url="https://dl-tool.example/jwks",
        deep_linking_url="https://dl-tool.example/deep-link",
        allowed_services=["ags"],
    )
    placement = PlacementFactory.create(deployment__registration=registration)
    jwk = {**dlt.jose.public_jwk(dlt.TOOL_KEY.public_key()), "kid": dlt.TOOL_KID}
    monkeypatch.setattr(dlt.tool_keys, "_fetch_jwks", lambda url: [jwk])
    klass = placement.school_class
    assert klass is not None
    teacher = TeacherFactory.create(org=klass.school, teaches=[klass])
    client.force_login(teacher)
    w = dlt.World(client, teacher, klass, registration, placement)
    request = dlt.request_claims(w)
    line_item = {"scoreMaximum": 3, "submissionReview": {"reviewableStatus": ["Completed"]}}
    bad = {"scoreMaximum": 3, "submissionReview": {"custom": {"n": 1}}}
    refused = dlt.post(w, dlt.response_jwt(w, request, [{**dlt.LINK, "lineItem": bad}]))
    assert dlt.refusal(refused) == (
        "content_items[0]: lineItem.submissionReview.custom must be an object of string values"
    )
    dlt.nothing_written()
    request = dlt.request_claims(w)
    accepted = dlt.post(w, dlt.response_jwt(w, request, [{**dlt.LINK, "lineItem": line_item}]))
    assert accepted.status_code == HTTPStatus.OK
    assert LineItem.objects.get().submission_review == {"reviewableStatus": ["Completed"]}


@pytest.mark.parametrize("url", ["https://[::1", "https://tool.example:99999/review", "review"])
def test_a_submission_review_url_that_is_not_a_url_is_refused(url: str) -> None:
    with pytest.raises(ags_protocol.AgsError, match=r"submissionReview\.url must be an absolute"):
        ags_protocol.parse_line_item(
            {"label": "x", "scoreMaximum": 3, "submissionReview": {"url": url}}
        )
