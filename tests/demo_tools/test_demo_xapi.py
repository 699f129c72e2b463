"""The demo drill and CBT test send their own study logs to the portal's LRS endpoint (/xapi/).

Through the real platform (a live server): a child launches the tool from the home screen,
finishes it, and the tool — a plain xAPI client with the credentials seed_demo provisioned in
its own configuration — posts its statements to ``<issuer>/xapi/statements``. The portal
stores them as the tool's (origin "tool", the tool's authority). When the portal's LRS refuses
or cannot be reached, the child's work goes on exactly the same.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import socket
import uuid
from http import HTTPStatus
from typing import Any

import pytest
import requests

from demo_tools import config
from demo_tools.setup import provision_lrs_credentials, register_demo_tools
from lti_platform.models import Score
from roster.demo import DEMO_PASSWORD
from roster.models import Org, OrgType, User
from studylog.models import LrsCredential, Origin, Statement
from tests.interop.conftest import platform  # noqa: F401  (the live platform fixture)
from tests.interop.test_pylti1p3_launch import launch, text_of
from tests.ltiflow import Browser, forms
from tools_registry.models import Registration

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
SUMS: list[dict[str, Any]] = [  # what drill.js reports: three right, two wrong
    {"key": "3+4", "question": "3 + 4 = ?", "correct": "7", "response": "7", "ago_ms": 9000},
    {"key": "5+1", "question": "5 + 1 = ?", "correct": "6", "response": "7", "ago_ms": 7000},
    {"key": "2+2", "question": "2 + 2 = ?", "correct": "4", "response": "4", "ago_ms": 5000},
    {"key": "8+9", "question": "8 + 9 = ?", "correct": "17", "response": "16", "ago_ms": 3000},
    {"key": "1+1", "question": "1 + 1 = ?", "correct": "2", "response": "2", "ago_ms": 1000},
]


def tool_id(home: str, key: str) -> str:
    """The tool's uuid5 of a business key, under the namespace of its home."""
    return str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, home), key))


def finish_drill(
    browser: Browser, sums: list[dict[str, Any]] = SUMS, score: str = "3"
) -> tuple[dict[str, Any], dict[str, str], requests.Response]:
    claims, page = launch(browser, "drill")
    [form] = [f for f in forms(page.text) if f.action.endswith("/finish")]
    assert set(form.fields) == {"csrfmiddlewaretoken", "launch_id", "score", "answers"}
    fields = {**form.fields, "score": score, "answers": json.dumps(sums)}
    finished = browser.session.post(
        browser.url(form.action), data=fields, headers={"Referer": page.url}, timeout=30
    )
    return claims, fields, finished


def tool_statements() -> list[dict[str, Any]]:
    rows = Statement.objects.filter(origin=Origin.TOOL).order_by("timestamp", "id")
    return [json.loads(bytes(row.body)) for row in rows]


def child(platform: str) -> Browser:  # noqa: F811
    browser = Browser(platform)
    browser.sign_in("sakura-5-2-01", DEMO_PASSWORD)
    return browser


