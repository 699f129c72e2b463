"""Signing out on one server process closes the session's gradebook socket open on another.

Both servers run the in-memory channel layer: server A publishes the sign-out as a
"session.ended" event in the shared outbox, and B's relay ("each_process") tells B's socket
of that session to close (portal.sockets).
"""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from roster.demo import DEMO_PASSWORD
from tests.ltiflow import Browser
from tests.multiprocess.conftest import TwoServers
from tests.multiprocess.test_outbox_relay import gradebook_of

CLOSE_WAIT = 15.0  # seconds; a deadline, not an expectation


def test_sign_out_on_a_closes_the_socket_open_on_b(two_servers: TwoServers) -> None:
    a, b = two_servers
    teacher = Browser(a.base_url)
    teacher.sign_in("sakura-t-kato", DEMO_PASSWORD)
    _path, page = gradebook_of(teacher, "5-2")
    socket_path = re.search(r'data-ws="([^"]+)"', page)
    assert socket_path
    websocket = connect(
        f"ws://127.0.0.1:{b.port}{socket_path.group(1)}",
        origin=Origin(b.base_url),
        additional_headers={"Cookie": f"sessionid={teacher.session.cookies['sessionid']}"},
        open_timeout=10,
    )
    with websocket:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token
        signed_out = teacher.session.post(
            teacher.url("/accounts/logout/"),
            data={"csrfmiddlewaretoken": token.group(1)},
            allow_redirects=False,
            timeout=10,
        )
        assert signed_out.status_code == HTTPStatus.FOUND
        try:
            message = websocket.recv(timeout=CLOSE_WAIT)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            assert closed.rcvd.code == 4401
        except TimeoutError:
            pytest.fail(f"B's socket still open\n--- A ---\n{a.log_tail()}\n{b.log_tail()}")
        else:
            pytest.fail(f"a message instead of the close: {message!r}")
