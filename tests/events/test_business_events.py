"""The business actions that publish events: a recorded score, a launch."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from events.models import Event
from lti_platform import ags, services
from lti_platform.errors import StaleScore
from lti_platform.models import LineItem, ScoreEvent
from roster.models import SchoolClass, User
from tests.lti_platform.test_authorize import auth_params, form_post, start
from tools_registry.models import Deployment, Placement

pytestmark = pytest.mark.django_db


def score_body(student: User, given: float, when: str) -> dict[str, Any]:
    return {
        "userId": str(student.eportal_uuid),
        "scoreGiven": given,
        "scoreMaximum": 10,
        "comment": "よくできました",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": when,
    }


def test_a_recorded_score_publishes_score_recorded(demo_school: dict[str, User]) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-03"]
    deployment = Deployment.objects.get(registration__tool__slug="demo-drill")
    item = LineItem.objects.create(
        deployment=deployment,
        school_class=school_class,
        placement=Placement.objects.filter(deployment=deployment, school=school_class.school)
        .order_by("pk")
        .first(),
        label="たしざん",
        score_maximum=10,
    )
    ctx = ags.ServiceContext(deployment, school_class)
    ags.record_score(ctx, item.pk, score_body(student, 8, "2026-05-01T18:30:00.5+09:00"))
    with pytest.raises(StaleScore):  # an older score writes nothing, publishes nothing
        ags.record_score(ctx, item.pk, score_body(student, 3, "2026-05-01T09:00:00Z"))
    [event] = Event.objects.all()
    assert (event.kind, event.payload) == (
        "score.recorded",
        {
            "score_event_id": ScoreEvent.objects.get().pk,
            "line_item_id": item.pk,
            "label": "たしざん",
            "school_class_id": school_class.pk,
            "deployment_pk": deployment.pk,
            "assignment_resource_link_id": None,
            "curriculum_codes": [],
            "user_id": student.pk,
            "user_uuid": str(student.eportal_uuid),
            "score_given": 8.0,
            "score_maximum": 10.0,
            "activity_progress": "Completed",
            "grading_progress": "FullyGraded",
            "comment": "よくできました",
            "timestamp": "2026-05-01T09:30:00.500Z",
        },
    )


def test_a_launch_publishes_launch_made_once(
    demo_school: dict[str, User], signed_in: Callable[[str], Client], monkeypatch: Any
) -> None:
    student = demo_school["sakura-5-2-01"]
    client = signed_in("sakura-5-2-01")
    login = start(client, student)
    moment = int(time.time()) + 1.25
    monkeypatch.setattr(services, "clock", lambda: moment)
    assert "id_token" in form_post(client.get("/lti/authorize", auth_params(login)))[1]
    replay = form_post(client.get("/lti/authorize", auth_params(login)))[1]
    assert replay["error_description"] == "lti_message_hint has already been used"
    placement = Placement.objects.filter(  # the one start() launches
        deployment__registration__tool__slug="demo-drill", school=student.org
    ).first()
    assert placement is not None
    assert student.home_class is not None
    [event] = Event.objects.all()
    launch_id = event.payload.pop("launch_id")
    assert isinstance(launch_id, str) and len(launch_id) >= 16  # the message hint's jti
    deployment = placement.deployment
    assert (event.kind, event.payload) == (
        "launch.made",
        {
            "user_id": student.pk,
            "user_uuid": str(student.eportal_uuid),
            "grade": student.grade,
            "resource_link_id": str(placement.resource_link_id),
            "title": placement.title,
            "assignment_title": None,
            "curriculum_codes": [],
            "school_class_id": student.home_class.pk,
            "class_sourced_id": str(student.home_class.sourced_id),
            "deployment_pk": deployment.pk,
            "deployment_id": "B_132993",
            "timestamp": datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        },
    )
