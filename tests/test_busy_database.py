"""A busy database answers 503 with Retry-After in the endpoint's own format, after a bounded
wait, having written nothing; once it is free the same request succeeds.

The database is the test database file (not shared-cache memory), held by a second sqlite3
connection with ``BEGIN IMMEDIATE``, as another process's long write would hold it. The busy
timeout is cut to 0.3 s for these tests (``MANABI_DB_BUSY_TIMEOUT`` in production).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, transaction
from django.db.utils import IntegrityError
from django.test import Client

from dbtools import busy, writelock
from lti_platform.protocol import constants as c
from roster.models import User
from tests.factories import PASSWORD, StudentFactory
from tests.lti_platform.service_helpers import (
    ALL_SCOPES,
    ISSUER,
    ags_url,
    assertion,
    bearer,
    counts,
    demo_roster,
    deployment,
    get_token,
    post_token,
    private_key,
    register_tool,
    school_class,
    token_form,
)

pytestmark = pytest.mark.django_db(transaction=True)  # the other connection sees commits
TIMEOUT = 0.3
BUSY = {
    "error": "temporarily_unavailable",
    "error_description": "the platform is busy; retry after 1 seconds",
}

Lock = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reconnect with a 0.3 s busy timeout (Django passes OPTIONS to sqlite3.connect)."""
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", TIMEOUT)
    connection.close()
    yield
    connection.close()


@pytest.fixture
def held(short_busy_timeout: None) -> Lock:
    """A context manager: the database's write lock held by another connection."""

    @contextmanager
    def hold() -> Iterator[None]:
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            yield
            other.execute("ROLLBACK")
        finally:
            other.close()

    return hold


@pytest.fixture
def client() -> Client:
    """A browser gets the response; Django's test client would re-raise the error."""
    return Client(raise_request_exception=False)


def assert_busy_json(response: Any) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "1"
    assert response.json() == BUSY


def test_a_score_post_is_503_and_then_succeeds(client: Client, held: Lock) -> None:
    roster = demo_roster()
    tool = register_tool("test-tool")
    token = get_token(client, tool)
    url = ags_url(deployment(tool), school_class("5-2"))
    created = client.post(
        url,
        json.dumps({"label": "たしざん", "scoreMaximum": 10}),
        content_type=c.MEDIA_LINEITEM,
        headers=bearer(token),
    )
    assert created.status_code == HTTPStatus.CREATED
    score = json.dumps(
        {
            "userId": str(roster["sakura-5-2-01"].eportal_uuid),
            "timestamp": "2026-04-10T09:30:00.000Z",
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": 8,
            "scoreMaximum": 10,
        }
    )
    scores_url = str(created.json()["id"]).removeprefix(ISSUER) + "/scores"

    def post() -> Any:
        return client.post(scores_url, score, content_type=c.MEDIA_SCORE, headers=bearer(token))

    before = counts()
    with held():
        assert_busy_json(post())
    assert counts() == before
    assert post().status_code == HTTPStatus.NO_CONTENT
    assert counts()["Score"] == before["Score"] + 1


def test_a_token_post_is_503_and_the_same_assertion_then_succeeds(
    client: Client, held: Lock
) -> None:
    demo_roster()
    tool = register_tool("test-tool")
    form = token_form(assertion(tool.client_id, key=private_key("test-tool")), ALL_SCOPES)
    before = counts()
    with held():
        response = post_token(client, form)
        assert_busy_json(response)
        assert response["Cache-Control"] == "no-store"
    assert counts() == before  # the jti was not consumed: the same assertion works
    response = post_token(client, form)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["token_type"] == "Bearer"


def test_a_sign_in_is_a_japanese_503_page_and_then_succeeds(client: Client, held: Lock) -> None:
    student = StudentFactory.create()
    form = {"login": student.username, "password": PASSWORD}
    with held():
        response = client.post("/accounts/login/", form)
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response["Retry-After"] == "1"
        page = response.content.decode()
        assert "<h1>いま こんでいます</h1>" in page
        assert "すこし まってから、もういちど ためしてね。" in page
    assert Session.objects.count() == 0
    assert User.objects.get(pk=student.pk).last_login is None
    response = client.post("/accounts/login/", form)
    assert response.status_code == HTTPStatus.FOUND
    assert Session.objects.count() == 1


