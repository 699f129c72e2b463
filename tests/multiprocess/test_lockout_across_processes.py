"""Sign-in throttling across real server processes: counters in the shared database cache.

Two ``scripts/serve.sh`` processes on one copy of the demo database (every request from
127.0.0.1: one school behind one address), which either can be restarted. The demo roster
gets 30 more students (``nat-00`` … ``nat-29``, the demo password), a class signing in at once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

from roster.demo import DEMO_PASSWORD
from tests import serving
from tests.multiprocess.conftest import DemoTemplate
from tests.sso.pages import MISMATCH, REFUSED, login_page, main_text

CLASS_SIZE = 30
_ADD_CLASS = (
    "from roster.models import User; "
    "hash = User.objects.get(username='sakura-5-2-01').password; "
    f"User.objects.bulk_create([User(username=f'nat-{{i:02d}}', password=hash) "
    f"for i in range({CLASS_SIZE})])"
)
BARRIER_TIMEOUT = 120.0  # seconds for every thread to have its sign-in page (upper bound)


@dataclass
class Servers:
    """Two running servers on one data directory; ``restart()`` stops and starts them."""

    a: serving.ServerProcess
    b: serving.ServerProcess
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self) -> None:
        for name, server in (("a", self.a), ("b", self.b)):
            self.processes[name] = serving.start(server.env, server.log_path)
        for name, server in (("a", self.a), ("b", self.b)):
            serving.wait_until_up(self.processes[name], server)

    def stop(self) -> None:
        for process in self.processes.values():
            serving.stop(process)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def servers(demo_template: DemoTemplate) -> Iterator[Servers]:
    with tempfile.TemporaryDirectory(prefix="manabi-mp-") as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(demo_template.data_dir, data_dir)
        pair = []
        for name in "ab":
            port = serving.free_port()
            bind = f"127.0.0.1:{port}"
            env = serving.server_env(
                data_dir, issuer=f"http://{bind}", bind=bind, secret_key=demo_template.secret_key
            )
            pair.append(
                serving.ServerProcess(
                    base_url=f"http://{bind}",
                    port=port,
                    data_dir=data_dir,
                    env=env,
                    log_path=data_dir / f"server-{name}.log",
                )
            )
        assert pair[0].port != pair[1].port
        serving.manage(["shell", "-c", _ADD_CLASS], pair[0].env, data_dir / "manage.log")
        running = Servers(a=pair[0], b=pair[1])
        try:
            running.start()
            yield running
        finally:
            running.stop()


def open_sign_in(server: serving.ServerProcess) -> tuple[requests.Session, str]:
    """A new browser on the sign-in page: its session and the form's CSRF token."""
    session = requests.Session()
    session.trust_env = False  # loopback, no proxy
    page = session.get(server.url("/accounts/login/"), timeout=serving.PROBE_TIMEOUT)
    assert page.status_code == HTTPStatus.OK
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    return session, token.group(1)


def submit(
    server: serving.ServerProcess,
    browser: tuple[requests.Session, str],
    username: str,
    password: str,
) -> requests.Response:
    session, token = browser
    return session.post(
        server.url("/accounts/login/"),
        data={"login": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=serving.STARTUP_TIMEOUT,  # 30 password checks queue on two busy cores
    )


def sign_in(server: serving.ServerProcess, username: str, password: str) -> requests.Response:
    return submit(server, open_sign_in(server), username, password)


def outcome(response: requests.Response) -> tuple[int, str]:
    """(status, where it sends the browser) for a sign-in, or (status, the page's words)."""
    if response.status_code == HTTPStatus.FOUND:
        return response.status_code, response.headers["Location"]
    return response.status_code, main_text(response.text)


def test_thirty_concurrent_correct_sign_ins_from_one_address_all_succeed(
    servers: Servers,
) -> None:
    ready = threading.Barrier(CLASS_SIZE, timeout=BARRIER_TIMEOUT)

    def one_child(i: int) -> tuple[int, str]:
        server = servers.a if i % 2 else servers.b
        browser = open_sign_in(server)
        ready.wait()  # every child presses the button at once
        return outcome(submit(server, browser, f"nat-{i:02d}", DEMO_PASSWORD))

    with ThreadPoolExecutor(max_workers=CLASS_SIZE) as pool:
        outcomes = list(pool.map(one_child, range(CLASS_SIZE)))
    assert outcomes == [(HTTPStatus.FOUND, "/")] * CLASS_SIZE


def test_the_account_lockout_holds_across_two_processes_and_a_restart(servers: Servers) -> None:
    child, classmate = "sakura-5-2-01", "sakura-5-2-02"
    mistyped = (HTTPStatus.OK, login_page(MISMATCH))
    refused = (HTTPStatus.OK, login_page(REFUSED))
    for server in (servers.a, servers.b, servers.a, servers.b, servers.a):
        assert outcome(sign_in(server, child, "wrong")) == mistyped
    assert outcome(sign_in(servers.b, child, DEMO_PASSWORD)) == refused
    assert outcome(sign_in(servers.a, child, DEMO_PASSWORD)) == refused
    servers.restart()
    assert outcome(sign_in(servers.a, child, DEMO_PASSWORD)) == refused
    assert outcome(sign_in(servers.b, child, DEMO_PASSWORD)) == refused
    assert outcome(sign_in(servers.b, classmate, DEMO_PASSWORD)) == (HTTPStatus.FOUND, "/")
