"""A shared tablet in real Chromium: one browser context, child after child (portal/age.py).

Child A (a first-grader) chooses English, opens a tool and a second portal tab, then taps
「つぎの ひとに かわる」 (switch user). Child B signs in on the same browser: the portal is in
Japanese again, nothing of A is on B's pages, A's other tab has left A's page for the sign-in
page, the back button shows nothing of A, and A's launch links and A's half-done launch do not
launch as A.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from .conftest import DemoServer
from .test_launch_browser import open_tile, record_navigations, sign_in_ok

pytestmark = pytest.mark.e2e

CHILD_A = "sakura-1-1-01"
CHILD_B = "sakura-1-1-02"  # the same class: A's launch links are B's to use — as B


def _authorize_url(navigations: list[Request]) -> str:
    urls = [r.url for r in navigations if urlsplit(r.url).path == "/lti/authorize"]
    assert urls, [r.url for r in navigations]
    return urls[-1]


def test_the_next_child_finds_nothing_of_the_previous_one(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    # --- child A: a first-grader, in kana; chooses English --------------------------------
    page = context.new_page()
    sign_in_ok(page, demo_server, CHILD_A)
    kana_name_a = page.get_by_test_id("who").inner_text().strip()
    assert re.fullmatch(r"[\u3041-\u3096]+\u3000[\u3041-\u3096]+", kana_name_a), kana_name_a
    expect(page.locator("header")).not_to_contain_text("English")  # not next to the name
    page.locator("footer").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("switch-user")).to_have_text(re.compile("Switch user"))

    # A opens the drill (a tool tab) and a second portal tab.
    launch_href = page.get_by_test_id("tile-drill").get_attribute("href")
    assert launch_href and launch_href.startswith("/lti/launch/")
    navigations = record_navigations(context)
    drill = open_tile(context, page, "tile-drill", "drill")
    kanji_name_a = drill.get_by_test_id("name").inner_text().strip()
    assert kanji_name_a and kanji_name_a != kana_name_a
    authorize_a = _authorize_url(navigations)
    scores_a = context.new_page()
    scores_a.goto("/my/scores")
    expect(scores_a.get_by_test_id("who")).to_have_text(kana_name_a)

    # --- A taps "switch user": signed out completely, back to the sign-in page -------------
    # (Its answer's Clear-Site-Data header: tests/portal/test_age.py.)
    page.get_by_test_id("switch-user").click()
    expect(page).to_have_url(demo_server.url("/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")  # Japanese again
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    assert "django_language" not in {c["name"] for c in context.cookies()}
    assert "sessionid" not in {c["name"] for c in context.cookies()}

    # A's other portal tab noticed and left A's page for the sign-in page.
    expect(scores_a).to_have_url(re.compile(r"/accounts/login/"))
    expect(scores_a.locator("body")).not_to_contain_text(kana_name_a)

    # The back button shows no page of A (no-store, no back-forward cache): it is asked
    # again, and the server answers with the sign-in page.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("body")).not_to_contain_text(kana_name_a)
    page.goto("/accounts/login/")

    # --- child B signs in on the same browser ---------------------------------------------
    sign_in_ok(page, demo_server, CHILD_B)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=2, name="つかうツール")).to_be_visible()
    kana_name_b = page.get_by_test_id("who").inner_text().strip()
    assert kana_name_b != kana_name_a
    for url in ("/", "/my/scores"):
        page.goto(url)
        body = page.locator("body")
        expect(body).not_to_contain_text(kana_name_a)
        expect(body).not_to_contain_text(kanji_name_a)
        expect(page.get_by_test_id("who")).to_have_text(kana_name_b)

    # A's half-done launch (its one-time message hint, for A) is refused under B's session.
    page.goto(authorize_a)
    expect(page.locator("body")).not_to_contain_text(kanji_name_a)
    assert 'name="id_token"' not in page.content()

    # A's launch link, from A's tool tab, launches as B (never as A).
    with context.expect_page() as again:
        drill.evaluate("href => window.open(href, '_blank')", launch_href)
    relaunch = again.value
    expect(relaunch).to_have_url(re.compile(r"/tools/drill/launch$"))
    kanji_name_b = relaunch.get_by_test_id("name").inner_text().strip()
    assert kanji_name_b and kanji_name_b != kanji_name_a


def test_a_tab_of_the_previous_child_leaves_when_the_next_one_signs_in(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    """Without a sign-out: the session ends (cookies cleared, as an idle timeout does) and the
    next child signs in; A's tab, in the background, notices when it is shown again."""
    old: Page = context.new_page()
    sign_in_ok(old, demo_server, CHILD_A)
    kana_name_a = old.get_by_test_id("who").inner_text().strip()
    context.clear_cookies()
    page = context.new_page()
    sign_in_ok(page, demo_server, CHILD_B)
    expect(old).to_have_url(re.compile(r"/accounts/login/|/$"))
    expect(old.locator("body")).not_to_contain_text(kana_name_a)