def test_a_drill_run_sends_answered_per_sum_and_completed_with_the_score(
    platform: str,  # noqa: F811
) -> None:
    provision_lrs_credentials(platform, platform)
    claims, fields, finished = finish_drill(child(platform))
    assert finished.status_code == HTTPStatus.OK, finished.text
    assert text_of(finished, "sent-score") == "3 / 5 てん"

    home = platform + "/tools/drill/"
    registration = tool_id(home, f"registration/drill/{fields['launch_id']}")
    link = claims[LTI + "resource_link"]
    parent = {
        "objectType": "Activity",
        "id": f"{home}deployments/{claims[LTI + 'deployment_id']}/resource-links/{link['id']}",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/link",
            "name": {"ja": link["title"]},
        },
    }
    unit = {
        "objectType": "Activity",
        "id": home + "units/addition",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/assessment",
            "name": {"ja": "たしざん ドリル"},
        },
    }
    actor = {"objectType": "Agent", "account": {"homePage": home, "name": claims["sub"]}}
    child_user = User.objects.get(username="sakura-5-2-01")
    assert claims["sub"] == str(child_user.eportal_uuid)

    def context(grouping: bool) -> dict[str, Any]:
        activities: dict[str, Any] = {"parent": [parent]}
        if grouping:
            activities["grouping"] = [unit]
        return {
            "registration": registration,
            "contextActivities": activities,
            "platform": "まなびドリル",
            "language": "ja",
        }

    sent = tool_statements()
    times = [datetime.datetime.fromisoformat(s.pop("timestamp")) for s in sent]
    assert [t.utcoffset() for t in times] == [datetime.timedelta(0)] * 6
    completed_at = times[-1]
    assert [int((completed_at - t).total_seconds() * 1000) for t in times] == [
        9000,
        7000,
        5000,
        3000,
        1000,
        0,
    ]
    expected = [
        {
            "id": tool_id(home, f"{registration}/answered/{n}"),
            "actor": actor,
            "verb": {"id": ANSWERED, "display": {"en-US": "answered"}},
            "object": {
                "objectType": "Activity",
                "id": home + "units/addition/sums/" + s["key"].replace("+", "%2B"),
                "definition": {
                    "type": "http://adlnet.gov/expapi/activities/question",
                    "name": {"ja": s["question"]},
                },
            },
            "result": {"success": s["response"] == s["correct"], "response": s["response"]},
            "context": context(grouping=True),
        }
        for n, s in enumerate(SUMS, start=1)
    ]
    expected.append(
        {
            "id": tool_id(home, f"{registration}/completed"),
            "actor": actor,
            "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
            "object": unit,
            "result": {
                "score": {"scaled": 0.6, "raw": 3, "min": 0, "max": 5},
                "completion": True,
            },
            "context": context(grouping=False),
        }
    )
    assert sent == expected

    drill = Registration.objects.get(tool__slug="demo-drill")
    rows = Statement.objects.filter(origin=Origin.TOOL)
    assert {(r.registration_id, r.tool_id, r.user_id) for r in rows} == {
        (drill.pk, drill.tool_id, child_user.pk)
    }
    # The tool reads one back: the portal names the tool as the authority.
    held = config.load_all()["drill"]["xapi"]
    answer = requests.get(
        platform + "/xapi/statements",
        params={"statementId": expected[-1]["id"]},
        headers={"X-Experience-API-Version": "1.0.3"},
        auth=(held["key"], held["secret"]),
        timeout=10,
    )
    assert answer.status_code == HTTPStatus.OK, answer.text
    assert answer.json()["authority"] == {
        "objectType": "Agent",
        "name": "まなびドリル",
        "account": {"homePage": platform, "name": drill.client_id},
    }


