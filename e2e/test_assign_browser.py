"""A teacher assigns a drill unit through Deep Linking; the child finds it first on the home
screen, does it, and both see it done — real Chromium, the real pylti1p3 drill tool."""

from __future__ import annotations

import datetime
import sqlite3
import uuid
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


def test_a_test_distributed_for_later_shows_the_child_when_it_opens(
    browser: Browser, context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    # The teacher of 5年2組 distributes the CBT test (一斉配信) opening tomorrow at 9:00.
    teacher_context = browser.new_context(
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    tomorrow = datetime.datetime.now(tz=TOKYO).date() + datetime.timedelta(days=1)
    try:
        teacher = teacher_context.new_page()
        sign_in_ok(teacher, demo_server, "sakura-t-kato")
        teacher.get_by_test_id("class-page-5-2").click()
        with teacher_context.expect_page() as opened:
            teacher.get_by_test_id("assign-cbt").click()
        picker = opened.value
        picker.get_by_test_id("offer-test:practice-1").check()
        picker.get_by_test_id("window-start").fill(f"{tomorrow.isoformat()}T09:00")
        picker.get_by_test_id("window-end").fill(f"{tomorrow.isoformat()}T09:45")
        picker.get_by_test_id("assign").click()
        expect(picker.get_by_test_id("added")).to_have_text(["CBTテスト（練習）"])
    finally:
        teacher_context.close()

    # The child finds it on the home screen, not yet openable: it says when it starts.
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-5-2-05")
    item = page.get_by_test_id("assignment").filter(has_text="CBTテスト（練習）").last
    expect(item).to_have_attribute("data-closed", "not_yet")
    expect(item.get_by_test_id("assignment-window")).to_have_text(
        f"{tomorrow.month}月{tomorrow.day}日 9:00 から"
    )
    expect(item.locator("a")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "student-home-test-later.png", full_page=True)

    # A launch link kept from elsewhere (a bookmark, another tab) gets a page saying when.
    with sqlite3.connect(f"file:{demo_server.data_dir / 'manabi.sqlite3'}?mode=ro", uri=True) as db:
        link, klass = db.execute(
            "SELECT a.resource_link_id, k.sourced_id FROM assignments_assignment a"
            " JOIN roster_schoolclass k ON k.id = a.school_class_id"
            " WHERE a.title = ? ORDER BY a.id DESC LIMIT 1",
            ("CBTテスト（練習）",),
        ).fetchone()
    response = page.goto(f"/lti/launch/{uuid.UUID(link)}/{uuid.UUID(klass)}")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("assignment-closed")).to_be_visible()
    expect(page.locator(".assignment-closed-message")).to_have_text(
        f"このテストは {tomorrow.month}月{tomorrow.day}日 9:00 から はじまります。"
    )
    expect(page.get_by_role("link", name="ホームにもどる")).to_be_visible()
    page.screenshot(path=artifacts_dir / "test-not-open-yet.png")
