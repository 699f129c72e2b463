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
import re
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests import serving
from tests.mfa import DEMO_TOTP_SECRETS, fresh_demo_code

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
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
# Upper bounds (ms) of every wait; each returns as soon as its condition holds. CI shares two
# cores between the server, Chromium and pytest, and one launch is a chain of redirects and
# form posts with an RS256 signature and the tool's JWKS fetch. expect() has its own bound
# (Playwright's default, 5 s, whatever the context's timeouts): it waits for whole launches
# and for live pushes.
ACTION_TIMEOUT = 10_000
NAVIGATION_TIMEOUT = 15_000
EXPECT_TIMEOUT = 15_000

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

DemoServer = serving.ServerProcess


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    """migrate + seed_demo + scripts/serve.sh in a fresh data directory; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="manabi-e2e-") as tmp:
        data_dir = Path(tmp)
        port = serving.free_port()
        bind = f"127.0.0.1:{port}"
        base_url = f"http://{bind}"
        env = serving.server_env(
            data_dir, issuer=base_url, bind=bind, secret_key=serving.new_secret_key()
        )
        server = DemoServer(
            base_url=base_url,
            port=port,
            data_dir=data_dir,
            env=env,
            log_path=data_dir / "server.log",
        )
        serving.manage(["migrate", "-v", "0"], env, server.log_path)
        serving.manage(["seed_demo"], env, server.log_path)
        process = serving.start(env, server.log_path)
        try:
            serving.wait_until_up(process, server)
            yield server
        finally:
            serving.stop(process)


# --- signing in ------------------------------------------------------------------------------


def needs_demo_mfa(username: str) -> bool:
    """Whether the demo account is an administrator, who signs in with a second factor."""
    return username in DEMO_TOTP_SECRETS


def pass_demo_mfa(page: Page, username: str) -> None:
    """On allauth's MFA page after the password, type the demo administrator's current code
    (seed_demo's published secret; a code is accepted once, so a repeat waits for the next)."""
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.locator("#id_code").fill(fresh_demo_code(username))
    page.get_by_test_id("mfa-code-form").get_by_role("button").click()


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        pytest.fail("Playwright's sync API cannot start inside a running asyncio loop")
    expect.set_options(timeout=EXPECT_TIMEOUT)
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
    context.set_default_timeout(ACTION_TIMEOUT)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
    yield context
    report = request.node.stash.get(_REPORTS, {}).get("call")
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for index, page in enumerate(context.pages):
            if not page.is_closed():
                page.screenshot(path=artifacts_dir / f"FAILED-{name}-{index}.png", full_page=True)
        print(f"--- server log (tail) ---\n{demo_server.log_tail()}")
    context.close()
