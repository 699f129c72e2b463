"""The board administrator's study-log page (/school/board/<board>/study-log): the board's LRSs
with their backlog, lag and dead letters, the add/edit form, replay and resume, and the tools'
LRS credentials.

Only an administrator of that board sees it: a school administrator, a teacher and another
board's administrator get 404, exactly as for a missing board, and change nothing.
"""

from __future__ import annotations

import base64
import datetime
import logging
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from roster.models import Org, OrgType, User
from studylog import forwarder
from studylog.lrs.auth import authenticate
from studylog.models import (
    Forwarding,
    LrsCredential,
    LrsEndpoint,
    Origin,
    Statement,
)
from tests.factories import BoardAdministratorFactory, DistrictFactory
from tests.portal.test_school_admin import _Page, page
from tools_registry.models import Registration

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]
VERB = "http://adlnet.gov/expapi/verbs/completed"
GOOD = {
    "name": "まなび市 LRS",
    "url": "https://lrs.example.jp/xapi/",
    "username": "manabi",
    "password": "s3cret-lrs-password",
    "xapi_version": "1.0.3",
    "batch_size": "200",
    "connect_timeout": "5",
    "read_timeout": "30",
}


@pytest.fixture
def board(demo_school: dict[str, User]) -> Org:
    return Org.objects.get(type=OrgType.DISTRICT, identifier="132993")


def url(board: Org, rest: str = "") -> str:
    return f"/school/board/{board.sourced_id}/study-log{rest}"


def make_lrs(board: Org, **fields: Any) -> LrsEndpoint:
    values: dict[str, Any] = {"name": "まなび市 LRS", "url": "https://lrs.example.jp/xapi/"}
    values.update(fields)
    password = values.pop("password", "stored-password")
    lrs = LrsEndpoint(board=board, **values)
    forwarder.set_password(lrs, password)
    lrs.save()
    return lrs


def forwarding(
    lrs: LrsEndpoint, state: str, *, age: datetime.timedelta, **fields: Any
) -> Forwarding:
    """One statement and its forwarding row to ``lrs``, created ``age`` ago."""
    moment = timezone.now() - age
    statement = Statement.objects.create(
        id=uuid.uuid4(),
        body=b"{}",
        origin=Origin.PORTAL,
        verb=VERB,
        timestamp=moment,
        stored=moment,
        board=lrs.board,
    )
    return Forwarding.objects.create(
        statement=statement, lrs=lrs, state=state, available_at=moment, created_at=moment, **fields
    )


