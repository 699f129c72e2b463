"""The demo CBT answers an LtiSubmissionReviewRequest (validated by pylti1p3): the teacher sees
the child's remembered answers; a learner is refused."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from demo_tools import attempts, config
from roster.models import User
from tests.demo_tools.test_deep_linking_tool import INSTRUCTOR, LEARNER, LTI, launch

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CHILD = "5b0c7d9e-0000-4000-8000-000000000001"


def review(client: Client, *, roles: tuple[str, ...] = (INSTRUCTOR,), name: str = "") -> Any:
    for_user: dict[str, Any] = {"user_id": CHILD, "person_sourcedid": "sid-1", "roles": [LEARNER]}
    if name:
        for_user["name"] = name
    return launch(
        client,
        "cbt",
        message_type="LtiSubmissionReviewRequest",
        roles=roles,
        extra={
            LTI + "for_user": for_user,
            LTI + "custom": {"test": "sansu-1"},
            AGS: {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
                "lineitems": "http://testserver/lti/ags/1/c/lineitems",
                "lineitem": "http://testserver/lti/ags/1/c/lineitems/7",
            },
        },
    )


def deployment_id() -> str:
    return str(config.load_all()["cbt"]["deployment_ids"][0])


def test_the_teacher_sees_the_childs_answers(demo_school: dict[str, User], client: Client) -> None:
    attempts.remember_answers(deployment_id(), CHILD, "sansu-1", {"q1": "15", "q2": "6"})
    page = review(client, name="佐藤　葵")
    assert page.status_code == HTTPStatus.OK, page.content.decode()
    body = page.content.decode()
    assert '<p data-testid="review-learner">佐藤　葵 さんの こたえ</p>' in body
    assert '<p data-testid="review-score">1 / 3 問 正解</p>' in body
    assert "<td>15 ○</td>" in body and "<td>6 ×</td>" in body and "<td>（無回答） ×</td>" in body


def test_no_answers_yet(demo_school: dict[str, User], client: Client) -> None:
    page = review(client)
    assert page.status_code == HTTPStatus.OK
    assert "この テストの こたえは まだ 届いていません。" in page.content.decode()


@pytest.mark.parametrize("roles", [(LEARNER,)])
def test_a_learner_cannot_review(
    demo_school: dict[str, User], client: Client, roles: tuple[str, ...]
) -> None:
    page = review(client, roles=roles)
    assert page.status_code == HTTPStatus.FORBIDDEN
    assert "提出物を見られるのは 先生だけです。" in page.content.decode()
