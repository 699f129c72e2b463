"""The demo tools answer Deep Linking requests with pylti1p3 and launch what was picked.

The platform's deep-linking request is built here with the platform's own signing key and
the claims our platform sends; each tool validates it with pylti1p3 (signature, state,
nonce, deployment) and signs its LtiDeepLinkingResponse with its own key, which we verify
with the tool's public key from its configuration.
"""

from __future__ import annotations

import time
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client

from demo_tools import config, views
from lti_platform.keys import key_ring
from roster.models import User
from tests.ltiflow import forms

ISSUER = "http://testserver"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
RETURN_URL = ISSUER + "/classes/5-2/"


def dl_settings(**overrides: Any) -> dict[str, Any]:
    return {
        "deep_link_return_url": ISSUER + "/lti/deep-linking/return",
        "accept_types": ["ltiResourceLink", "link", "file", "html", "image"],
        "accept_presentation_document_targets": ["window", "iframe"],
        "accept_multiple": True,
        "accept_lineitem": True,
        "auto_create": False,
        "title": "5年2組に 教材を 配る",
        "text": "えらんだ 教材が 宿題に なります",
        "data": "signed-single-use-data",
        **overrides,
    }


def launch(
    client: Client,
    slug: str,
    *,
    message_type: str = "LtiDeepLinkingRequest",
    roles: tuple[str, ...] = (INSTRUCTOR,),
    settings: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Any:
    """Log in to the tool (pylti1p3 sets state and nonce), then post our signed id_token."""
    entry = config.load_all()[slug]
    if "key_set_url" in entry:  # no live server here: give the tool a static copy of our keys
        entry = {k: v for k, v in entry.items() if k != "key_set_url"}
        config.save(slug, {**entry, "key_set": key_ring.published_jwks()})
    deployment_id = entry["deployment_ids"][0]
    login = client.get(
        f"/tools/{slug}/login",
        {
            "iss": ISSUER,
            "login_hint": "opaque-hint",
            "target_link_uri": f"{ISSUER}/tools/{slug}/launch",
            "client_id": entry["client_id"],
            "lti_deployment_id": deployment_id,
        },
    )
    assert login.status_code == HTTPStatus.FOUND, login.content
    query = parse_qs(urlsplit(login["Location"]).query)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": entry["client_id"],
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "nonce": query["nonce"][0],
        LTI + "message_type": message_type,
        LTI + "version": "1.3.0",
        LTI + "deployment_id": deployment_id,
        LTI + "target_link_uri": f"{ISSUER}/tools/{slug}/launch",
        LTI + "roles": list(roles),
        LTI + "context": {"id": "ctx-5-2", "label": "5-2", "title": "5年2組"},
        LTI + "launch_presentation": {
            "document_target": "window",
            "return_url": RETURN_URL,
            "locale": "ja-JP",
        },
    }
    if message_type == "LtiDeepLinkingRequest":
        claims[DL + "deep_linking_settings"] = settings or dl_settings()
    else:
        claims[LTI + "resource_link"] = {"id": "rl-1", "title": "宿題"}
    claims.update(extra or {})
    return client.post(
        f"/tools/{slug}/launch",
        {"id_token": key_ring.signing_key().sign(claims), "state": query["state"][0]},
    )


def picker_launch_id(page: Any) -> str:
    assert page.status_code == HTTPStatus.OK, page.content.decode()
    [form] = forms(page.content.decode())
    assert form.action.endswith("/deep-link")
    return form.fields["launch_id"]


def answer(client: Client, slug: str, launch_id: str, **fields: Any) -> Any:
    return client.post(f"/tools/{slug}/deep-link", {"launch_id": launch_id, **fields})


