"""The two servers answer and share one database."""

from __future__ import annotations

import json
from http import HTTPStatus

import requests

from tests.multiprocess.conftest import TwoServers


def test_two_servers_serve_one_demo(two_servers: TwoServers) -> None:
    a, b = two_servers
    assert a.port != b.port and a.data_dir == b.data_dir
    tools = json.loads((a.data_dir / "demo_tools.json").read_text(encoding="utf-8"))
    assert tools["drill"]["issuer"] == a.base_url
    for server in two_servers:
        response = requests.get(server.url("/lti/jwks"), timeout=10)
        assert response.status_code == HTTPStatus.OK
    assert requests.get(a.url("/lti/jwks"), timeout=10).json() == (
        requests.get(b.url("/lti/jwks"), timeout=10).json()
    )
