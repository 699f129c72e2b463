"""Sockets and sessions end: sign-out, expiry and an ended enrollment close the live sockets
and stop their events (portal.sockets); sessions end after their role's idle time (sso.idle)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.asgi import application
from events.models import Event
from portal.sockets import session_digest
from roster import membership
from roster.demo import DEMO_PASSWORD
from roster.models import Enrollment, EnrollmentStatus, SchoolClass, User
from sso import idle
from tools_registry.models import Placement

from .test_gradebook import make_score, serving
from .websockets import browser

WHEN = datetime.datetime(2026, 5, 1, 9, 30, tzinfo=datetime.UTC)
SESSION_ENDED = {"type": "websocket.close", "code": 4401}
FORBIDDEN = {"type": "websocket.close", "code": 4403}


def gradebook_path(school_class: SchoolClass) -> str:
    return f"/ws/classes/{school_class.sourced_id}/gradebook"


async def opened(path: str, user: User) -> tuple[Client, WebsocketCommunicator]:
    """A page of ``user`` (their own signed-in client) with its socket open on ``path``."""
    client, headers = await database_sync_to_async(browser)(user)
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect()
    assert (connected, code) == (True, None)
    return client, socket


async def score_reaches(
    control: WebsocketCommunicator, student: User, school_class: SchoolClass, given: float
) -> None:
    """Post a score and wait until the control socket has it: every socket of the class's
    group has been sent the same push by then."""
    await database_sync_to_async(make_score)(student, school_class, given, WHEN)
    message = await control.receive_json_from(timeout=20)
    assert (message["student"], message["score_given"]) == (student.pk, given)


def run(body: Callable[[], Any]) -> None:
    async def main() -> None:
        async with serving():
            await body()

    async_to_sync(main)()


# --- sign-out ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sign_out_closes_the_gradebook_at_once_and_stops_its_scores(
    demo_school: dict[str, User], settings: Any
) -> None:
    settings.SOCKET_RECHECK_SECONDS = 3600  # only the sign-out push can close it in time
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-04"]
    path = gradebook_path(school_class)

    async def body() -> None:
        teacher, socket = await opened(path, demo_school["sakura-t-kato"])
        _, control = await opened(path, demo_school["sakura-admin"])  # stays signed in
        key = teacher.session.session_key
        assert key is not None
        await score_reaches(control, student, school_class, 7)
        assert (await socket.receive_json_from(timeout=5))["score_given"] == 7.0

        signed_out = await database_sync_to_async(teacher.post)("/accounts/logout/")
        assert signed_out.status_code == HTTPStatus.FOUND
        assert await socket.receive_output(timeout=10) == SESSION_ENDED

        await score_reaches(control, student, school_class, 9)
        assert await socket.receive_nothing(timeout=0.2)
        event = await database_sync_to_async(Event.objects.get)(kind="session.ended")
        assert event.payload == {"session": session_digest(key)}  # never the key itself
        await socket.disconnect()
        await control.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_sign_out_closes_my_scores(demo_school: dict[str, User], settings: Any) -> None:
    settings.SOCKET_RECHECK_SECONDS = 3600
    school_class = SchoolClass.objects.get(class_code="5-2")
    student = demo_school["sakura-5-2-05"]

    async def body() -> None:
        client, socket = await opened("/ws/my/scores", student)
        await database_sync_to_async(make_score)(student, school_class, 4, WHEN)
        assert (await socket.receive_json_from(timeout=20))["score_given"] == 4.0

        await database_sync_to_async(client.post)("/accounts/logout/")
        assert await socket.receive_output(timeout=10) == SESSION_ENDED
        await socket.disconnect()

    run(body)


# --- the session ends without a sign-out ------------------------------------------------------


def _expire(user: User, key: str) -> None:
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )


def _delete(user: User, key: str) -> None:
    Session.objects.filter(session_key=key).delete()


def _change_password(user: User, key: str) -> None:
    user.set_password("a-new-password-9")
    user.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("end", [_expire, _delete, _change_password])
def test_a_session_that_ends_closes_its_socket(
    demo_school: dict[str, User], settings: Any, end: Callable[[User, str], None]
) -> None:
    settings.SOCKET_RECHECK_SECONDS = 0.05
    school_class = SchoolClass.objects.get(class_code="5-2")
    teacher = demo_school["sakura-t-kato"]

    async def body() -> None:
        client, socket = await opened(gradebook_path(school_class), teacher)
        assert await socket.receive_nothing(timeout=0.3)  # rechecked several times, still open
        await database_sync_to_async(end)(teacher, client.session.session_key)
        assert await socket.receive_output(timeout=10) == SESSION_ENDED
        await socket.disconnect()

    run(body)


# --- the enrollment ends ----------------------------------------------------------------------


def _teacher_enrollment(teacher: User, school_class: SchoolClass) -> Any:
    return Enrollment.objects.filter(user=teacher, school_class=school_class)


@pytest.mark.django_db(transaction=True)
def test_an_enrollment_set_inactive_closes_the_gradebook(
    demo_school: dict[str, User], settings: Any
) -> None:
    settings.SOCKET_RECHECK_SECONDS = 0.05
    school_class = SchoolClass.objects.get(class_code="5-2")
    teacher, student = demo_school["sakura-t-kato"], demo_school["sakura-5-2-06"]
    path = gradebook_path(school_class)

    async def body() -> None:
        _, socket = await opened(path, teacher)
        _, control = await opened(path, demo_school["sakura-admin"])
        await score_reaches(control, student, school_class, 5)
        assert (await socket.receive_json_from(timeout=5))["score_given"] == 5.0

        await database_sync_to_async(
            lambda: _teacher_enrollment(teacher, school_class).update(
                status=EnrollmentStatus.TO_BE_DELETED
            )
        )()
        assert await socket.receive_output(timeout=10) == FORBIDDEN
        await score_reaches(control, student, school_class, 6)
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()
        await control.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_an_enrollment_past_its_end_date_closes_the_gradebook(
    demo_school: dict[str, User], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SOCKET_RECHECK_SECONDS = 0.05
    school_class = SchoolClass.objects.get(class_code="5-2")
    teacher = demo_school["sakura-t-kato"]
    last_day = membership.today()
    _teacher_enrollment(teacher, school_class).update(end_date=last_day)

    async def body() -> None:
        _, socket = await opened(gradebook_path(school_class), teacher)
        assert await socket.receive_nothing(timeout=0.3)  # its last day: still open
        # The day passes; no row changes.
        monkeypatch.setattr(membership, "today", lambda: last_day + datetime.timedelta(days=1))
        assert await socket.receive_output(timeout=10) == FORBIDDEN
        await socket.disconnect()

    run(body)


@pytest.mark.django_db(transaction=True)
def test_no_score_is_sent_on_a_check_older_than_the_interval(
    demo_school: dict[str, User], settings: Any
) -> None:
    """A push arriving while the last check is stale is checked first (the periodic check
    would come only in an hour here)."""
    settings.SOCKET_RECHECK_SECONDS = 3600
    school_class = SchoolClass.objects.get(class_code="5-2")
    teacher, student = demo_school["sakura-t-kato"], demo_school["sakura-5-2-03"]
    path = gradebook_path(school_class)

    async def body() -> None:
        _, socket = await opened(path, teacher)
        _, control = await opened(path, demo_school["sakura-admin"])
        yesterday = membership.today() - datetime.timedelta(days=1)
        await database_sync_to_async(
            lambda: _teacher_enrollment(teacher, school_class).update(end_date=yesterday)
        )()
        settings.SOCKET_RECHECK_SECONDS = 0  # every check is stale from now on
        await score_reaches(control, student, school_class, 3)
        assert await socket.receive_output(timeout=10) == FORBIDDEN  # and not the score
        await socket.disconnect()
        await control.disconnect()

    run(body)


# --- idle timeouts per role -------------------------------------------------------------------


def sign_in(username: str) -> Client:
    """Sign in through the sign-in page, as a browser does."""
    client = Client()
    response = client.post("/accounts/login/", {"login": username, "password": DEMO_PASSWORD})
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()
    return client


def expire_date(client: Client) -> datetime.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def session_writes(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime.timedelta], None]:
    """Stop the clocks a session is judged by (the session load, the idle deadline) at the
    start of the test; ``clock(by)`` sets them ``by`` later than that."""
    start = timezone.now().replace(microsecond=0)

    def move(by: datetime.timedelta) -> None:
        monkeypatch.setattr(timezone, "now", lambda: start + by)

    move(datetime.timedelta(0))
    return move


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "timeout"),
    [("sakura-5-2-01", 1800), ("sakura-t-kato", 4 * 3600), ("sakura-admin", 4 * 3600)],
)
def test_sign_in_sets_the_roles_idle_timeout(
    demo_school: dict[str, User], monkeypatch: pytest.MonkeyPatch, username: str, timeout: int
) -> None:
    start = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(idle, "now", lambda: start)
    client = sign_in(username)
    assert expire_date(client) == start + datetime.timedelta(seconds=timeout)


@pytest.mark.django_db
def test_timeouts_come_from_the_settings(demo_school: dict[str, User], settings: Any) -> None:
    settings.SESSION_IDLE_TIMEOUT_STUDENT = 600
    settings.SESSION_IDLE_TIMEOUT_STAFF = 7200
    before = timezone.now()
    student, teacher = sign_in("sakura-5-2-01"), sign_in("sakura-t-kato")
    after = timezone.now()
    assert before + datetime.timedelta(seconds=600) <= expire_date(student)
    assert expire_date(student) <= after + datetime.timedelta(seconds=600)
    assert before + datetime.timedelta(seconds=7200) <= expire_date(teacher)
    assert expire_date(teacher) <= after + datetime.timedelta(seconds=7200)


@pytest.mark.django_db
def test_a_request_after_the_idle_timeout_is_signed_out(
    demo_school: dict[str, User], clock: Callable[[datetime.timedelta], None]
) -> None:
    student, teacher = sign_in("sakura-5-2-01"), sign_in("sakura-t-kato")
    clock(datetime.timedelta(minutes=29))
    assert student.get("/my/scores").status_code == HTTPStatus.OK  # activity: 30 more minutes
    clock(datetime.timedelta(minutes=29 + 29))
    assert student.get("/my/scores").status_code == HTTPStatus.OK
    clock(datetime.timedelta(minutes=29 + 29 + 31))
    response = student.get("/my/scores")
    assert (response.status_code, response["Location"]) == (
        HTTPStatus.FOUND,
        "/accounts/login/?next=/my/scores",
    )
    assert teacher.get("/").status_code == HTTPStatus.OK  # staff: hours, not minutes
    clock(datetime.timedelta(minutes=29 + 29 + 31 + 4 * 60 + 1))
    assert teacher.get("/").status_code == HTTPStatus.FOUND


@pytest.mark.django_db
def test_a_launch_right_after_sign_in_writes_no_session(
    demo_school: dict[str, User], clock: Callable[[datetime.timedelta], None]
) -> None:
    school_class = SchoolClass.objects.get(class_code="5-2")
    placement = Placement.objects.get(
        deployment__registration__tool__slug="demo-drill", school=school_class.school
    )
    launch = f"/lti/launch/{placement.resource_link_id}/{school_class.sourced_id}"
    student = sign_in("sakura-5-2-01")
    deadline = expire_date(student)
    with CaptureQueriesContext(connection) as captured:
        assert student.get(launch).status_code == HTTPStatus.FOUND
        assert student.get("/").status_code == HTTPStatus.OK
    writes = [sql for sql in session_writes(captured) if not sql.startswith("SELECT")]
    assert writes == []
    assert expire_date(student) == deadline

    clock(datetime.timedelta(minutes=2))  # two minutes behind: within a tenth of 30 minutes
    with CaptureQueriesContext(connection) as captured:
        assert student.get(launch).status_code == HTTPStatus.FOUND
    assert [sql.split()[0] for sql in session_writes(captured)] == ["SELECT"]
    assert expire_date(student) == deadline

    clock(datetime.timedelta(minutes=4))  # four minutes behind: written once
    with CaptureQueriesContext(connection) as captured:
        assert student.get(launch).status_code == HTTPStatus.FOUND
    assert [sql.split()[0] for sql in session_writes(captured)] == ["SELECT", "UPDATE"]
    assert expire_date(student) == deadline + datetime.timedelta(minutes=4)
