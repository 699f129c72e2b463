"""Fixtures for the browser tests: the real demo server and a headless Chromium.

The server is the stack ``scripts/demo.sh`` starts (``migrate``, ``seed_demo``,
``scripts/serve.sh`` with ``config.settings.base``) in a temporary data directory on a free
loopback port. The tests talk
to it over HTTP only; they never use the Django test database of the rest of the suite.

Playwright's sync API keeps its asyncio loop marked as running on the main thread for as long
as it is started, so in-process Django ORM calls made meanwhile would raise
``SynchronousOnlyOperation``. The browser tests are therefore moved to the end of the run
(``pytest_collection_modifyitems`` below), after every test that uses the database.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, ViewportSize, sync_playwright

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
BIN_DIR = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A GIGA-school tablet / Chromebook sized window.
VIEWPORT: ViewportSize = {"width": 1024, "height": 768}
STARTUP_TIMEOUT = 30.0  # seconds for the server to answer
MANAGE_TIMEOUT = 120.0  # seconds for migrate / seed_demo

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


# --- hooks ------------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last and mark everything under e2e/ as ``e2e``."""
    here = Path(__file__).resolve().parent
    browser_tests: list[pytest.Item] = []
    others: list[pytest.Item] = []
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            browser_tests.append(item)
        else:
            others.append(item)
    items[:] = others + browser_tests


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


# --- the demo server --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    data_dir: Path
    log_path: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(data_dir: Path, base_url: str, bind: str) -> dict[str, str]:
    """The environment of scripts/demo.sh, isolated from whatever the caller has set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MANABI_") and key not in {"DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        MANABI_DATA_DIR=str(data_dir),
        MANABI_LTI_ISSUER=base_url,
        MANABI_SECRET_KEY="e2e-" + secrets.token_urlsafe(40),
        MANABI_ALLOWED_HOSTS="127.0.0.1,localhost",
        MANABI_BIND=bind,
        MANABI_WORKERS="2",
        MANABI_THREADS="4",
        MANABI_ACCESS_LOG=str(data_dir / "access.log"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(args: list[str], env: dict[str, str], log_path: Path) -> None:
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=MANAGE_TIMEOUT,
        check=False,
    )
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _wait_until_up(process: subprocess.Popen[bytes], server: DemoServer) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{server.log_tail()}", pytrace=False
            )
        try:
            with opener.open(server.url("/accounts/login/"), timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"the server did not answer within {STARTUP_TIMEOUT:.0f}s:\n{server.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server we started."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful shutdown
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    """migrate + seed_demo + scripts/serve.sh in a fresh data directory; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="manabi-e2e-") as tmp:
        data_dir = Path(tmp)
        port = _free_port()
        bind = f"127.0.0.1:{port}"
        server = DemoServer(
            base_url=f"http://{bind}", data_dir=data_dir, log_path=data_dir / "server.log"
        )
        env = _server_env(data_dir, server.base_url, bind)
        _manage(["migrate", "-v", "0"], env, server.log_path)
        _manage(["seed_demo"], env, server.log_path)
        with server.log_path.open("ab") as log:
            process = subprocess.Popen(
                ["bash", "scripts/serve.sh"],  # exactly what scripts/demo.sh serves with
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(process, server)
            yield server
        finally:
            _stop(process)


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        pytest.fail("Playwright's sync API cannot start inside a running asyncio loop")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        headless=True, executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """e2e/artifacts/ (gitignored): screenshots, without the failures of earlier runs."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS_DIR.glob("FAILED-*.png"):
        stale.unlink()
    return ARTIFACTS_DIR


@pytest.fixture
def context(
    request: pytest.FixtureRequest, browser: Browser, demo_server: DemoServer, artifacts_dir: Path
) -> Iterator[BrowserContext]:
    """A fresh, cookie-less browser context per test; screenshots every page if the test fails."""
    context = browser.new_context(
        base_url=demo_server.base_url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport=VIEWPORT,
    )
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    yield context
    report = request.node.stash.get(_REPORTS, {}).get("call")
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for index, page in enumerate(context.pages):
            if not page.is_closed():
                page.screenshot(path=artifacts_dir / f"FAILED-{name}-{index}.png", full_page=True)
        print(f"--- server log (tail) ---\n{demo_server.log_tail()}")
    context.close()
