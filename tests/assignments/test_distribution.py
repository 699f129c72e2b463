"""Test distribution (一斉配信): a test opens and closes at set times, for launches and scores.

Through the Django test client: a launch outside the available window gets a page saying when
the test opens (or that it ended), the authorization endpoint refuses it too, and AGS refuses
a score after the submission window or one replacing a graded attempt (the Back button).
"""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from assignments.models import Assignment
from lti_platform.keys import ensure_keys
from lti_platform.models import LineItem, Score, ScoreEvent
from lti_platform.protocol import constants as c
from roster import membership
from roster.models import RosterRole, SchoolClass, User
from tests.factories import PlacementFactory, StudentFactory, TeacherFactory
from tests.lti_platform.service_helpers import (
    ags_url,
    bearer,
    counts,
    demo_roster,
    deployment,
    get_token,
    register_tool,
    school_class,
)
from tests.ltiflow import forms
from tools_registry.models import Deployment, Placement

pytestmark = pytest.mark.django_db

TOKYO = datetime.timezone(datetime.timedelta(hours=9))
OPENS = datetime.datetime(2099, 6, 10, 9, 0, tzinfo=TOKYO)


def _test_for(placement: Placement, **fields: Any) -> Assignment:
    assert placement.school_class is not None
    return Assignment.objects.create(
        school_class=placement.school_class,
        deployment=placement.deployment,
        item_type="ltiResourceLink",
        title="5月の まとめテスト",
        **fields,
    )


def _launch_url(a: Assignment) -> str:
    return f"/lti/launch/{a.resource_link_id}/{a.school_class.sourced_id}"


def _child_in(placement: Placement, client: Client) -> User:
    assert placement.school_class is not None
    child = StudentFactory.create(home_class=placement.school_class)
    client.force_login(child)
    return child


PAGE_TEXT = {
    "not yet": "このテストは 6月10日 9:00 から はじまります。",
    "ended": "このテストは おわりました。",
}


@pytest.mark.parametrize(
    ("fields", "case"),
    [
        ({"available_start": OPENS}, "not yet"),
        ({"available_end": timezone.now() - datetime.timedelta(minutes=1)}, "ended"),
    ],
)
def test_a_launch_outside_the_window_gets_a_page_saying_when(
    client: Client, fields: dict[str, Any], case: str
) -> None:
    placement = PlacementFactory.create()
    a = _test_for(placement, **fields)
    _child_in(placement, client)
    response = client.get(_launch_url(a))
    assert response.status_code == HTTPStatus.FORBIDDEN
    page = response.content.decode()
    message = page.split('<p class="assignment-closed-message">', 1)[1].split("</p>", 1)[0]
    assert message == PAGE_TEXT[case]
    assert "<h1>5月の まとめテスト</h1>" in page


def test_a_teacher_may_open_the_test_before_it_opens(client: Client) -> None:
    placement = PlacementFactory.create()
    a = _test_for(placement, available_start=OPENS)
    assert placement.school_class is not None
    teacher = TeacherFactory.create(
        org=placement.school_class.school, teaches=[placement.school_class]
    )
    client.force_login(teacher)
    assert client.get(_launch_url(a)).status_code == HTTPStatus.FOUND


def _authorize(client: Client, placement: Placement, login: dict[str, str]) -> dict[str, str]:
    response = client.get(
        "/lti/authorize",
        {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": placement.deployment.registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": "n",
            "state": "st",
        },
    )
    [form] = forms(response.content.decode())
    return form.fields


def test_authorize_refuses_a_launch_whose_window_closed_meanwhile(client: Client) -> None:
    ensure_keys()
    placement = PlacementFactory.create()
    a = _test_for(placement, available_end=timezone.now() + datetime.timedelta(hours=1))
    _child_in(placement, client)
    started = client.get(_launch_url(a))
    assert started.status_code == HTTPStatus.FOUND
    login = dict(parse_qsl(urlsplit(started["Location"]).query))
    ended = datetime.datetime(2020, 3, 31, 15, 0, tzinfo=datetime.UTC)
    Assignment.objects.filter(pk=a.pk).update(available_end=ended)
    assert _authorize(client, placement, login) == {
        "error": "access_denied",
        "error_description": "this assignment has closed: it closed at 2020-04-01T00:00:00+09:00",
        "state": "st",
    }


