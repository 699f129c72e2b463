"""axe-core (the engine behind Lighthouse's accessibility audit) finds no violation on the pages
each kind of user sees: the sign-in page, a first-grader's and a fifth-grader's home and
scores, a teacher's home, gradebook and a child's history, the school administrator's pages,
the board administrator's study-log, tool, diagnostics and change-log pages, the school
administrator's tool placement, the vendor console.

axe-core comes bundled with axe-playwright-python (no CDN, no download); it runs inside the
real page in Chromium, after our strict CSP has applied.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import DemoServer
from .test_launch_browser import sign_in, sign_in_ok

pytestmark = pytest.mark.e2e

AXE = Axe()


def assert_accessible(page: Page) -> None:
    results = AXE.run(page)
    violations = results.response["violations"]
    assert violations == [], f"{page.url}: {results.generate_report()}"


def test_the_sign_in_page(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/accounts/login/")
    assert_accessible(page)


@pytest.mark.parametrize("username", ["sakura-1-1-01", "sakura-5-2-01"])
def test_a_childs_home_and_scores(
    context: BrowserContext, demo_server: DemoServer, username: str
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, username)
    assert_accessible(page)
    page.goto("/my/scores")
    assert_accessible(page)


def test_a_teachers_home_gradebook_and_a_childs_history(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-t-kato")
    assert_accessible(page)
    page.get_by_test_id("gradebook-5-2").click()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    assert_accessible(page)
    page.locator("tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/gradebook/students/"))
    assert_accessible(page)


def test_the_school_administrators_pages(context: BrowserContext, demo_server: DemoServer) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-admin")
    page.goto("/school")
    expect(page).to_have_url(re.compile(r"/school/[0-9a-f-]{36}$"))
    assert_accessible(page)
    school = page.url
    page.get_by_test_id("school-readings-link").click()
    expect(page).to_have_url(school + "/readings")
    assert_accessible(page)
    page.goto(school + "/people")
    assert_accessible(page)
    page.locator("main tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}$"))
    assert_accessible(page)


def test_the_board_administrators_study_log_page(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "manabi-board-admin")
    page.goto("/school")
    assert_accessible(page)
    page.get_by_test_id("study-log-link").click()
    expect(page).to_have_url(re.compile(r"/school/board/[0-9a-f-]{36}/study-log$"))
    expect(page.get_by_role("heading", name="LRS を追加")).to_be_visible()
    assert_accessible(page)


def test_the_board_administrators_tool_pages(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "manabi-board-admin")
    for link in ("board-tools-link", "board-diagnostics-link", "board-audit-link"):
        page.goto("/school")
        page.get_by_test_id(link).click()
        expect(page.locator("main h1")).to_be_visible()
        assert_accessible(page)


def test_the_school_administrators_tool_placement_and_change_log(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-admin")
    for link in ("school-tools-link", "school-audit-link"):
        page.goto("/school")
        page.get_by_test_id(link).click()
        expect(page.locator("main h1")).to_be_visible()
        assert_accessible(page)


def test_the_vendor_console(context: BrowserContext, demo_server: DemoServer) -> None:
    page = context.new_page()
    page.goto("/accounts/login/")
    sign_in(page, "vendor-demo")  # a vendor lands on the console, not on a home page
    expect(page).to_have_url(re.compile(r"/vendor/$"))
    assert_accessible(page)
    page.goto("/vendor/tools/new")
    assert_accessible(page)