def response_claims(page: Any, slug: str) -> dict[str, Any]:
    """The tool's LtiDeepLinkingResponse, verified with the tool's own public key."""
    assert page.status_code == HTTPStatus.OK, page.content.decode()
    [form] = forms(page.content.decode())
    assert (form.action, form.method, set(form.fields)) == (
        ISSUER + "/lti/deep-linking/return",
        "post",
        {"JWT"},
    )
    token = form.fields["JWT"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims: dict[str, Any] = jwt.decode(
        token, config.tool_public_key_pem(slug), algorithms=["RS256"], audience=ISSUER
    )
    assert claims["exp"] - claims["iat"] == 600
    assert claims["nonce"].startswith("nonce-")
    for name in ("exp", "iat", "nonce"):
        del claims[name]
    return claims


def envelope(slug: str, items: list[dict[str, Any]], msg: str) -> dict[str, Any]:
    entry = config.load_all()[slug]
    return {
        "iss": entry["client_id"],
        "aud": [ISSUER],
        LTI + "deployment_id": entry["deployment_ids"][0],
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        DL + "data": "signed-single-use-data",
        DL + "msg": msg,
        DL + "content_items": items,
    }


def test_drill_sends_units_with_line_items(demo_school: dict[str, User], client: Client) -> None:
    page = launch(client, "drill")
    body = page.content.decode()
    assert "5年2組に 教材を 配る" in body and 'type="checkbox"' in body
    assert 'data-testid="return-to-portal"' in body and f'href="{RETURN_URL}"' in body
    done = answer(
        client,
        "drill",
        picker_launch_id(page),
        item=["unit:addition", "unit:kanji"],
        target="window",
    )
    assert 'src="/static/demo_tools/autosubmit.js"' in done.content.decode()
    url = ISSUER + "/tools/drill/launch"
    assert response_claims(done, "drill") == envelope(
        "drill",
        [
            {
                "type": "ltiResourceLink",
                "title": "たしざん ドリル",
                "url": url,
                "custom": {"unit": "addition"},
                "lineItem": {
                    "scoreMaximum": 5,
                    "label": "たしざん ドリル",
                    "resourceId": "demo-drill-addition",
                    "tag": "drill-unit",
                },
                "text": "1けたの たしざん 5もん",
                "window": {"targetName": "_blank"},
            },
            {
                "type": "ltiResourceLink",
                "title": "かんじ ドリル",
                "url": url,
                "custom": {"unit": "kanji"},
                "lineItem": {
                    "scoreMaximum": 5,
                    "label": "かんじ ドリル",
                    "resourceId": "demo-drill-kanji",
                    "tag": "drill-unit",
                },
                "text": "かんじの よみかた 5もん",
                "window": {"targetName": "_blank"},
            },
        ],
        "まなびドリルから 2この 教材を えらびました。",
    )


def test_textbook_sends_chapters_pages_and_a_link_in_an_iframe(
    demo_school: dict[str, User], client: Client
) -> None:
    page = launch(client, "textbook")
    done = answer(
        client,
        "textbook",
        picker_launch_id(page),
        item=["chapter:1", "page:2-10", "link:glossary"],
        target="iframe",
    )
    url = ISSUER + "/tools/textbook/launch"
    iframe = {"width": 1024, "height": 768}
    assert response_claims(done, "textbook") == envelope(
        "textbook",
        [
            {
                "type": "ltiResourceLink",
                "title": "第1章　春のようす",
                "url": url,
                "custom": {"chapter": "1"},
                "text": "第1章の はじめから",
                "iframe": iframe,
            },
            {
                "type": "ltiResourceLink",
                "title": "第2章　天気と気温（10ページ）",
                "url": url,
                "custom": {"chapter": "2", "page": "10"},
                "text": "気温のはかり方",
                "iframe": iframe,
            },
            {
                "type": "link",
                "title": "ことばの じてん（用語集）",
                "url": ISSUER + "/tools/textbook/glossary",
                "text": "教科書に出てくる ことばの いみ",
                "iframe": {**iframe, "src": ISSUER + "/tools/textbook/glossary"},
            },
        ],
        "デジタル教科書ビューアから 3この 教材を えらびました。",
    )
    glossary = client.get("/tools/textbook/glossary")
    assert glossary.status_code == HTTPStatus.OK and "ことばの じてん" in glossary.content.decode()


def test_cbt_sends_a_test_with_a_line_item_and_its_window(
    demo_school: dict[str, User], client: Client
) -> None:
    page = launch(client, "cbt")
    assert 'type="datetime-local" name="start"' in page.content.decode()
    done = answer(
        client,
        "cbt",
        picker_launch_id(page),
        item=["test:sansu-1"],
        target="window",
        start="2025-06-10T09:00",
        end="2025-06-10T09:45",
    )
    window = {
        "startDateTime": "2025-06-10T09:00:00+09:00",
        "endDateTime": "2025-06-10T09:45:00+09:00",
    }
    assert response_claims(done, "cbt") == envelope(
        "cbt",
        [
            {
                "type": "ltiResourceLink",
                "title": "算数テスト（計算）",
                "url": ISSUER + "/tools/cbt/launch",
                "custom": {"test": "sansu-1"},
                "lineItem": {
                    "scoreMaximum": 3,
                    "label": "算数テスト（計算）",
                    "resourceId": "demo-cbt-sansu-1",
                    "tag": "cbt-test",
                    "submissionReview": {
                        "reviewableStatus": ["Submitted", "Completed"],
                        "label": "こたえを見る",
                    },
                },
                "text": "たし算・ひき算・かけ算 3問",
                "window": {"targetName": "_blank"},
                "available": window,
                "submission": window,
            }
        ],
        "CBTテストから 1この 教材を えらびました。",
    )


def test_settings_limit_what_is_offered_and_sent(
    demo_school: dict[str, User], client: Client
) -> None:
    settings = dl_settings(
        accept_types=["ltiResourceLink"],
        accept_presentation_document_targets=["iframe"],
        accept_multiple="false",
        accept_lineitem=False,
    )
    del settings["data"]
    page = launch(client, "drill", settings=settings)
    body = page.content.decode()
    assert 'type="radio" name="item"' in body and 'type="checkbox"' not in body
    assert 'value="window"' not in body and "てん まんてん" not in body
    done = answer(client, "drill", picker_launch_id(page), item=["unit:kanji"], target="iframe")
    expected = envelope("drill", [], "まなびドリルから 1この 教材を えらびました。")
    del expected[DL + "data"]  # the request had no data: none is echoed (not null)
    expected[DL + "content_items"] = [
        {
            "type": "ltiResourceLink",
            "title": "かんじ ドリル",
            "url": ISSUER + "/tools/drill/launch",
            "custom": {"unit": "kanji"},
            "text": "かんじの よみかた 5もん",
            "iframe": {"width": 1024, "height": 768},
        }
    ]
    assert response_claims(done, "drill") == expected


@pytest.mark.parametrize(
    ("slug", "dl", "fields", "errors"),
    [
        (
            "drill",
            dl_settings(accept_multiple=False),
            {"item": ["unit:addition", "unit:kanji"], "target": "window"},
            ["このたびは 教材を 1つだけ えらべます。"],
        ),
        ("drill", dl_settings(), {"target": "window"}, ["教材を 1つ いじょう えらんでください。"]),
        (
            "textbook",
            dl_settings(accept_types=["ltiResourceLink"]),
            {"item": ["link:glossary", "chapter:1"], "target": "window"},
            ["えらべない 教材が ふくまれています。"],
        ),
        (
            "drill",
            dl_settings(accept_presentation_document_targets=["window"]),
            {"item": ["unit:kanji"], "target": "iframe"},
            ["ひらきかたを えらんでください。"],
        ),
        (
            "cbt",
            dl_settings(),
            {"item": ["test:practice-1"], "target": "window", "start": "2025-06-10T09:00"},
            ["テストの はじまりと おわりの 日時を 入れてください。"],
        ),
        (
            "cbt",
            dl_settings(),
            {
                "item": ["test:practice-1"],
                "target": "window",
                "start": "2025-06-10T10:00",
                "end": "2025-06-10T09:00",
            },
            ["おわりの 日時は はじまりより あとに してください。"],
        ),
    ],
)
def test_a_wrong_pick_shows_the_picker_again_and_sends_nothing(
    demo_school: dict[str, User],
    client: Client,
    slug: str,
    dl: dict[str, Any],
    fields: dict[str, Any],
    errors: list[str],
) -> None:
    launch_id = picker_launch_id(launch(client, slug, settings=dl))
    page = answer(client, slug, launch_id, **fields)
    assert page.status_code == HTTPStatus.BAD_REQUEST
    body = page.content.decode()
    shown = body.split('data-testid="picker-errors">', 1)[1].split("</ul>", 1)[0]
    assert shown == "".join(f"<li>{e}</li>" for e in errors)
    assert 'name="JWT"' not in body
    # The teacher corrects the pick: the same request can still be answered once.
    fixed = answer(
        client,
        slug,
        launch_id,
        item=fields.get("item", ["unit:addition"])[-1:],
        target=dl["accept_presentation_document_targets"][0],
        start="2025-06-10T09:00",
        end="2025-06-10T09:45",
    )
    assert len(response_claims(fixed, slug)[DL + "content_items"]) == 1


def test_cancel_sends_no_items_and_a_request_is_answered_once(
    demo_school: dict[str, User], client: Client
) -> None:
    launch_id = picker_launch_id(launch(client, "drill"))
    done = answer(client, "drill", launch_id, cancel="1")
    assert response_claims(done, "drill") == envelope("drill", [], "教材は えらばれませんでした。")
    again = answer(client, "drill", launch_id, item=["unit:addition"], target="window")
    assert again.status_code == HTTPStatus.CONFLICT
    assert 'data-testid="tool-error">この えらびかたは もう 送りました。<' in again.content.decode()
    assert 'name="JWT"' not in again.content.decode()


def test_a_student_cannot_pick_content(demo_school: dict[str, User], client: Client) -> None:
    page = launch(client, "drill", roles=(LEARNER,))
    assert page.status_code == HTTPStatus.FORBIDDEN
    body = page.content.decode()
    assert 'data-testid="tool-error">教材をえらべるのは 先生だけです。<' in body
    assert 'name="item"' not in body


@pytest.mark.parametrize(
    ("slug", "custom", "shown"),
    [
        ("drill", {"unit": "kanji"}, ['data-testid="unit">かんじ ドリル<', 'data-unit="kanji"']),
        ("drill", {}, ['data-testid="unit">たしざん ドリル<']),
        (
            "textbook",
            {"chapter": "2", "page": "12"},
            [
                'data-testid="chapter">第2章　天気と気温<',
                'data-testid="page">12ページ　晴れの日と雨の日<',
            ],
        ),
        ("cbt", {"test": "sansu-1"}, ['data-testid="test-title">算数テスト（計算）<', "6 × 4"]),
    ],
)
def test_an_assigned_item_launches_what_was_picked(
    demo_school: dict[str, User],
    client: Client,
    slug: str,
    custom: dict[str, str],
    shown: list[str],
) -> None:
    page = launch(
        client, slug, message_type="LtiResourceLinkRequest", extra={LTI + "custom": custom}
    )
    assert page.status_code == HTTPStatus.OK, page.content.decode()
    body = page.content.decode()
    for text in shown:
        assert text in body
    link = f'<a class="back" href="{RETURN_URL}" data-testid="return-to-portal">'
    assert link + "まなびハブに もどる</a>" in body


def test_an_unknown_unit_is_a_clear_page(demo_school: dict[str, User], client: Client) -> None:
    page = launch(
        client,
        "drill",
        message_type="LtiResourceLinkRequest",
        extra={LTI + "custom": {"unit": "x"}},
    )
    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert 'data-testid="tool-error">えらばれた ドリルが 見つかりません。<' in page.content.decode()


def test_no_return_link_for_a_script_url(demo_school: dict[str, User], client: Client) -> None:
    presentation = {"document_target": "window", "return_url": "javascript:alert(1)"}
    page = launch(
        client,
        "textbook",
        message_type="LtiResourceLinkRequest",
        extra={LTI + "launch_presentation": presentation},
    )
    assert page.status_code == HTTPStatus.OK
    assert "return-to-portal" not in page.content.decode()


def test_cbt_refuses_a_second_submission_of_the_same_attempt(
    demo_school: dict[str, User], client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(
        views, "_send_score", lambda launch, data, *, given, **kw: sent.append(given)
    )
    page = launch(
        client,
        "cbt",
        message_type="LtiResourceLinkRequest",
        roles=(LEARNER,),
        extra={LTI + "custom": {"test": "practice-1"}},
    )
    [form] = forms(page.content.decode())
    assert form.fields["attempt"]
    wrong = {**form.fields, "q1": "大阪", "q2": "5日", "q3": "100度"}
    first = client.post("/tools/cbt/finish", wrong)
    assert first.status_code == HTTPStatus.OK
    assert 'data-testid="sent-score" class="big">0 / 3 てん<' in first.content.decode()
    # Back button: the same page (same attempt) posted again with the right answers.
    right = {**form.fields, "q1": "東京", "q2": "7日", "q3": "0度"}
    second = client.post("/tools/cbt/finish", right)
    assert second.status_code == HTTPStatus.CONFLICT
    assert (
        'data-testid="tool-error">このテストは もう ていしゅつ しました。こたえは かえられません。<'
        in second.content.decode()
    )
    assert sent == [0]
    forged = client.post("/tools/cbt/finish", {**right, "attempt": "made-up"})
    assert forged.status_code == HTTPStatus.CONFLICT
    assert sent == [0]


def test_cbt_attempt_can_be_sent_again_when_the_score_did_not_go(
    demo_school: dict[str, User], client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pylti1p3.exception import LtiException

    def fail(*args: Any, **kwargs: Any) -> None:
        raise LtiException("the platform is busy")

    monkeypatch.setattr(views, "_send_score", fail)
    page = launch(client, "cbt", message_type="LtiResourceLinkRequest", roles=(LEARNER,))
    [form] = forms(page.content.decode())
    assert client.post("/tools/cbt/finish", form.fields).status_code == HTTPStatus.BAD_REQUEST
    sent: list[int] = []
    monkeypatch.setattr(
        views, "_send_score", lambda launch, data, *, given, **kw: sent.append(given)
    )
    assert client.post("/tools/cbt/finish", form.fields).status_code == HTTPStatus.OK
    assert sent == [0]
