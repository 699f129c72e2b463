"""Sign in and launch the demo tools in real Chromium, through the whole LTI 1.3 flow.

portal tile (new tab) → /lti/launch → tool's login initiation → portal /lti/authorize →
auto-submitting form_post → tool /tools/<slug>/launch, which validates the id_token.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from .conftest import DemoServer, needs_demo_mfa, pass_demo_mfa

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "manabi-demo"  # what seed_demo prints for every demo account
STUDENT_ROLE = "児童生徒"
TEACHER_ROLE = "先生"


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form:has(#id_password)").get_by_role("button").click()
    if needs_demo_mfa(username) and password == DEMO_PASSWORD:
        pass_demo_mfa(page, username)


def sign_in_ok(page: Page, server: DemoServer, username: str) -> None:
    sign_in(page, username)
    expect(page).to_have_url(server.url("/"))
    expect(page.get_by_test_id("who")).not_to_be_empty()


def open_tile(context: BrowserContext, page: Page, test_id: str, slug: str) -> Page:
    """Tap a launch tile and return the tool's page (a new tab) once the launch has landed."""
    tile = page.get_by_test_id(test_id)
    expect(tile).to_have_attribute("target", "_blank")
    with context.expect_page() as new_page:
        tile.click()
    tool = new_page.value
    expect(tool).to_have_url(re.compile(rf"/tools/{slug}/launch$"))
    expect(tool.get_by_test_id("launch-info")).to_be_visible()
    return tool


def record_navigations(context: BrowserContext) -> list[Request]:
    navigations: list[Request] = []

    def on_request(request: Request) -> None:
        if request.is_navigation_request():
            navigations.append(request)

    context.on("request", on_request)
    return navigations


def test_student_launches_drill_in_new_tab(
    context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-5-2-01")
    display_name = page.get_by_test_id("who").inner_text().strip()
    expect(page.locator("main")).to_contain_text("5年2組")
    tile = page.get_by_test_id("tile-drill")
    expect(tile).to_be_visible()
    for kind in ("textbook", "cbt"):
        expect(page.get_by_test_id(f"tile-{kind}")).to_be_visible()
    box = tile.bounding_box()
    assert box is not None
    assert box["height"] >= 150, f"tiles should be large touch targets, got {box}"
    assert box["width"] >= 150, f"tiles should be large touch targets, got {box}"
    page.screenshot(path=artifacts_dir / "student-home.png", full_page=True)

    navigations = record_navigations(context)
    drill = open_tile(context, page, "tile-drill", "drill")

    expect(drill.get_by_test_id("class")).to_have_text("5年2組")
    expect(drill.get_by_test_id("grade")).to_have_text("P5")
    expect(drill.get_by_test_id("role")).to_have_text(STUDENT_ROLE)
    expect(drill.get_by_test_id("name")).to_have_text(display_name)
    assert display_name and display_name != "sakura-5-2-01"
    expect(drill.get_by_test_id("deployment")).to_have_text("B_132993")
    expect(drill.locator("#choices button")).to_have_count(3)
    drill.screenshot(path=artifacts_dir / "drill.png", full_page=True)

    # The launch went through the OIDC flow and ended in a form_post of id_token + state.
    paths = [(r.method, urlsplit(r.url).path) for r in navigations]
    assert paths[0][1].startswith("/lti/launch/"), paths
    assert ("GET", "/lti/authorize") in paths, paths
    assert any(p == "/tools/drill/login" for _, p in paths), paths
    last = navigations[-1]
    assert (last.method, urlsplit(last.url).path) == ("POST", "/tools/drill/launch"), paths
    assert last.url == demo_server.url("/tools/drill/launch")
    assert set(parse_qs(last.post_data or "")) >= {"id_token", "state"}
    response = last.response()
    assert response is not None and response.status == 200
    for r in navigations:  # form_post: the token never travels in a URL
        url = urlsplit(r.url)
        assert "id_token" not in parse_qs(url.query) | parse_qs(url.fragment), r.url

    # The portal stays open in the first tab.
    assert context.pages == [page, drill]
    assert not page.is_closed()
    expect(page).to_have_url(demo_server.url("/"))
    expect(page.get_by_test_id("tile-drill")).to_be_visible()


def test_teacher_launches_textbook_for_class(
    context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-t-kato")
    expect(page.locator("main")).to_contain_text("5年2組")
    page.screenshot(path=artifacts_dir / "staff-home.png", full_page=True)

    textbook = open_tile(context, page, "tile-textbook-5-2", "textbook")

    expect(textbook.get_by_test_id("class")).to_have_text("5年2組")
    expect(textbook.get_by_test_id("role")).to_have_text(TEACHER_ROLE)
    expect(textbook.get_by_test_id("grade")).to_have_text("P5")
    expect(textbook.get_by_test_id("deployment")).to_have_text("S_B113210000010")
    expect(textbook.get_by_role("heading", name="指導者用デジタル教科書")).to_be_visible()
    # The textbook's privacy level is id_only: no name reaches it.
    expect(textbook.get_by_test_id("name")).to_have_count(0)
    textbook.screenshot(path=artifacts_dir / "textbook-teacher.png", full_page=True)
    assert context.pages == [page, textbook]


def test_junior_high_student_launches_cbt(
    context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "midori-1-a-01")

    cbt = open_tile(context, page, "tile-cbt", "cbt")

    expect(cbt.get_by_test_id("grade")).to_have_text("J1")
    expect(cbt.get_by_test_id("class")).to_have_text("1年A組")
    expect(cbt.get_by_test_id("role")).to_have_text(STUDENT_ROLE)
    expect(cbt.get_by_test_id("deployment")).to_have_text("S_C113210000019")
    expect(cbt.get_by_test_id("name")).to_have_count(0)
    cbt.screenshot(path=artifacts_dir / "cbt.png", full_page=True)


def test_wrong_password_shows_error_and_no_session(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = context.new_page()
    sign_in(page, "sakura-5-2-01", "not-the-password")

    expect(page).to_have_url(demo_server.url("/accounts/login/"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.locator("#id_login")).to_have_value("sakura-5-2-01")
    expect(page.get_by_test_id("who")).to_have_count(0)
    assert "sessionid" not in {c["name"] for c in context.cookies()}

    # Not signed in: home sends the browser back to the login page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_test_id("who")).to_have_count(0)


def test_language_switch_to_english_and_back(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = context.new_page()
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.get_by_role("button", name="English").click()

    expect(page).to_have_url(demo_server.url("/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    sign_in(page, "sakura-5-2-01")
    expect(page).to_have_url(demo_server.url("/"))
    expect(page.get_by_role("heading", level=2, name="Your tools")).to_be_visible()

    page.get_by_role("button", name="日本語").click()
    expect(page).to_have_url(demo_server.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=2, name="つかうツール")).to_be_visible()