def test_the_same_page_sent_again_sends_the_same_ids_and_nothing_twice(
    platform: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    provision_lrs_credentials(platform, platform)
    browser = child(platform)
    _claims, fields, finished = finish_drill(browser)
    assert finished.status_code == HTTPStatus.OK
    ids = sorted(s["id"] for s in tool_statements())
    with caplog.at_level(logging.INFO, logger="manabi.demo_tools"):
        again = browser.session.post(
            browser.url("/tools/drill/finish"), data=fields, timeout=30
        )  # the Back button
    assert again.status_code == HTTPStatus.OK, again.text
    assert sorted(s["id"] for s in tool_statements()) == ids
    assert [r.getMessage() for r in caplog.records if r.name == "manabi.demo_tools"] == [
        "xAPI: the LRS has these 6 statement ids already (sent again)"
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("outage", ["deactivated", "unreachable"])
def test_an_lrs_outage_leaves_the_drill_working(
    platform: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    outage: str,
) -> None:
    keys = provision_lrs_credentials(platform, platform)
    if outage == "deactivated":  # the board administrator deactivated the credentials
        LrsCredential.objects.filter(key=keys["drill"]).update(active=False)
        url = platform + "/xapi/statements"
        why = (
            f"refused by {url}: HTTP 401 "
            '{"error": "unauthorized", "error_description": "unknown or inactive credentials"}'
        )
    else:  # nothing listens at the LRS address
        entry = config.load_all()["drill"]
        url = f"http://127.0.0.1:{free_port()}/xapi/statements"
        config.save(
            "drill", {**entry, "xapi": {**entry["xapi"], "endpoint": url[: -len("statements")]}}
        )
        why = f"not sent to {url}: ConnectionError"
    with caplog.at_level(logging.WARNING, logger="manabi.demo_tools"):
        _claims, _fields, finished = finish_drill(child(platform))
    assert finished.status_code == HTTPStatus.OK, finished.text
    assert text_of(finished, "sent-score") == "3 / 5 てん"
    score = Score.objects.get()
    assert (score.user.username, score.score_given, score.score_maximum) == ("sakura-5-2-01", 3, 5)
    assert Statement.objects.filter(origin=Origin.TOOL).count() == 0
    assert [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "manabi.demo_tools"
    ] == [("WARNING", "xAPI: 6 statements " + why)]


def test_a_cbt_submission_sends_answered_per_question_and_completed(
    platform: str,  # noqa: F811
) -> None:
    provision_lrs_credentials(platform, platform)
    browser = Browser(platform)
    browser.sign_in("midori-1-a-01", DEMO_PASSWORD)
    claims, page = launch(browser, "cbt")
    [form] = [f for f in forms(page.text) if f.action.endswith("/finish")]
    hidden = {k: v for k, v in form.fields.items() if k in ("csrfmiddlewaretoken", "launch_id")}
    answers = {"q1": "東京", "q2": "5日"}  # q3 left blank
    done = browser.session.post(
        browser.url(form.action),
        data={**hidden, "attempt": form.fields["attempt"], **answers},
        headers={"Referer": page.url},
        timeout=30,
    )
    assert done.status_code == HTTPStatus.OK, done.text
    assert text_of(done, "sent-score") == "1 / 3 てん"
    sent = tool_statements()
    home = platform + "/tools/cbt/"
    registration = tool_id(home, f"registration/cbt/{form.fields['attempt']}")
    assert {s["context"]["registration"] for s in sent} == {registration}
    assert {s["actor"]["account"]["name"] for s in sent} == {claims["sub"]}
    assert sorted(
        (s["verb"]["id"], s["object"]["id"], json.dumps(s["result"], ensure_ascii=False))
        for s in sent
    ) == [
        (ANSWERED, home + "tests/practice-1/questions/q1", '{"success": true, "response": "東京"}'),
        (ANSWERED, home + "tests/practice-1/questions/q2", '{"success": false, "response": "5日"}'),
        (ANSWERED, home + "tests/practice-1/questions/q3", '{"success": false, "response": ""}'),
        (
            COMPLETED,
            home + "tests/practice-1",
            '{"score": {"scaled": 0.3333, "raw": 1, "min": 0, "max": 3}, "completion": true}',
        ),
    ]
    cbt = Registration.objects.get(tool__slug="demo-cbt")
    assert set(Statement.objects.filter(origin=Origin.TOOL).values_list("registration_id")) == {
        (cbt.pk,)
    }


# --- provisioning (seed_demo) ----------------------------------------------------------------


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def test_provisioning_keeps_active_credentials_and_replaces_inactive_ones(
    demo_school: dict[str, User], settings: Any, client: Any
) -> None:
    issuer = settings.LTI_ISSUER
    first = provision_lrs_credentials(issuer, issuer)
    register_demo_tools(issuer, issuer)  # seed_demo again: the tools' settings are rewritten
    assert provision_lrs_credentials(issuer, issuer) == first
    board = Org.objects.get(type=OrgType.DISTRICT, identifier="132993")
    rows = LrsCredential.objects.order_by("key")
    assert sorted((r.key, r.registration.tool.slug, r.board_id, r.active) for r in rows) == sorted(
        [
            (first["drill"], "demo-drill", board.pk, True),
            (first["cbt"], "demo-cbt", board.pk, True),
        ]
    )
    entry = config.load_all()["drill"]
    assert entry["xapi"] == {
        "endpoint": issuer + "/xapi/",
        "key": first["drill"],
        "secret": entry["xapi"]["secret"],
        "home": issuer + "/tools/drill/",
    }
    assert config.config_path().stat().st_mode & 0o777 == 0o600
    about = client.get(
        "/xapi/statements",
        {"statementId": str(uuid.uuid4())},
        HTTP_AUTHORIZATION=basic(entry["xapi"]["key"], entry["xapi"]["secret"]),
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
    )
    assert about.status_code == HTTPStatus.NOT_FOUND  # authenticated: the statement is unknown

    LrsCredential.objects.filter(key=first["drill"]).update(active=False)
    second = provision_lrs_credentials(issuer, issuer)
    assert (second["cbt"], second["drill"] != first["drill"]) == (first["cbt"], True)
    assert LrsCredential.objects.get(key=second["drill"]).active is True
    assert config.load_all()["drill"]["xapi"]["key"] == second["drill"]
