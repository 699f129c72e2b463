"""Embedded mode (scripts/serve.sh) times out requests that do not arrive: a connection that
sends nothing, half its headers or part of its body gets 408 and is closed within
MANABI_REQUEST_TIMEOUT (2 s here); whole requests and open websockets are not affected."""

from __future__ import annotations

import select
import socket
import tempfile
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect
from websockets.typing import Origin

from tests import serving
from tests.factories import PASSWORD
from tests.ltiflow import Browser

REQUEST_TIMEOUT = 2.0
BOUND = 30.0  # seconds to wait, at most, for the server to give up on a stalled client
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 16\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"Request Timeout\n"
)
_MAKE_STUDENT = "from tests.factories import StudentFactory; StudentFactory(username='slow-1')"


@pytest.fixture(scope="module")
def server() -> Iterator[serving.ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="manabi-timeouts-") as tmp:
        data_dir = Path(tmp)
        port = serving.free_port()
        bind = f"127.0.0.1:{port}"
        env = serving.server_env(
            data_dir, issuer=f"http://{bind}", bind=bind, secret_key=serving.new_secret_key()
        )
        env["MANABI_REQUEST_TIMEOUT"] = str(REQUEST_TIMEOUT)
        log_path = data_dir / "server.log"
        serving.manage(["migrate", "-v", "0"], env, log_path)
        serving.manage(["shell", "-c", _MAKE_STUDENT], env, log_path)
        server = serving.ServerProcess(f"http://{bind}", port, data_dir, env, log_path)
        process = serving.start(env, log_path)
        try:
            serving.wait_until_up(process, server)
            yield server
        finally:
            serving.stop(process)


def stalled(server: serving.ServerProcess, sent: bytes, *, dribble: bytes = b"") -> bytes:
    """Send ``sent``, then ``dribble`` a byte every 0.2 s (or nothing); return all the server
    answers until it closes the connection (BOUND seconds at most)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=BOUND) as sock:
        sock.sendall(sent)
        answer = b""
        for _ in range(int(BOUND / 0.2)):
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                chunk = sock.recv(65536)
                if not chunk:
                    return answer
                answer += chunk
            elif dribble:
                sock.sendall(dribble[:1])
                dribble = dribble[1:]
        pytest.fail(f"the server still holds the connection after {BOUND:.0f}s; got {answer!r}")


def test_a_connection_that_sends_nothing_is_closed(server: serving.ServerProcess) -> None:
    assert stalled(server, b"") == TIMED_OUT


def test_half_the_headers_get_408(server: serving.ServerProcess) -> None:
    assert stalled(server, b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n") == TIMED_OUT


def test_headers_sent_a_byte_at_a_time_get_408(server: serving.ServerProcess) -> None:
    """Slowloris: the client keeps sending, but the request never completes in time."""
    headers = b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 400
    assert stalled(server, b"G", dribble=headers[1:]) == TIMED_OUT


def test_part_of_the_body_gets_408(server: serving.ServerProcess) -> None:
    request = (
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
        b"login=slow-1&pass"
    )
    assert stalled(server, request) == TIMED_OUT


def test_the_next_request_on_a_kept_alive_connection_has_its_own_deadline(
    server: serving.ServerProcess,
) -> None:
    first = b"GET /lti/jwks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = stalled(server, first + b"GET /lti/jwks HTTP/1.1\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"}" + TIMED_OUT)  # the JWKS document, then the 408
    assert answer.count(b"HTTP/1.1 ") == 2


def test_whole_requests_are_answered(server: serving.ServerProcess) -> None:
    response = requests.get(server.url("/accounts/login/"), timeout=BOUND)
    assert response.status_code == HTTPStatus.OK
    posted = requests.post(
        server.url("/lti/token"), data={"grant_type": "client_credentials"}, timeout=BOUND
    )
    assert posted.status_code == HTTPStatus.BAD_REQUEST
    assert posted.json()["error"] == "invalid_request"


def test_an_open_websocket_outlives_the_request_timeout(server: serving.ServerProcess) -> None:
    browser = Browser(server.base_url)
    browser.sign_in("slow-1", PASSWORD)
    with connect(
        f"ws://127.0.0.1:{server.port}/ws/my/scores",
        origin=Origin(server.base_url),
        additional_headers={"Cookie": f"sessionid={browser.session.cookies['sessionid']}"},
        open_timeout=BOUND,
    ) as websocket:
        with pytest.raises(TimeoutError):  # three request timeouts pass: no message, no close
            websocket.recv(timeout=3 * REQUEST_TIMEOUT)
        assert websocket.ping().wait(timeout=BOUND)  # still open
