"""A score posted to one server process reaches a gradebook websocket open on the other.

Both servers run the in-memory channel layer, so server A cannot push to B's websocket
itself: the score's "score.recorded" event, committed with the score in the shared database,
is found by B's outbox relay ("each_process" delivery), which pushes it to B's websocket.
"""

from __future__ import annotations

import json
import re
import time
from http import HTTPStatus
from typing import Any

import pytest
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as ToolLineItem
from pylti1p3.service_connector import ServiceConnector
from websockets.sync.client import connect
from websockets.typing import Origin

from demo_tools import config
from lti_platform.protocol import constants as c
from roster.demo import DEMO_PASSWORD
from tests.interop.test_pylti1p3_launch import launch
from tests.ltiflow import Browser
from tests.multiprocess.conftest import TwoServers

PUSH_WAIT = 15.0  # seconds; B's relay polls every EVENT_RELAY_POLL_SECONDS (0.25 s)


def gradebook_of(teacher: Browser, class_code: str) -> tuple[str, str]:
    """The teacher's gradebook path for a class (from their home page) and its HTML."""
    home = teacher.session.get(teacher.url("/"), timeout=10)
    assert home.status_code == HTTPStatus.OK
    match = re.search(rf'href="([^"]+)" data-testid="gradebook-{class_code}"', home.text)
    assert match, f"no gradebook link for {class_code} on the teacher's home page"
    page = teacher.session.get(teacher.url(match.group(1)), timeout=10)
    assert page.status_code == HTTPStatus.OK
    return match.group(1), page.text


def test_a_score_posted_to_a_reaches_a_gradebook_open_on_b(
    two_servers: TwoServers, settings: Any
) -> None:
    a, b = two_servers

    # The teacher's gradebook for 5年2組, open on server B.
    teacher = Browser(b.base_url)
    teacher.sign_in("sakura-t-kato", DEMO_PASSWORD)
    path, page = gradebook_of(teacher, "5-2")
    class_id = path.split("/")[2]
    socket_path = re.search(r'data-ws="([^"]+)"', page)
    assert socket_path and socket_path.group(1) == f"/ws/classes/{class_id}/gradebook"
    websocket = connect(
        f"ws://127.0.0.1:{b.port}{socket_path.group(1)}",
        origin=Origin(b.base_url),
        additional_headers={"Cookie": f"sessionid={teacher.session.cookies['sessionid']}"},
        open_timeout=10,
    )

    with websocket:
        # A student of the class launches the drill on server A; the drill posts a score to
        # A's AGS endpoint with pylti1p3 (the tool's own keys and configuration).
        student = Browser(a.base_url)
        student.sign_in("sakura-5-2-01", DEMO_PASSWORD)
        claims, tool_page = launch(student, "drill")
        assert tool_page.status_code == HTTPStatus.OK
        endpoint = claims[c.CLAIM_AGS_ENDPOINT]
        assert endpoint["lineitems"].startswith(a.base_url + "/lti/ags/")
        settings.DEMO_TOOLS_CONFIG = a.data_dir / "demo_tools.json"
        conf = config.tool_conf("drill")
        assert conf is not None
        service = AssignmentsGradesService(
            ServiceConnector(conf.find_registration(a.base_url)), endpoint
        )
        item = service.find_or_create_lineitem(
            ToolLineItem()
            .set_label("たしざん（2台）")
            .set_score_maximum(5)
            .set_resource_id("two-servers")
            .set_tag("two-servers")
            .set_resource_link_id(claims[c.CLAIM_RESOURCE_LINK]["id"])
        )
        item_url = item.get_id()
        assert item_url is not None
        posted = time.monotonic()
        service.put_grade(
            Grade()
            .set_user_id(claims["sub"])
            .set_score_given(4)
            .set_score_maximum(5)
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_timestamp("2026-05-01T09:30:00.000Z"),
            item,
        )
        try:
            message = json.loads(websocket.recv(timeout=PUSH_WAIT))
        except TimeoutError:
            pytest.fail(
                f"no push on B within {PUSH_WAIT:.0f}s\n--- A ---\n{a.log_tail()}\n"
                f"--- B ---\n{b.log_tail()}"
            )
        elapsed = time.monotonic() - posted

    # The student's row on B's page names the pk the push carries.
    row = re.search(
        rf'<tr data-student="(\d+)">\s*<td>[^<]*</td>\s*<th scope="row"><a href="'
        rf'{re.escape(path)}/students/{claims["sub"]}"',
        page,
    )
    assert row, "the student's row is not on the gradebook page"
    assert message == {
        "type": "score.updated",
        "line_item": int(item_url.rsplit("/", 1)[1]),
        "label": "たしざん（2台）",
        "student": int(row.group(1)),
        "score_given": 4.0,
        "score_maximum": 5.0,
        "activity_progress": "Completed",
        "grading_progress": "FullyGraded",
        "timestamp": "2026-05-01T09:30:00.000Z",
    }
    assert elapsed < PUSH_WAIT
