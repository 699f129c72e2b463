"""A first-grader's screens in real Chromium: furigana on the portal's own kanji, the name in
kana, big targets, the language switch in the footer — each page checked by axe-core and
screenshotted (e2e/artifacts/kids-*.png, shown in docs/screens-for-each-age.md).

The strict check "every kanji of the portal's own text is inside a <ruby> base" is
tests/portal/test_age.py (every child page, with the roster's data set apart); here the
browser shows that the ruby renders, reads as kana and passes axe.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import DemoServer
from .test_accessibility import assert_accessible
from .test_launch_browser import sign_in_ok

pytestmark = pytest.mark.e2e

FIRST_GRADER = "sakura-1-1-01"
KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u30fb\u3000 ]+")


def assert_furigana(page: Page, *, at_least: int = 1) -> None:
    """The page has ``at_least`` ruby elements, each with one kana reading shown above it."""
    readings = page.locator("ruby rt")
    assert readings.count() >= at_least, page.url
    for text in readings.all_inner_texts():
        assert KANA.fullmatch(text), f"{page.url}: reading {text!r}"
    box = readings.first.bounding_box() if readings.count() else None
    base = page.locator("ruby").first.bounding_box() if readings.count() else None
    if box and base:
        assert box["y"] < base["y"] + base["height"] / 2, "the reading sits above its kanji"


def shoot(page: Page, artifacts_dir: Path, name: str) -> None:
    assert_accessible(page)
    page.screenshot(path=artifacts_dir / f"kids-{name}.png", full_page=True)


def test_the_sign_in_pages_for_a_first_grader(context: BrowserContext, artifacts_dir: Path) -> None:
    page = context.new_page()
    # The card sign-in page, which first-graders use: furigana without asking.
    page.goto("/signin/card/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    assert_furigana(page)
    shoot(page, artifacts_dir, "card-sign-in")

    # The password page: plain Japanese, with a 「ふりがな」 switch in the footer.
    page.goto("/accounts/login/")
    expect(page.locator("ruby")).to_have_count(0)
    page.get_by_test_id("furigana-on").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert_furigana(page)
    expect(page.locator("label[for=id_login] rt")).to_have_text("めい")
    shoot(page, artifacts_dir, "sign-in")


def test_a_first_graders_home_scores_and_error_pages(
    context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, FIRST_GRADER)
    who = page.get_by_test_id("who")
    expect(who).to_have_text(KANA)  # the name in kana, never kanji
    expect(page.locator("h1.greeting")).to_contain_text(who.inner_text().strip())
    expect(page.locator("header")).not_to_contain_text("English")
    expect(page.locator("footer").get_by_role("button", name="English")).to_be_visible()
    switch = page.get_by_test_id("switch-user").bounding_box()
    assert switch is not None and switch["height"] >= 60, switch  # a big target
    # The names the school and the vendor gave readings (seed_demo): ruby over the whole name.
    textbook = page.get_by_test_id("tile-textbook")
    expect(textbook.locator(".tile-title ruby rt")).to_have_text("デジタルきょうかしょ")
    expect(page.locator("p.subtle ruby rt")).to_have_text("いちねん いちくみ")
    assert_furigana(page, at_least=2)
    shoot(page, artifacts_dir, "home")

    page.goto("/my/scores")
    expect(page.get_by_role("heading", level=1)).to_have_text("わたしのせいせき")
    shoot(page, artifacts_dir, "scores")

    page.goto("/admin/")  # not for children: 403
    expect(page.get_by_role("heading", level=1)).to_have_text("このページは ひらけません")
    assert_furigana(page)
    shoot(page, artifacts_dir, "403")

    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text("つかりません")
    assert_furigana(page, at_least=2)
    expect(page).to_have_title(re.compile(r"^ページが みつかりません \|"))  # the reading
    shoot(page, artifacts_dir, "404")

    page.goto("/accounts/logout/")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログアウト")
    shoot(page, artifacts_dir, "sign-out")


def test_a_fifth_grader_gets_no_furigana(context: BrowserContext, demo_server: DemoServer) -> None:
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-5-2-01")
    for url in ("/", "/no-such-page", "/admin/"):
        page.goto(url)
        expect(page.locator("ruby")).to_have_count(0)
