"""Gradebook pages and the live websocket: who may see what, and what a score push carries."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import ApplicationCommunicator, WebsocketCommunicator
from django.test import Client

from config.asgi import application
from events.models import Event
from lti_platform import ags
from lti_platform.models import LineItem, ScoreEvent
from roster.models import SchoolClass, User
from tests.factories import PASSWORD, SchoolAdministratorFactory
from tools_registry.models import Deployment, Placement

from .websockets import headers_for


def make_score(user: User, school_class: SchoolClass, given: float, when: datetime.datetime) -> Any:
    deployment = Deployment.objects.get(registration__tool__slug="demo-drill")
    ctx = ags.ServiceContext(deployment, school_class)
    item = LineItem.objects.filter(school_class=school_class).first() or LineItem.objects.create(
        deployment=deployment,
        school_class=school_class,
        placement=Placement.objects.filter(
            deployment=deployment, school=school_class.school
        ).first(),
        label="たしざん",
        score_maximum=10,
    )
    return ags.record_score(
        ctx,
        item.pk,
        {
            "userId": str(user.eportal_uuid),
            "scoreGiven": given,
            "scoreMaximum": 10,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": when.isoformat(),
        },
    )


@pytest.mark.django_db
def test_teacher_sees_scores_and_history(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-03"]
    now = datetime.datetime.now(tz=datetime.UTC)
    make_score(student, school_class, 6, now - datetime.timedelta(minutes=5))
    make_score(student, school_class, 9, now)
    client = signed_in("sakura-t-kato")
    body = client.get(f"/classes/{school_class.sourced_id}/gradebook").content.decode()
    assert "たしざん" in body and student.full_name in body and "9<small>/10</small>" in body
    history = client.get(
        f"/classes/{school_class.sourced_id}/gradebook/students/{student.eportal_uuid}"
    )
    assert history.status_code == HTTPStatus.OK
    text = history.content.decode()
    assert text.index("9 / 10") < text.index("6 / 10")  # newest first, both kept
    assert ScoreEvent.objects.filter(user=student).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["sakura-t-yamada", "sakura-5-2-01", "midori-t-suzuki"])
def test_others_get_not_found(
    demo_school: dict[str, User], signed_in: Callable[[str], Client], username: str
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-01"]
    client = signed_in(username)
    assert (
        client.get(f"/classes/{school_class.sourced_id}/gradebook").status_code
        == HTTPStatus.NOT_FOUND
    )
    history = f"/classes/{school_class.sourced_id}/gradebook/students/{student.eportal_uuid}"
    assert client.get(history).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_school_admin_sees_the_gradebook(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    response = signed_in("sakura-admin").get(f"/classes/{school_class.sourced_id}/gradebook")
    assert response.status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_the_boards_administrator_sees_it_and_another_schools_administrator_does_not(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    other_school = SchoolClass.objects.exclude(school=school_class.school)[0].school
    SchoolAdministratorFactory(username="other-school-admin", org=other_school)
    url = f"/classes/{school_class.sourced_id}/gradebook"
    assert signed_in("manabi-board-admin").get(url).status_code == HTTPStatus.OK
    other = Client()
    assert other.login(username="other-school-admin", password=PASSWORD)
    assert other.get(url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_student_sees_only_their_own_scores(
    demo_school: dict[str, User], signed_in: Callable[[str], Client]
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    now = datetime.datetime.now(tz=datetime.UTC)
    make_score(demo_school["sakura-5-2-01"], school_class, 7, now)
    make_score(demo_school["sakura-5-2-02"], school_class, 3, now)
    body = signed_in("sakura-5-2-01").get("/my/scores").content.decode()
    assert "7 / 10" in body and "3 / 10" not in body


def _connect(path: str, user: User | None) -> tuple[bool, Any]:
    headers = headers_for(user)  # a real session: the socket is bound to it

    async def run() -> tuple[bool, Any]:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_websocket_admits_only_staff_of_the_class(demo_school: dict[str, User]) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    path = f"/ws/classes/{school_class.sourced_id}/gradebook"
    assert _connect(path, demo_school["sakura-t-kato"])[0] is True
    assert _connect(path, demo_school["sakura-t-yamada"]) == (False, 4403)
    assert _connect(path, demo_school["sakura-5-2-01"]) == (False, 4403)
    assert _connect(path, None) == (False, 4401)


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[None]:
    """The ASGI lifespan of a serving process (it runs the process's event relay)."""
    lifespan = ApplicationCommunicator(application, {"type": "lifespan"})
    await lifespan.send_input({"type": "lifespan.startup"})
    assert await lifespan.receive_output(timeout=10) == {"type": "lifespan.startup.complete"}
    try:
        yield
    finally:
        await lifespan.send_input({"type": "lifespan.shutdown"})
        assert await lifespan.receive_output(timeout=20) == {"type": "lifespan.shutdown.complete"}


async def _pushed(path: str, viewer: User, post: Callable[[], Any]) -> Any:
    """Open ``path`` as ``viewer`` in a serving process, run ``post``, return the push."""
    from channels.db import database_sync_to_async

    async with serving():
        headers = await database_sync_to_async(headers_for)(viewer)
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        try:
            await database_sync_to_async(post)()
            return await communicator.receive_json_from(timeout=20)
        finally:
            await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_score_is_pushed_to_the_open_gradebook(demo_school: dict[str, User]) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-04"]
    when = datetime.datetime(2026, 5, 1, 9, 30, tzinfo=datetime.UTC)
    message = async_to_sync(_pushed)(
        f"/ws/classes/{school_class.sourced_id}/gradebook",
        demo_school["sakura-t-kato"],
        lambda: make_score(student, school_class, 8, when),
    )
    item = LineItem.objects.get(school_class=school_class)
    assert message == {
        "type": "score.updated",
        "line_item": item.pk,
        "label": "たしざん",
        "student": student.pk,
        "score_given": 8.0,
        "score_maximum": 10.0,
        "activity_progress": "Completed",
        "grading_progress": "FullyGraded",
        "timestamp": "2026-05-01T09:30:00.000Z",
    }
    assert Event.objects.filter(kind="score.recorded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_score_is_pushed_to_the_students_own_page(demo_school: dict[str, User]) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-05"]
    when = datetime.datetime(2026, 5, 2, 8, 0, tzinfo=datetime.UTC)
    message = async_to_sync(_pushed)(
        "/ws/my/scores", student, lambda: make_score(student, school_class, 4, when)
    )
    assert message["type"] == "score.updated"
    assert (message["student"], message["score_given"], message["timestamp"]) == (
        student.pk,
        4.0,
        "2026-05-02T08:00:00.000Z",
    )