def local(moment: datetime.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(moment).strftime(fmt)


def snapshot() -> list[tuple[Any, ...]]:
    """Every row the page's actions could write."""
    return [
        *LrsEndpoint.objects.order_by("pk").values_list(),
        *Forwarding.objects.order_by("pk").values_list(),
        *LrsCredential.objects.order_by("pk").values_list(),
    ]


# --- the page --------------------------------------------------------------------------------


def test_the_board_administrators_index_links_to_the_study_log(
    board: Org, signed_in: SignIn
) -> None:
    index = page(signed_in("manabi-board-admin"), "/school")
    assert ("📊 まなび市教育委員会の学習記録（xAPI）の送信", url(board)) in index.links
    assert [name for name, _href in index.links[-2:]] == [
        "まなび市立さくら小学校",
        "まなび市立みどり中学校",
    ]


def test_the_page_shows_each_lrs_with_its_state_backlog_lag_and_deliveries(
    board: Org, signed_in: SignIn
) -> None:
    success = timezone.now() - datetime.timedelta(minutes=10)
    healthy = make_lrs(board, name="正常な LRS", last_success_at=success)
    forwarding(healthy, "pending", age=datetime.timedelta(minutes=3, seconds=10))
    forwarding(healthy, "pending", age=datetime.timedelta(seconds=20))
    forwarding(healthy, "delivered", age=datetime.timedelta(hours=2), delivered_at=timezone.now())
    forwarding(
        healthy,
        "delivered",
        age=datetime.timedelta(days=3),
        delivered_at=timezone.now() - datetime.timedelta(hours=25),
    )
    retry = timezone.now() + datetime.timedelta(minutes=5)
    waiting = make_lrs(
        board,
        name="再試行中",
        url="http://127.0.0.1:8100/xapi/",
        xapi_version="2.0.0",
        failures=2,
        retry_at=retry,
        last_error="503 Service Unavailable",
    )
    forwarding(waiting, "pending", age=datetime.timedelta(hours=5))
    make_lrs(board, name="認証エラー", failures=1, alert="401 Unauthorized: bad credentials")
    make_lrs(board, name="止めた LRS", active=False)
    make_lrs(DistrictFactory.create(), name="よその LRS")

    screen = page(signed_in("manabi-board-admin"), url(board))
    assert screen.tables["lrs"] == [
        [
            "名称",
            "状態",
            "送信待ち",
            "遅れ",
            "24時間の送信",
            "最後に送信できた日時",
            "最後のエラー",
            "操作",
        ],
        [
            "正常な LRS / https://lrs.example.jp/xapi/ · xAPI 1.0.3",
            "正常",
            "2件",
            "3分",
            "1件",
            local(success),
            "–",
            "編集: 正常な LRS 送信を止める: 正常な LRS",
        ],
        [
            "再試行中 / http://127.0.0.1:8100/xapi/ · xAPI 2.0.0",
            f"再試行待ち / 次の再試行 {local(retry, '%Y-%m-%d %H:%M:%S')}",
            "1件",
            "5時間",
            "0件",
            "まだありません",
            "503 Service Unavailable",
            "編集: 再試行中 今すぐ再開: 再試行中 送信を止める: 再試行中",
        ],
        [
            "認証エラー / https://lrs.example.jp/xapi/ · xAPI 1.0.3",
            "要対応 / 401 Unauthorized: bad credentials",
            "0件",
            "なし",
            "0件",
            "まだありません",
            "–",
            "編集: 認証エラー 今すぐ再開: 認証エラー 送信を止める: 認証エラー",
        ],
        [
            "止めた LRS / https://lrs.example.jp/xapi/ · xAPI 1.0.3",
            "停止中",
            "0件",
            "なし",
            "0件",
            "まだありません",
            "–",
            "編集: 止めた LRS 送信を有効にする: 止めた LRS",
        ],
    ]


def test_the_counts_use_the_forwarding_indexes(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    forwarding(lrs, "dead", age=datetime.timedelta(minutes=1))
    client = signed_in("manabi-board-admin")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(board)).status_code == HTTPStatus.OK
    plans = {}
    for q in queries.captured_queries:
        if '"studylog_forwarding"' in q["sql"] and "COUNT(" in q["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + q["sql"])
                plans[q["sql"].split("WHERE", 1)[1][:120]] = " ".join(
                    str(row[-1]) for row in cursor.fetchall()
                )
    used = sorted(
        name
        for plan in plans.values()
        for name in (
            "studylog_forward_pending",
            "studylog_forward_dead",
            "studylog_forward_delivered",
        )
        if name in plan
    )
    assert used == [
        "studylog_forward_dead",
        "studylog_forward_delivered",
        "studylog_forward_pending",
    ], plans
    assert not any("studylog_statement" in q["sql"] and "COUNT(" in q["sql"] for q in queries)


def test_dead_letters_are_listed_with_the_lrs_answer_and_a_replay_button(
    board: Org, signed_in: SignIn
) -> None:
    lrs = make_lrs(board)
    letter = forwarding(
        lrs, "dead", age=datetime.timedelta(hours=1), attempts=3, last_error="400: bad verb"
    )
    screen = page(signed_in("manabi-board-admin"), url(board))
    assert screen.tables[f"dead-{lrs.pk}"] == [
        ["ステートメント ID", "動詞", "日時", "LRS の答え", "試行回数", "操作"],
        [
            str(letter.statement_id),
            VERB,
            local(letter.statement.timestamp, "%Y-%m-%d %H:%M:%S"),
            "400: bad verb",
            "3",
            f"送り直す: {letter.statement_id}",
        ],
    ]
    assert screen.texts[f"replay-all-{lrs.pk}"] == "すべて送り直す : まなび市 LRS"


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sakura-admin", "sakura-t-kato", "sakura-5-2-01", "other-board"])
def test_everyone_but_the_boards_administrators_gets_404_and_changes_nothing(
    board: Org, signed_in: SignIn, client: Client, who: str
) -> None:
    lrs = make_lrs(board, alert="401", failures=1)
    letter = forwarding(lrs, "dead", age=datetime.timedelta(hours=1))
    registration = Registration.objects.filter(is_active=True).order_by("pk").first()
    assert registration is not None
    credential = LrsCredential.objects.create(
        registration=registration, key="lrs_x", secret_sha256="0" * 64, board=board
    )
    if who == "other-board":
        client.force_login(BoardAdministratorFactory.create(org=DistrictFactory.create()))
    else:
        signed_in(who)
    before = snapshot()
    gets = [url(board), url(board, f"/lrs/{lrs.pk}")]
    posts = [
        (url(board, "/lrs"), GOOD),
        (url(board, f"/lrs/{lrs.pk}"), GOOD),
        (url(board, f"/lrs/{lrs.pk}/replay"), {"all": "1"}),
        (url(board, f"/lrs/{lrs.pk}/replay"), {"forwarding": str(letter.pk)}),
        (url(board, f"/lrs/{lrs.pk}/resume"), {}),
        (url(board, f"/lrs/{lrs.pk}/deactivate"), {}),
        (url(board, "/credentials"), {"registration": str(registration.pk)}),
        (url(board, f"/credentials/{credential.pk}/deactivate"), {}),
    ]
    for target in gets:
        assert client.get(target).status_code == HTTPStatus.NOT_FOUND, target
    for target, data in posts:
        assert client.post(target, data).status_code == HTTPStatus.NOT_FOUND, target
    assert snapshot() == before


def test_a_missing_board_or_lrs_answers_404_like_a_forbidden_one(
    board: Org, signed_in: SignIn
) -> None:
    client = signed_in("manabi-board-admin")
    other = make_lrs(DistrictFactory.create())
    school = Org.objects.filter(parent=board).order_by("pk").first()
    assert school is not None
    assert client.get(f"/school/board/{uuid.uuid4()}/study-log").status_code == 404
    assert client.get(f"/school/board/{school.sourced_id}/study-log").status_code == 404
    assert client.get(url(board, f"/lrs/{other.pk}")).status_code == 404
    assert client.post(url(board, f"/lrs/{other.pk}/resume")).status_code == 404
    assert client.post(url(board, f"/lrs/{other.pk}/nonsense")).status_code == 404


def test_actions_are_post_only_with_csrf(board: Org, demo_school: dict[str, User]) -> None:
    lrs = make_lrs(board, alert="401", failures=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_school["manabi-board-admin"])
    assert client.get(url(board, f"/lrs/{lrs.pk}/resume")).status_code == 405
    assert client.get(url(board, "/credentials")).status_code == 405
    assert client.post(url(board, f"/lrs/{lrs.pk}/resume")).status_code == 403
    assert client.post(url(board, "/lrs"), GOOD).status_code == 403
    lrs.refresh_from_db()
    assert (lrs.alert, LrsEndpoint.objects.count()) == ("401", 1)


# --- adding and editing an LRS ---------------------------------------------------------------


def test_adding_an_lrs_stores_it_with_its_password_encrypted_and_audits(
    board: Org,
    signed_in: SignIn,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = signed_in("manabi-board-admin")
    with (
        caplog.at_level(logging.INFO, logger="manabi.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url(board, "/lrs"), GOOD)
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, url(board))
    lrs = LrsEndpoint.objects.get()
    assert (
        lrs.board,
        lrs.name,
        lrs.url,
        lrs.username,
        lrs.xapi_version,
        lrs.batch_size,
        lrs.connect_timeout,
        lrs.read_timeout,
        lrs.active,
    ) == (
        board,
        "まなび市 LRS",
        "https://lrs.example.jp/xapi/",
        "manabi",
        "1.0.3",
        200,
        5,
        30,
        True,
    )
    assert forwarder.decrypt_password(lrs.password_encrypted) == GOOD["password"]
    assert GOOD["password"].encode() not in bytes(lrs.password_encrypted)
    admin = User.objects.get(username="manabi-board-admin")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "manabi.audit",
            "INFO",
            f"lrs added: by user {admin.pk}, board {board.pk}, lrs {lrs.pk}: "
            "url https://lrs.example.jp/xapi/, xAPI 1.0.3, batch 200, password set",
        )
    ]
    screen = client.get(url(board)).content.decode()
    assert "LRS「まなび市 LRS」を追加しました。" in screen
    assert GOOD["password"] not in screen


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "lrs.example.jp/xapi", "http:// か https:// で始まる URL を入力してください。"),
        (
            "url",
            "ftp://lrs.example.jp/xapi/",
            "http:// か https:// で始まる URL を入力してください。",
        ),
        (
            "url",
            "http://lrs.example.jp/xapi/",
            "https の URL にしてください（http はこのサーバー自身 localhost だけです）。",
        ),
        (
            "url",
            "https://user:pw@lrs.example.jp/xapi/",
            "URL に認証情報を含めないでください（ユーザー名とパスワードの欄を使います）。",
        ),
        ("url", "https://lrs.example.jp/xapi/?a=1", "URL に ? や # の部分は付けないでください。"),
        ("batch_size", "0", "一度に送る件数は1から1000までです。"),
        ("batch_size", "1001", "一度に送る件数は1から1000までです。"),
        ("batch_size", "many", "整数を入力してください。"),
        ("connect_timeout", "0", "接続タイムアウトは0秒より長く、60秒までです。"),
        ("read_timeout", "600", "応答タイムアウトは0秒より長く、120秒までです。"),
        ("xapi_version", "1.0.0", "正しく選択してください。 1.0.0 は候補にありません。"),
        ("name", "", "このフィールドは必須です。"),
    ],
)
def test_a_bad_lrs_is_refused_with_the_reason_and_nothing_written(
    board: Org, signed_in: SignIn, field: str, value: str, message: str
) -> None:
    response = signed_in("manabi-board-admin").post(url(board, "/lrs"), {**GOOD, field: value})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.content.decode()
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>' in body, body
    assert 'aria-invalid="true"' in body
    assert GOOD["password"] not in body
    assert LrsEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:8100/xapi/", "http://localhost/xapi/", "http://[::1]:80/x/"]
)
def test_plain_http_is_accepted_for_loopback_only(
    board: Org, signed_in: SignIn, address: str
) -> None:
    response = signed_in("manabi-board-admin").post(url(board, "/lrs"), {**GOOD, "url": address})
    assert response.status_code == HTTPStatus.FOUND
    assert LrsEndpoint.objects.get().url == address


