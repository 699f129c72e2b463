"""Statements from the portal's events: their exact content, ids, privacy and transactions."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from assignments import services as assignments
from lti_platform import ags, services
from lti_platform.errors import StaleScore
from lti_platform.models import LineItem, ScoreEvent
from roster import membership
from roster.models import Org, OrgType, SchoolClass, User
from studylog import capture
from studylog.models import Forwarding, LrsEndpoint, Origin, Statement
from studylog.xapi.statements import statement_id
from tests.lti_platform.test_authorize import auth_params, form_post, start
from tools_registry.models import Deployment, Placement, PrivacyLevel

pytestmark = pytest.mark.django_db

ISSUER = settings.LTI_ISSUER


def body_of(statement: Statement) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(bytes(statement.body))
    return parsed


def grouping(school_class: SchoolClass, tool_slug: str, tool_name: str) -> list[dict[str, Any]]:
    school = school_class.school
    board = school.parent
    assert board is not None
    return [
        {
            "objectType": "Activity",
            "id": f"{ISSUER}/xapi/activities/class/{school_class.sourced_id}",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/course",
                "name": {"ja": school_class.title},
            },
        },
        {
            "objectType": "Activity",
            "id": f"{ISSUER}/xapi/activities/school/{school.sourced_id}",
            "definition": {
                "type": "http://id.tincanapi.com/activitytype/organization",
                "name": {"ja": school.name},
            },
        },
        {
            "objectType": "Activity",
            "id": f"{ISSUER}/xapi/activities/org/{board.sourced_id}",
            "definition": {
                "type": "http://id.tincanapi.com/activitytype/organization",
                "name": {"ja": board.name},
            },
        },
        {
            "objectType": "Activity",
            "id": f"{ISSUER}/xapi/activities/tool/{tool_slug}",
            "definition": {
                "type": "http://id.tincanapi.com/activitytype/software-application",
                "name": {"ja": tool_name},
            },
        },
    ]


def record(student: User, given: float, when: str) -> tuple[LineItem, SchoolClass]:
    school_class = SchoolClass.objects.get(class_code="5-2")
    deployment = Deployment.objects.get(registration__tool__slug="demo-drill")
    item = LineItem.objects.filter(label="たしざん").first() or LineItem.objects.create(
        deployment=deployment,
        school_class=school_class,
        placement=Placement.objects.filter(deployment=deployment, school=school_class.school)
        .order_by("pk")
        .first(),
        label="たしざん",
        score_maximum=10,
    )
    ags.record_score(
        ags.ServiceContext(deployment, school_class),
        item.pk,
        {
            "userId": str(student.eportal_uuid),
            "scoreGiven": given,
            "scoreMaximum": 10,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": when,
        },
    )
    return item, school_class


def test_a_score_becomes_one_scored_statement_in_its_transaction(
    demo_school: dict[str, User],
) -> None:
    student = demo_school["sakura-5-2-03"]
    item, school_class = record(student, 8, "2026-05-01T18:30:00.5+09:00")
    with pytest.raises(StaleScore):  # refused: no statement either
        record(student, 3, "2026-05-01T09:00:00Z")
    [statement] = Statement.objects.all()
    history = ScoreEvent.objects.get()
    expected_id = statement_id(settings.LTI_PLATFORM_GUID, f"ags-score/{history.pk}")
    tool = Deployment.objects.get(registration__tool__slug="demo-drill").registration.tool
    assert body_of(statement) == {
        "id": str(expected_id),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": ISSUER, "name": str(student.eportal_uuid)},
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/scored",
            "display": {"en-US": "scored", "ja": "採点された"},
        },
        "object": {
            "objectType": "Activity",
            "id": f"{ISSUER}/xapi/activities/line-item/{item.pk}",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/assessment",
                "name": {"ja": "たしざん"},
            },
        },
        "result": {"score": {"scaled": 0.8, "raw": 8.0, "min": 0, "max": 10.0}, "completion": True},
        "context": {
            "contextActivities": {"grouping": grouping(school_class, tool.slug, tool.name)},
            "platform": settings.LTI_PLATFORM_NAME,
            "language": "ja",
            **(
                {
                    "extensions": {
                        "https://w3id.org/japan-xapi/extensions/grade": school_class.grades[0]
                    }
                }
                if len(school_class.grades) == 1
                else {}
            ),
        },
        "timestamp": "2026-05-01T09:30:00.500Z",
    }
    assert (statement.id, statement.origin, statement.user_id, statement.school_class_id) == (
        expected_id,
        Origin.PORTAL,
        student.pk,
        school_class.pk,
    )
    assert (statement.tool_id, statement.verb) == (tool.pk, "http://adlnet.gov/expapi/verbs/scored")
    assert statement.actor_key == f"account:{ISSUER}|{student.eportal_uuid}"


def test_forwarding_rows_go_to_the_boards_active_lrss_only(demo_school: dict[str, User]) -> None:
    board = Org.objects.get(type=OrgType.DISTRICT, identifier="132993")
    other_board = Org.objects.create(name="となり町教育委員会", type=OrgType.DISTRICT)
    active = LrsEndpoint.objects.create(board=board, name="A", url="https://lrs.example/xapi/")
    LrsEndpoint.objects.create(board=board, name="B", url="https://b.example/xapi/", active=False)
    LrsEndpoint.objects.create(board=other_board, name="C", url="https://c.example/xapi/")
    record(demo_school["sakura-5-2-03"], 8, "2026-05-01T09:30:00Z")
    [row] = Forwarding.objects.all()
    assert (row.lrs_id, row.state, row.statement_id) == (
        active.pk,
        "pending",
        Statement.objects.get().id,
    )


def test_at_privacy_level_id_only_no_class_or_school_titles_are_sent(
    demo_school: dict[str, User],
) -> None:
    deployment = Deployment.objects.get(registration__tool__slug="demo-drill")
    deployment.privacy_level = PrivacyLevel.ID_ONLY
    deployment.save()
    capture.cache.clear()
    record(demo_school["sakura-5-2-03"], 8, "2026-05-01T09:30:00Z")
    statement = body_of(Statement.objects.get())
    assert "name" not in statement["object"]["definition"]
    names = [
        a["definition"].get("name") for a in statement["context"]["contextActivities"]["grouping"]
    ]
    assert names == [None, None, None, {"ja": deployment.registration.tool.name}]
    text = json.dumps(statement, ensure_ascii=False)
    for personal in ("佐藤", "sakura-5-2-03", "@"):
        assert personal not in text


def test_a_launch_becomes_a_launched_statement_with_its_registration(
    demo_school: dict[str, User], signed_in: Callable[[str], Client], monkeypatch: Any
) -> None:
    student = demo_school["sakura-5-2-01"]
    client = signed_in("sakura-5-2-01")
    login = start(client, student)
    moment = int(time.time()) + 0.25
    monkeypatch.setattr(services, "clock", lambda: moment)
    assert "id_token" in form_post(client.get("/lti/authorize", auth_params(login)))[1]
    [statement] = Statement.objects.all()
    body = body_of(statement)
    assert body["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
    assert body["actor"]["account"]["name"] == str(student.eportal_uuid)
    placement = Placement.objects.filter(
        deployment__registration__tool__slug="demo-drill", school=student.org
    ).first()
    assert placement is not None
    assert body["object"] == {
        "objectType": "Activity",
        "id": f"{ISSUER}/xapi/activities/resource-link/{placement.resource_link_id}",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/link",
            "name": {"ja": placement.title},
        },
    }
    assert uuid.UUID(body["context"]["registration"]) == statement.xapi_registration
    assert body["timestamp"] == (
        datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
    if student.grade:
        assert body["context"]["extensions"]["https://w3id.org/japan-xapi/extensions/grade"] == (
            student.grade
        )


def test_an_assignment_becomes_an_assigned_statement_by_the_teacher(
    demo_school: dict[str, User],
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    teacher = next(
        e.user for e in membership.members(school_class).exclude(role="student").order_by("pk")
    )
    deployment = Deployment.objects.get(registration__tool__slug="demo-drill")
    assignment = assignments.create_assignment(
        acting_user=teacher,
        school_class=school_class,
        deployment=deployment,
        new=assignments.NewAssignment(
            item_type="ltiResourceLink",
            title="かけざん九九",
            curriculum_codes=("8260233100000000",),
        ),
    )
    [statement] = Statement.objects.all()
    body = body_of(statement)
    assert body["id"] == str(
        statement_id(
            settings.LTI_PLATFORM_GUID, f"assignment/{assignment.resource_link_id}/assigned"
        )
    )
    assert body["verb"]["id"] == "http://activitystrea.ms/schema/1.0/assign"
    assert body["actor"]["account"]["name"] == str(teacher.eportal_uuid)
    assert body["object"]["id"] == (
        f"{ISSUER}/xapi/activities/assignment/{assignment.resource_link_id}"
    )
    assert body["context"]["extensions"][
        "https://w3id.org/japan-xapi/extensions/course-of-study-code"
    ] == ["8260233100000000"]
    assert (
        statement.timestamp
        == assignment.created_at.replace(
            microsecond=assignment.created_at.microsecond // 1000 * 1000
        )
        or abs((statement.timestamp - assignment.created_at).total_seconds()) < 0.001
    )
    assert timezone.is_aware(statement.timestamp)