def test_authorize_refuses_a_launch_before_the_test_opens(client: Client) -> None:
    ensure_keys()
    placement = PlacementFactory.create()
    a = _test_for(placement)
    _child_in(placement, client)
    started = client.get(_launch_url(a))
    login = dict(parse_qsl(urlsplit(started["Location"]).query))
    Assignment.objects.filter(pk=a.pk).update(available_start=OPENS)
    assert _authorize(client, placement, login) == {
        "error": "access_denied",
        "error_description": (
            "this assignment is not open yet: it opens at 2099-06-10T09:00:00+09:00"
        ),
        "state": "st",
    }


# --- scores through AGS ----------------------------------------------------------------------


def _graded_test(client: Client, **fields: Any) -> tuple[str, Deployment, SchoolClass, LineItem]:
    demo_roster()
    registration = register_tool("cbt")
    dep, klass = deployment(registration), school_class("5-2")
    a = Assignment.objects.create(
        school_class=klass,
        deployment=dep,
        item_type="ltiResourceLink",
        title="5月の まとめテスト",
        **fields,
    )
    item = LineItem.objects.create(
        deployment=dep, school_class=klass, assignment=a, label=a.title, score_maximum=3
    )
    return get_token(client, registration), dep, klass, item


def _learner(klass: SchoolClass) -> User:
    return membership.members(klass, roles=[RosterRole.STUDENT]).select_related("user")[0].user


def _post_score(
    client: Client, token: str, dep: Deployment, klass: SchoolClass, item: LineItem, **body: Any
) -> Any:
    return client.post(
        ags_url(dep, klass, f"/{item.pk}/scores"),
        json.dumps(body),
        content_type=c.MEDIA_SCORE,
        headers=bearer(token),
    )


def _score(user: User, given: int, at: datetime.datetime) -> dict[str, Any]:
    return {
        "userId": str(user.eportal_uuid),
        "timestamp": at.isoformat(),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": given,
        "scoreMaximum": 3,
    }


def test_a_score_after_the_submission_window_is_refused(client: Client) -> None:
    end = timezone.now() - datetime.timedelta(hours=1)
    token, dep, klass, item = _graded_test(client, submission_end=end)
    before = counts()
    late = end + datetime.timedelta(seconds=1)
    response = _post_score(client, token, dep, klass, item, **_score(_learner(klass), 3, late))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "the submission window of this assignment has closed",
    }
    assert counts() == before
    assert not Score.objects.exists() and not ScoreEvent.objects.exists()


def test_a_score_inside_the_window_received_late_is_refused(client: Client) -> None:
    end = timezone.now() - datetime.timedelta(hours=1)
    token, dep, klass, item = _graded_test(client, submission_end=end)
    early = end - datetime.timedelta(minutes=5)  # backdated, received an hour after the end
    response = _post_score(client, token, dep, klass, item, **_score(_learner(klass), 3, early))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Score.objects.exists() and not ScoreEvent.objects.exists()


def test_a_resubmission_after_a_graded_submit_is_refused(client: Client) -> None:
    end = timezone.now() + datetime.timedelta(hours=1)
    token, dep, klass, item = _graded_test(client, submission_end=end)
    child = _learner(klass)
    first = timezone.now() - datetime.timedelta(minutes=2)
    assert _post_score(client, token, dep, klass, item, **_score(child, 0, first)).status_code == (
        HTTPStatus.NO_CONTENT
    )
    before = counts()
    again = first + datetime.timedelta(minutes=1)  # the Back button, the answers fixed
    response = _post_score(client, token, dep, klass, item, **_score(child, 3, again))
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {
        "error": "invalid_request",
        "error_description": (
            "this test was already submitted and graded; a new attempt cannot replace it"
        ),
    }
    assert counts() == before
    stored = Score.objects.get(line_item=item, user=child)
    assert (stored.score_given, stored.grading_progress) == (0, "FullyGraded")
    assert list(ScoreEvent.objects.values_list("score_given", flat=True)) == [0]


def test_an_assignment_without_a_window_takes_a_new_score(client: Client) -> None:
    token, dep, klass, item = _graded_test(client)
    child = _learner(klass)
    first = timezone.now() - datetime.timedelta(minutes=2)
    for given, at in ((0, first), (3, first + datetime.timedelta(minutes=1))):
        response = _post_score(client, token, dep, klass, item, **_score(child, given, at))
        assert response.status_code == HTTPStatus.NO_CONTENT, response.content
    assert Score.objects.get(line_item=item, user=child).score_given == 3
