"""A configuration change made through one process is refused by another within the documented
bound of lti_platform.config_cache: the next request that starts after the change commits.

Server B's cache is warmed first (the same request twice), the change goes through another
process — a management command, or server A's Django admin — and B's very next request must be
refused. Polling up to a deadline only makes a failure say how late B was.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jwt
import requests

from lti_platform.protocol import constants as c
from roster.demo import DEMO_PASSWORD
from tests import serving
from tests.ltiflow import Browser
from tests.multiprocess.conftest import TwoServers

SAKURA = "B113210000010"
DEADLINE = 10.0  # seconds: only how long a failing test waits to report how late B was


def rows(data_dir: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Read the servers' database (read-only: every write goes through the product)."""
    with sqlite3.connect(f"file:{data_dir / 'manabi.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def drill_in_class_5_2(data_dir: Path) -> dict[str, Any]:
    [(placement_pk, link, deployment_pk)] = rows(
        data_dir,
        "SELECT p.id, p.resource_link_id, p.deployment_id FROM tools_registry_placement p"
        " JOIN tools_registry_deployment d ON d.id = p.deployment_id"
        " JOIN tools_registry_registration r ON r.id = d.registration_id"
        " JOIN tools_registry_tool t ON t.id = r.tool_id"
        " JOIN roster_org s ON s.id = p.school_id"
        " WHERE t.slug = 'demo-drill' AND s.identifier = ?",
        SAKURA,
    )
    [(class_id,)] = rows(
        data_dir,
        "SELECT k.sourced_id FROM roster_schoolclass k JOIN roster_org s ON s.id = k.school_id"
        " WHERE k.class_code = '5-2' AND s.identifier = ?",
        SAKURA,
    )
    return {
        "placement_pk": placement_pk,
        "link": str(uuid.UUID(link)),
        "class": str(uuid.UUID(class_id)),
        "deployment_pk": deployment_pk,
    }


def drill_token(a: serving.ServerProcess, b: serving.ServerProcess) -> str:
    """A service token for the demo drill, asked of B with the drill's own key and config."""
    tool = json.loads((a.data_dir / "demo_tools.json").read_text(encoding="utf-8"))["drill"]
    [jwk] = requests.get(a.url("/tools/drill/jwks"), timeout=10).json()["keys"]
    key = (a.data_dir / "demo_tool_keys" / "drill.pem").read_bytes()
    now = int(time.time())
    client_assertion = jwt.encode(
        {
            "iss": tool["client_id"],
            "sub": tool["client_id"],
            "aud": tool["issuer"] + "/lti/token",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        },
        key,
        algorithm="RS256",
        headers={"kid": jwk["kid"]},
    )
    response = requests.post(
        b.url("/lti/token"),
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
            "client_assertion": client_assertion,
            "scope": c.SCOPE_NRPS,
        },
        timeout=10,
    )
    assert response.status_code == HTTPStatus.OK, response.text
    token: str = response.json()["access_token"]
    return token


def first_statuses(fetch: Any, refused: int) -> list[int]:
    """The statuses of ``fetch()`` until one is ``refused`` or the deadline passes."""
    statuses: list[int] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        statuses.append(fetch().status_code)
        if statuses[-1] == refused:
            break
    return statuses


def test_a_registration_deactivated_by_another_process_is_refused_by_the_next_request(
    two_servers: TwoServers,
) -> None:
    a, b = two_servers
    drill = drill_in_class_5_2(a.data_dir)
    token = drill_token(a, b)
    url = b.url(f"/lti/nrps/{drill['deployment_pk']}/{drill['class']}/memberships")

    def members() -> requests.Response:
        return requests.get(
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": c.MEDIA_MEMBERSHIP_CONTAINER},
            timeout=10,
        )

    for _ in range(2):  # B keeps the token row, registration, deployment, class, placements
        assert members().status_code == HTTPStatus.OK
    # A third process, through the ORM's queryset.update(): no signal, no save().
    serving.manage(
        [
            "shell",
            "-c",
            "from tools_registry.models import Registration; "
            "print(Registration.objects.filter(tool__slug='demo-drill').update(is_active=False))",
        ],
        a.env,
        a.data_dir / "manage.log",
    )
    assert rows(
        a.data_dir,
        "SELECT r.is_active FROM tools_registry_registration r"
        " JOIN tools_registry_tool t ON t.id = r.tool_id WHERE t.slug = 'demo-drill'",
    ) == [(0,)]

    assert first_statuses(members, HTTPStatus.UNAUTHORIZED) == [HTTPStatus.UNAUTHORIZED]
    refused = members()
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == {
        "error": "invalid_token",
        "error_description": "the access token is unknown or has expired",
    }


def test_a_placement_removed_in_the_admin_of_one_server_is_refused_by_the_other(
    two_servers: TwoServers,
) -> None:
    a, b = two_servers
    drill = drill_in_class_5_2(a.data_dir)
    student = Browser(b.base_url)
    student.sign_in("sakura-5-2-01", DEMO_PASSWORD)
    launch = f"/lti/launch/{drill['link']}/{drill['class']}"

    def start_launch() -> requests.Response:
        return student.session.get(student.url(launch), allow_redirects=False, timeout=10)

    for _ in range(2):  # B keeps the class and the placement
        started = start_launch()
        assert started.status_code == HTTPStatus.FOUND
        assert started.headers["Location"].startswith(a.url("/tools/drill/login?"))

    admin = Browser(a.base_url)
    admin.sign_in("manabi-operator", DEMO_PASSWORD)  # the platform operator
    delete_url = admin.url(f"/admin/tools_registry/placement/{drill['placement_pk']}/delete/")
    page = admin.session.get(delete_url, timeout=10)
    assert page.status_code == HTTPStatus.OK
    csrf = admin.session.cookies["csrftoken"]
    deleted = admin.session.post(
        delete_url,
        data={"csrfmiddlewaretoken": csrf, "post": "yes"},
        headers={"Referer": delete_url},
        allow_redirects=False,
        timeout=10,
    )
    assert deleted.status_code == HTTPStatus.FOUND, deleted.text
    assert rows(
        a.data_dir,
        "SELECT COUNT(*) FROM tools_registry_placement WHERE id = ?",
        drill["placement_pk"],
    ) == [(0,)]

    assert first_statuses(start_launch, HTTPStatus.NOT_FOUND) == [HTTPStatus.NOT_FOUND]
    refused = start_launch()
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert "<code>this tool is not placed for this class</code>" in refused.text