def test_the_edit_form_never_shows_the_password_and_a_blank_one_keeps_it(
    board: Org, signed_in: SignIn
) -> None:
    lrs = make_lrs(board, username="manabi", password="kept-password-123")
    client = signed_in("manabi-board-admin")
    form = client.get(url(board, f"/lrs/{lrs.pk}"))
    assert form.status_code == HTTPStatus.OK
    body = form.content.decode()
    assert "kept-password-123" not in body
    assert '<input type="password" name="password"' in body
    assert 'value="https://lrs.example.jp/xapi/"' in body
    response = client.post(
        url(board, f"/lrs/{lrs.pk}"),
        {**GOOD, "url": "https://lrs.example.jp/xapi/v2/", "password": "", "batch_size": "50"},
    )
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, url(board))
    lrs.refresh_from_db()
    assert (lrs.url, lrs.batch_size) == ("https://lrs.example.jp/xapi/v2/", 50)
    assert forwarder.decrypt_password(lrs.password_encrypted) == "kept-password-123"
    assert "kept-password-123" not in client.get(url(board)).content.decode()


def test_a_new_host_needs_the_password_again(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board, password="kept-password-123")
    client = signed_in("manabi-board-admin")
    before = snapshot()
    response = client.post(
        url(board, f"/lrs/{lrs.pk}"), {**GOOD, "url": "https://elsewhere.example/", "password": ""}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert (
        "送信先のホストを変えるときは、パスワードも入力してください。" in response.content.decode()
    )
    assert snapshot() == before
    response = client.post(
        url(board, f"/lrs/{lrs.pk}"), {**GOOD, "url": "https://elsewhere.example/"}
    )
    assert response.status_code == HTTPStatus.FOUND
    lrs.refresh_from_db()
    assert lrs.url == "https://elsewhere.example/"
    assert forwarder.decrypt_password(lrs.password_encrypted) == GOOD["password"]


def test_a_bad_edit_writes_nothing(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    before = snapshot()
    response = signed_in("manabi-board-admin").post(
        url(board, f"/lrs/{lrs.pk}"), {**GOOD, "batch_size": "0"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "一度に送る件数は1から1000までです。" in response.content.decode()
    assert snapshot() == before


def test_an_lrs_is_deactivated_and_activated_again(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    client = signed_in("manabi-board-admin")
    assert client.post(url(board, f"/lrs/{lrs.pk}/deactivate")).status_code == HTTPStatus.FOUND
    lrs.refresh_from_db()
    assert lrs.active is False
    assert client.post(url(board, f"/lrs/{lrs.pk}/activate")).status_code == HTTPStatus.FOUND
    lrs.refresh_from_db()
    assert lrs.active is True


# --- dead letters and alerts ----------------------------------------------------------------


def test_replaying_one_dead_letter_moves_it_back_to_pending(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    first = forwarding(lrs, "dead", age=datetime.timedelta(hours=1), attempts=2)
    second = forwarding(lrs, "dead", age=datetime.timedelta(hours=1), attempts=2)
    other = forwarding(make_lrs(board, name="別"), "dead", age=datetime.timedelta(hours=1))
    client = signed_in("manabi-board-admin")
    response = client.post(
        url(board, f"/lrs/{lrs.pk}/replay"), {"forwarding": [str(first.pk), str(other.pk)]}
    )
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, url(board))
    states = dict(Forwarding.objects.values_list("pk", "state"))
    assert states == {first.pk: "pending", second.pk: "dead", other.pk: "dead"}
    first.refresh_from_db()
    assert (first.attempts, first.claim_token) == (0, "")
    assert "1件を送信待ちに戻しました。" in client.get(url(board)).content.decode()


def test_replay_all_moves_every_dead_letter_of_the_lrs(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    letters = [forwarding(lrs, "dead", age=datetime.timedelta(hours=1)) for _ in range(3)]
    delivered = forwarding(
        lrs, "delivered", age=datetime.timedelta(hours=1), delivered_at=timezone.now()
    )
    response = signed_in("manabi-board-admin").post(
        url(board, f"/lrs/{lrs.pk}/replay"), {"all": "1"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert dict(Forwarding.objects.values_list("pk", "state")) == {
        **{f.pk: "pending" for f in letters},
        delivered.pk: "delivered",
    }


def test_replay_without_a_choice_is_refused(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(board)
    forwarding(lrs, "dead", age=datetime.timedelta(hours=1))
    before = snapshot()
    for data in ({}, {"forwarding": "x"}):
        response = signed_in("manabi-board-admin").post(url(board, f"/lrs/{lrs.pk}/replay"), data)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "送り直す記録を選んでください。" in response.content.decode()
    assert snapshot() == before


def test_resume_clears_the_alert_and_the_back_off(board: Org, signed_in: SignIn) -> None:
    lrs = make_lrs(
        board,
        failures=3,
        alert="401 Unauthorized",
        retry_at=timezone.now() + datetime.timedelta(minutes=10),
    )
    client = signed_in("manabi-board-admin")
    assert page(client, url(board)).texts[f"resume-{lrs.pk}"] == "今すぐ再開 : まなび市 LRS"
    assert client.post(url(board, f"/lrs/{lrs.pk}/resume")).status_code == HTTPStatus.FOUND
    lrs.refresh_from_db()
    assert (lrs.failures, lrs.alert, lrs.retry_at) == (0, "", None)
    assert f"resume-{lrs.pk}" not in page(client, url(board)).texts


# --- the tools' LRS credentials --------------------------------------------------------------


def test_a_new_credential_shows_its_secret_exactly_once(board: Org, signed_in: SignIn) -> None:
    registration = Registration.objects.get(tool__slug="demo-drill")
    client = signed_in("manabi-board-admin")
    response = client.post(
        url(board, "/credentials"), {"registration": str(registration.pk), "label": "本番"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    credential = LrsCredential.objects.get()
    assert (credential.registration, credential.board, credential.label, credential.active) == (
        registration,
        board,
        "本番",
        True,
    )
    body = response.content.decode()
    parsed = page_of(body)
    page_secret = parsed.texts["secret"]
    assert len(page_secret) >= 40
    assert body.count(page_secret) == 1
    assert parsed.texts["credential"] == (
        f"LRS の URL http://testserver/xapi/ キー（ユーザー名） {credential.key} "
        f"シークレット（パスワード） {page_secret} メモ 本番"
    )
    screen = page(client, url(board))
    assert page_secret not in client.get(url(board)).content.decode()
    assert [credential.key, "本番", "まだ使われていません"] in [
        row[1:4] for row in screen.tables["credentials"]
    ]
    assert authenticate_with(credential.key, page_secret) == registration


def test_a_credential_is_deactivated(board: Org, signed_in: SignIn) -> None:
    registration = Registration.objects.get(tool__slug="demo-drill")
    client = signed_in("manabi-board-admin")
    client.post(url(board, "/credentials"), {"registration": str(registration.pk)})
    credential = LrsCredential.objects.get()
    response = client.post(url(board, f"/credentials/{credential.pk}/deactivate"))
    assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, url(board))
    credential.refresh_from_db()
    assert credential.active is False
    assert page(client, url(board)).tables["credentials"][1:] == []


def test_credentials_of_another_board_or_an_undeployed_tool_are_refused(
    board: Org, signed_in: SignIn
) -> None:
    registration = Registration.objects.get(tool__slug="demo-drill")
    theirs = LrsCredential.objects.create(
        registration=registration,
        key="lrs_theirs",
        secret_sha256="0" * 64,
        board=DistrictFactory.create(),
    )
    client = signed_in("manabi-board-admin")
    before = snapshot()
    assert client.post(url(board, f"/credentials/{theirs.pk}/deactivate")).status_code == 404
    for data in ({"registration": "999999"}, {"registration": "x"}, {}):
        response = client.post(url(board, "/credentials"), data)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "認証情報を発行するツールを選んでください。" in response.content.decode()
    assert snapshot() == before
    rows = page(client, url(board)).tables["credentials"]
    assert all("lrs_theirs" not in row for row in rows)


def page_of(html: str) -> _Page:
    parsed = _Page()
    parsed.feed(html)
    return parsed


def authenticate_with(key: str, secret: str) -> Registration:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    request = RequestFactory().post("/xapi/statements", HTTP_AUTHORIZATION=f"Basic {token}")
    return authenticate(request).registration
