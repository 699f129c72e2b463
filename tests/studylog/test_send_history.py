"""History for an LRS added later (studylog.services.send_history and the study-log page).

Forwarding rows are written at capture time for the board's active LRSs only, so an LRS added
later has nothing from before. A board administrator picks a day 「この日以降の記録を送る」: the
board's statements stored since the start of that day (Asia/Tokyo) that the LRS has no row for
become pending rows — exactly those, once, never another board's.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from roster.administration import NotAdministered
from roster.models import Org, OrgType, User
from studylog import services
from studylog.models import Forwarding, ForwardingState, LrsEndpoint, Origin, Statement
from tests.factories import BoardAdministratorFactory, DistrictFactory

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]
UTC = datetime.UTC
MAY_1_JST = datetime.datetime(2026, 4, 30, 15, 0, tzinfo=UTC)  # 2026-05-01 00:00 in Tokyo


@pytest.fixture
def board(demo_school: dict[str, User]) -> Org:
    return Org.objects.get(type=OrgType.DISTRICT, identifier="132993")


@pytest.fixture
def admin(demo_school: dict[str, User]) -> User:
    return demo_school["manabi-board-admin"]


def make_lrs(board: Org, name: str = "あとから追加した LRS") -> LrsEndpoint:
    return LrsEndpoint.objects.create(board=board, name=name, url="https://lrs.example.jp/xapi/")


def stored_at(board: Org | None, moment: datetime.datetime) -> Statement:
    return Statement.objects.create(
        id=uuid.uuid4(),
        body=b"{}",
        origin=Origin.PORTAL,
        verb="http://adlnet.gov/expapi/verbs/launched",
        timestamp=moment,
        stored=moment,
        board=board,
    )


def forwarded(statement: Statement, lrs: LrsEndpoint, state: str) -> Forwarding:
    moment = statement.stored
    return Forwarding.objects.create(
        statement=statement,
        lrs=lrs,
        state=state,
        available_at=moment,
        created_at=moment,
        delivered_at=moment if state == ForwardingState.DELIVERED else None,
    )


def rows_of(lrs: LrsEndpoint) -> list[tuple[uuid.UUID, str, int]]:
    return sorted((f.statement_id, f.state, f.attempts) for f in Forwarding.objects.filter(lrs=lrs))


def snapshot() -> list[tuple[Any, ...]]:
    return list(Forwarding.objects.order_by("pk").values_list())


def test_history_since_a_day_queues_exactly_the_missing_statements_once(
    board: Org, admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    old = make_lrs(board, "前からの LRS")
    new = make_lrs(board)
    before = stored_at(board, MAY_1_JST - datetime.timedelta(seconds=1))
    first = stored_at(board, MAY_1_JST)
    later = stored_at(board, MAY_1_JST + datetime.timedelta(days=3))
    has_it = stored_at(board, MAY_1_JST + datetime.timedelta(days=4))
    dead = stored_at(board, MAY_1_JST + datetime.timedelta(days=5))
    theirs = stored_at(DistrictFactory.create(), MAY_1_JST + datetime.timedelta(days=1))
    nobodys = stored_at(None, MAY_1_JST + datetime.timedelta(days=1))
    for s in (before, first, later, has_it, dead):  # the LRS that was there all along
        forwarded(s, old, ForwardingState.DELIVERED)
    forwarded(has_it, new, ForwardingState.DELIVERED)
    forwarded(dead, new, ForwardingState.DEAD)
    old_rows = rows_of(old)

    with django_capture_on_commit_callbacks(execute=True):
        queued = services.send_history(acting_user=admin, lrs=new, since=MAY_1_JST)

    assert queued == 2
    assert rows_of(new) == sorted(
        [
            (first.id, ForwardingState.PENDING, 0),
            (later.id, ForwardingState.PENDING, 0),
            (has_it.id, ForwardingState.DELIVERED, 0),
            (dead.id, ForwardingState.DEAD, 0),  # a dead letter is replayed, not queued again
        ]
    )
    assert rows_of(old) == old_rows
    assert Forwarding.objects.filter(statement__in=[theirs, nobodys]).count() == 0
    pending = Forwarding.objects.filter(lrs=new, state=ForwardingState.PENDING)
    assert {(f.claimed_by, f.claim_token, f.claimed_until, f.last_error) for f in pending} == {
        ("", "", None, "")
    }

    again = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_history(acting_user=admin, lrs=new, since=MAY_1_JST) == 0
    assert snapshot() == again


def test_history_goes_in_batches_through_statements_stored_at_the_same_moment(
    board: Org, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "HISTORY_BATCH", 2)
    lrs = make_lrs(board)
    moment = MAY_1_JST + datetime.timedelta(hours=1)
    same = [stored_at(board, moment) for _ in range(5)]  # one moment, five ids
    others = [stored_at(board, moment + datetime.timedelta(minutes=n)) for n in range(1, 4)]
    forwarded(same[2], lrs, ForwardingState.PENDING)
    assert services.send_history(acting_user=admin, lrs=lrs, since=MAY_1_JST) == 7
    assert sorted(Forwarding.objects.filter(lrs=lrs).values_list("statement_id", flat=True)) == (
        sorted(s.id for s in same + others)
    )


def test_the_page_queues_history_from_the_chosen_day_and_audits(
    board: Org,
    admin: User,
    signed_in: SignIn,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    lrs = make_lrs(board)
    stored_at(board, MAY_1_JST - datetime.timedelta(minutes=1))  # 4月30日 23:59 in Tokyo
    kept = [stored_at(board, MAY_1_JST + datetime.timedelta(minutes=n)) for n in (0, 30)]
    client = signed_in("manabi-board-admin")
    study_log = f"/school/board/{board.sourced_id}/study-log"
    screen = client.get(study_log).content.decode()
    assert (
        f'<form method="post" action="{study_log}/lrs/{lrs.pk}/history" '
        f'class="admin-form lrs-form" data-testid="history-{lrs.pk}">'
    ) in screen
    assert f'<label for="since-{lrs.pk}">この日以降の記録を送る</label>' in screen
    with (
        caplog.at_level(logging.INFO, logger="manabi.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(f"{study_log}/lrs/{lrs.pk}/history", {"since": "2026-05-01"})
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, study_log)
    assert rows_of(lrs) == sorted((s.id, ForwardingState.PENDING, 0) for s in kept)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "manabi.audit",
            "INFO",
            f"lrs history queued: by user {admin.pk}, board {board.pk}, lrs {lrs.pk}: "
            "since 2026-05-01T00:00:00+09:00, 2 statements",
        )
    ]
    shown = client.get(study_log).content.decode()
    assert "LRS「あとから追加した LRS」に送る記録を2件追加しました。" in shown


@pytest.mark.parametrize("since", ["", "2026-13-01", "昨日"])
def test_a_missing_or_bad_day_is_refused_and_nothing_queued(
    board: Org, signed_in: SignIn, since: str
) -> None:
    lrs = make_lrs(board)
    stored_at(board, MAY_1_JST)
    client = signed_in("manabi-board-admin")
    url = f"/school/board/{board.sourced_id}/study-log/lrs/{lrs.pk}/history"
    response = client.post(url, {"since": since})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert (
        '<div class="notice notice-error" role="alert" data-testid="error">'
        "日付を入力してください。</div>"
    ) in response.content.decode()
    assert snapshot() == []


@pytest.mark.parametrize("who", ["other-board", "sakura-admin", "sakura-t-kato"])
def test_anyone_but_the_boards_administrators_gets_404_and_nothing_is_queued(
    board: Org, signed_in: SignIn, client: Client, who: str
) -> None:
    lrs = make_lrs(board)
    stored_at(board, MAY_1_JST)
    if who == "other-board":
        other = BoardAdministratorFactory.create(org=DistrictFactory.create())
        client.force_login(other)
        with pytest.raises(NotAdministered):
            services.send_history(acting_user=other, lrs=lrs, since=MAY_1_JST)
    else:
        signed_in(who)
    url = f"/school/board/{board.sourced_id}/study-log/lrs/{lrs.pk}/history"
    assert client.post(url, {"since": "2026-05-01"}).status_code == HTTPStatus.NOT_FOUND
    assert snapshot() == []


def test_another_boards_lrs_answers_404_from_this_boards_page(
    board: Org, signed_in: SignIn
) -> None:
    theirs = make_lrs(DistrictFactory.create())
    stored_at(theirs.board, MAY_1_JST)
    client = signed_in("manabi-board-admin")
    url = f"/school/board/{board.sourced_id}/study-log/lrs/{theirs.pk}/history"
    assert client.post(url, {"since": "2026-05-01"}).status_code == HTTPStatus.NOT_FOUND
    assert snapshot() == []


def test_the_form_and_its_answer_in_english(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    client = signed_in("manabi-board-admin")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    study_log = f"/school/board/{board.sourced_id}/study-log"
    screen = client.get(study_log).content.decode()
    assert f'<label for="since-{lrs.pk}">Send the records from this day on</label>' in screen
    assert ">Send earlier records</h2>" in screen
    client.post(f"{study_log}/lrs/{lrs.pk}/history", {"since": "2026-05-01"})
    shown = client.get(study_log).content.decode()
    assert "0 records added to those waiting to be sent to the LRS “あとから追加した LRS”." in shown
