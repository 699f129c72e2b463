"""A teacher assigns a drill unit through Deep Linking; the child finds it first on the home
screen, does it, and both see it done — real Chromium, the real pylti1p3 drill tool."""

from __future__ import annotations

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .conftest import VIEWPORT, DemoServer
from .test_launch_browser import sign_in_ok

pytestmark = pytest.mark.e2e
TOKYO = ZoneInfo("Asia/Tokyo")  # the portal's TIME_ZONE: how it reads the due-date field


def test_a_teacher_assigns_a_drill_unit_and_the_child_does_it(
    browser: Browser, context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    teacher_context = browser.new_context(
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    try:
        # The teacher of 5年2組 opens the class page and assigns from the drill.
        teacher = teacher_context.new_page()
        sign_in_ok(teacher, demo_server, "sakura-t-kato")
        teacher.get_by_test_id("class-page-5-2").click()
        with teacher_context.expect_page() as opened:
            teacher.get_by_test_id("assign-drill").click()
        picker = opened.value
        expect(picker.get_by_test_id("picker")).to_be_visible()
        picker.get_by_test_id("offer-unit:subtraction").check()
        picker.get_by_test_id("assign").click()  # the tool posts its deep-linking response
        expect(picker.get_by_test_id("added")).to_have_text(["ひきざん ドリル"])
        picker.screenshot(path=artifacts_dir / "deep-linking-done.png")

        # Back on the class page: the new assignment, due tomorrow.
        teacher.reload()
        assignment = (
            teacher.get_by_test_id("assignments").locator("li").filter(has_text="ひきざん ドリル")
        )
        tomorrow = datetime.datetime.now(tz=TOKYO).date() + datetime.timedelta(days=1)
        assignment.locator('input[name="due_at"]').fill(f"{tomorrow.isoformat()}T15:00")
        assignment.get_by_role("button", name="期限を保存").click()
        expect(
            teacher.get_by_test_id("assignments").locator("li").filter(has_text="ひきざん ドリル")
        ).to_contain_text("期限")

        # The child's home starts with it, not done yet.
        page = context.new_page()
        sign_in_ok(page, demo_server, "sakura-5-2-03")
        item = page.get_by_test_id("assignment").filter(has_text="ひきざん ドリル")
        expect(item).to_have_attribute("data-status", "not_started")
        headings = page.locator("main h2").all_inner_texts()
        assert headings.index("つかうツール") > 0  # the assignments come before the tools
        page.screenshot(path=artifacts_dir / "student-home-assignment.png", full_page=True)

        # The child opens it: the drill shows the assigned unit; five right answers.
        with context.expect_page() as launched:
            item.locator("a").click()
        drill = launched.value
        expect(drill.get_by_test_id("unit")).to_have_text("ひきざん ドリル")
        for _ in range(5):
            drill.locator('#choices button[data-correct="1"]').click()
        expect(drill.get_by_test_id("sent-score")).to_have_text("5 / 5 てん")

        # Done for the child, graded for the teacher.
        page.reload()
        item = page.get_by_test_id("assignment").filter(has_text="ひきざん ドリル")
        expect(item).to_have_attribute("data-status", "graded")
        expect(item.get_by_test_id("assignment-status")).to_contain_text("まるつけ ずみ")
        teacher.reload()  # the class page counts the children per status
        row = teacher.get_by_test_id("assignments").locator("li").filter(has_text="ひきざん ドリル")
        expect(row).to_contain_text("未着手 5・取り組み中 0・提出 0・採点済み 1")
        teacher.get_by_role("link", name="成績を見る").click()
        expect(teacher.get_by_test_id("gradebook")).to_contain_text("5/5")
        teacher.screenshot(path=artifacts_dir / "gradebook-after-assignment.png", full_page=True)
    finally:
        teacher_context.close()


def test_the_teacher_opens_a_childs_cbt_submission_from_the_gradebook(
    browser: Browser, context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    # A child of 5年2組 sits the CBT test (the pylti1p3 demo tool) and submits it.
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-5-2-04")
    with context.expect_page() as launched:
        page.get_by_test_id("tile-cbt").click()
    cbt = launched.value
    expect(cbt.get_by_test_id("test-title")).to_be_visible()
    for radio in cbt.locator('input[type="radio"]').all()[::3]:  # the first choice of each
        radio.check()
    cbt.get_by_test_id("submit-test").click()
    expect(cbt.get_by_test_id("sent-score")).to_be_visible()

    # The teacher opens that submission from the gradebook: LtiSubmissionReviewRequest.
    teacher_context = browser.new_context(
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    try:
        teacher = teacher_context.new_page()
        sign_in_ok(teacher, demo_server, "sakura-t-kato")
        teacher.get_by_test_id("gradebook-5-2").click()
        row = teacher.locator("tbody tr").filter(has=teacher.locator("a.review"))
        row.locator("a.review").first.click()  # the same tab: the tool's review page
        review = teacher
        expect(review.get_by_test_id("review-answers")).to_be_visible()
        expect(review.get_by_test_id("review-learner")).to_contain_text("の こたえ")
        review.screenshot(path=artifacts_dir / "submission-review.png", full_page=True)
    finally:
        teacher_context.close()
