"""Production transport in real Chromium: nothing our pages do is refused by the strict
Content-Security-Policy, and a tool on another site may send its authentication request by
POST (the session cookie is SameSite=Lax, which Chromium leaves off a cross-site POST).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, expect

from tests import serving

from .conftest import DemoServer
from .cross_site_tool import CrossSiteTool, serve
from .test_launch_browser import open_tile, sign_in, sign_in_ok

pytestmark = pytest.mark.e2e

# Chromium reports each refusal on the console ("Refused to …"); the init script reports the
# securitypolicyviolation events too (Playwright's init scripts are not subject to the CSP).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
});
"""


def watch_csp(context: BrowserContext) -> list[str]:
    """Collect every CSP refusal of every page of ``context``."""
    refusals: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith(("Refused to", "CSP violation")):
            refusals.append(f"{message.page.url if message.page else '?'}: {text}")

    context.add_init_script(REPORT_VIOLATIONS)
    context.on("console", on_console)
    return refusals


def sign_in_ok_anywhere(page: Page, username: str) -> None:
    """Sign in and wait for whichever page the account lands on."""
    sign_in(page, username)
    expect(page.get_by_test_id("who")).not_to_be_empty()


def sign_out(page: Page) -> None:
    page.locator(".header-nav").get_by_role("button", name="ログアウト").click()
    expect(page.locator("#id_login")).to_be_visible()


def test_no_page_of_the_portal_or_the_demo_tools_is_refused_by_the_csp(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    refusals = watch_csp(context)
    page = context.new_page()

    # A student: home with coloured tiles, my scores, the drill played to its score post.
    sign_in_ok(page, demo_server, "sakura-5-2-03")
    expect(page.get_by_test_id("tile-drill")).to_have_css("background-color", "rgb(232, 113, 10)")
    page.get_by_test_id("my-scores-link").click()
    expect(page.get_by_test_id("my-scores")).to_be_visible()
    page.go_back()
    drill = open_tile(context, page, "tile-drill", "drill")
    for _ in range(5):
        drill.locator('#choices button[data-correct="1"]').click()
    expect(drill.get_by_test_id("sent-score")).to_have_text("5 / 5 てん")
    expect(drill.locator("header")).to_have_css("background-color", "rgb(232, 113, 10)")
    drill.close()
    sign_out(page)

    # A teacher: home, the live gradebook (its websocket), a student's history, a launch.
    sign_in_ok(page, demo_server, "sakura-t-kato")
    page.get_by_test_id("gradebook-5-2").click()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    page.get_by_test_id("gradebook").get_by_role("link").first.click()
    expect(page.get_by_test_id("history")).to_be_visible()
    page.goto("/")
    textbook = open_tile(context, page, "tile-textbook-5-2", "textbook")
    expect(textbook.locator("header")).to_have_css("background-color", "rgb(26, 127, 90)")
    textbook.close()
    sign_out(page)

    # A school administrator: the school's pages.
    sign_in_ok_anywhere(page, "sakura-admin")
    page.goto("/school")
    expect(page.locator("main h1")).to_be_visible()
    page.locator("main a").first.click()
    expect(page.locator("main h1")).to_be_visible()

    assert refusals == []

    # The watch itself sees a refusal: an inline style attribute is blocked.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    expect(page.locator("p", has_text="x").last).not_to_have_css("color", "rgb(255, 0, 0)")
    page.wait_for_function("true")  # let the console event arrive
    assert refusals and all("style" in r for r in refusals), refusals


# --- a tool on another site ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cross_site_tool(demo_server: DemoServer) -> Iterator[CrossSiteTool]:
    """The tool of ``cross_site_tool.py`` registered with the demo portal for 1年1組."""
    with serve(CrossSiteTool(issuer=demo_server.base_url)) as tool:
        spec = {
            "tool": {"slug": "cross-site", "name": "越境テスト", "kind": "other", "icon": "🌐"},
            "registration": {
                "initiate_login_uri": tool.base_url + "/login",
                "redirect_uris": [tool.base_url + "/launch"],
                "target_link_uri": tool.base_url + "/launch",
                "jwks_url": tool.base_url + "/jwks",
                "allowed_services": [],
                "privacy_level": "id_only",
            },
            "deployments": [
                {
                    "deployment_id": "cross-site-1",
                    "org": "132993",
                    "placements": [{"school": "B113210000010", "class": "1-1", "title": "越境"}],
                }
            ],
        }
        path = demo_server.data_dir / "cross-site-tool.json"
        path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "manage.py", "register_tool", str(path)],
            cwd=serving.REPO_ROOT,
            env=demo_server.env,
            capture_output=True,
            text=True,
            timeout=serving.MANAGE_TIMEOUT,
            check=True,
        )
        tool.client_id = json.loads(result.stdout)["client_id"]
        yield tool


def session_cookie_sent(request: Request) -> bool:
    return "sessionid=" in request.all_headers().get("cookie", "")


@pytest.mark.parametrize(("mode", "student"), [("post", "sakura-1-1-03"), ("get", "sakura-1-1-04")])
def test_a_tool_on_another_site_launches_with_a_post_or_a_get_authentication_request(
    context: BrowserContext,
    demo_server: DemoServer,
    cross_site_tool: CrossSiteTool,
    mode: str,
    student: str,
) -> None:
    cross_site_tool.mode = mode
    refusals = watch_csp(context)
    page = context.new_page()
    sign_in_ok(page, demo_server, student)
    requests: list[Request] = []
    context.on("request", lambda r: requests.append(r) if r.is_navigation_request() else None)

    # other tests (platform storage) place an "other" tool in 1年1組 on the shared server
    with context.expect_page() as new_page:
        page.get_by_test_id("tile-other").filter(has_text="越境").click()
    tool_page = new_page.value
    expect(tool_page.get_by_test_id("launched")).to_have_text("1年1組")

    assert urlsplit(tool_page.url)[:3] == ("http", f"127.0.0.1:{cross_site_tool.port}", "/done")
    launch = [r for r in requests if urlsplit(r.url).path == "/launch"]
    assert [(r.method, urlsplit(r.url).netloc) for r in launch] == [
        ("POST", f"localhost:{cross_site_tool.port}")
    ]
    authorize = [r for r in requests if urlsplit(r.url).path == "/lti/authorize"]
    seen = [(r.method, urlsplit(r.url).netloc, session_cookie_sent(r)) for r in authorize]
    portal = urlsplit(demo_server.base_url).netloc
    if mode == "post":
        # The tool's cross-site POST came without the Lax cookie; our same-site re-post had it.
        assert seen == [("POST", portal, False), ("POST", portal, True)]
    else:
        assert seen == [("GET", portal, True)]
    [claims] = cross_site_tool.launches[-1:]
    assert claims["aud"] == cross_site_tool.client_id
    assert refusals == []  # the id_token form posted to the tool, which redirected onwards