# --- the bound -------------------------------------------------------------------------------


def busy_timeout_ms() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (value,) = cursor.fetchone()
    return int(value)


def test_a_queued_writer_gets_only_the_rest_of_its_budget(
    short_busy_timeout: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that reached the front of the queue after waiting its whole budget does not
    wait a second budget in SQLite: its busy timeout is what is left (0 here), restored after."""
    assert busy_timeout_ms() == 300
    ticks = iter([100.0, 100.0 + TIMEOUT])  # arrival; at the front of the queue
    monkeypatch.setattr(writelock, "_clock", lambda: next(ticks))
    with writelock.serialized_writes():
        assert busy_timeout_ms() == 0
    assert busy_timeout_ms() == 300


def test_a_writer_that_arrives_at_a_free_queue_keeps_its_budget(short_busy_timeout: None) -> None:
    with writelock.serialized_writes():
        assert busy_timeout_ms() == 300


def test_a_writer_queue_busy_past_the_budget_is_database_busy(short_busy_timeout: None) -> None:
    """Another thread holds the queue (its write not done): give up after the budget."""
    entered, release = threading.Event(), threading.Event()

    def hold_queue() -> None:
        with writelock.serialized_writes():
            entered.set()
            release.wait(timeout=60)
        connection.close()

    holder = threading.Thread(target=hold_queue)
    holder.start()
    try:
        assert entered.wait(timeout=60)
        with pytest.raises(busy.DatabaseBusy) as waited:
            with writelock.serialized_writes():
                pass
        assert busy.is_busy(waited.value)
    finally:
        release.set()
        holder.join(timeout=60)
    assert not holder.is_alive()


def test_the_writer_queue_is_reentrant_in_a_thread_and_held_until_the_outermost_block_ends(
    short_busy_timeout: None,
) -> None:
    """An action composed of others (each queueing for its own write) holds the queue once
    around the whole transaction: the inner blocks pass through, and another thread waits
    until the outermost block ends."""

    def another_thread_enters() -> bool:
        entered: list[bool] = []

        def enter() -> None:
            try:
                with writelock.serialized_writes():
                    entered.append(True)
            except busy.DatabaseBusy:
                entered.append(False)
            finally:
                connection.close()

        thread = threading.Thread(target=enter)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive()
        return entered == [True]

    with writelock.serialized_writes():
        with writelock.serialized_writes(), transaction.atomic():
            pass
        assert not another_thread_enters()  # still held by the outer block
    assert another_thread_enters()


def test_a_locked_database_is_busy_and_other_errors_are_not(held: Lock) -> None:
    with held(), pytest.raises(OperationalError) as locked:
        with transaction.atomic():
            Session.objects.create(session_key="k", session_data="", expire_date="2030-01-01")
    assert busy.is_busy(locked.value)
    with pytest.raises(OperationalError) as broken:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
    assert not busy.is_busy(broken.value)
    assert not busy.is_busy(IntegrityError("UNIQUE constraint failed"))
    assert not busy.is_busy(None)


class FakePostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [("55P03", True), ("40001", True), ("40P01", True), ("42P01", False), ("23505", False)],
)
def test_postgresql_lock_timeouts_and_serialization_failures_are_busy(
    sqlstate: str, expected: bool
) -> None:
    try:
        try:
            raise FakePostgresError(sqlstate)
        except FakePostgresError as driver:
            raise OperationalError(sqlstate) from driver
    except OperationalError as wrapped:
        assert busy.is_busy(wrapped) is expected


def test_retry_after_is_the_busy_timeout_rounded_up(short_busy_timeout: None) -> None:
    assert busy.busy_timeout() == TIMEOUT
    assert busy.retry_after() == 1
