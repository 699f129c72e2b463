"""A teacher watches the class gradebook while a student finishes the drill in another browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .conftest import VIEWPORT, DemoServer
from .test_launch_browser import open_tile, sign_in_ok

pytestmark = pytest.mark.e2e


def test_teacher_sees_a_drill_score_arrive_without_reloading(
    browser: Browser, context: BrowserContext, demo_server: DemoServer, artifacts_dir: Path
) -> None:
    # The teacher's tablet: the 5年2組 gradebook, connected live.
    teacher_context = browser.new_context(
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    try:
        teacher = teacher_context.new_page()
        sign_in_ok(teacher, demo_server, "sakura-t-kato")
        teacher.get_by_test_id("gradebook-5-2").click()
        expect(teacher.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
        teacher.evaluate("window.__sameDocument = 'yes'")

        # The student's tablet: launch the drill and answer all five questions.
        page = context.new_page()
        sign_in_ok(page, demo_server, "sakura-5-2-02")
        student_name = page.get_by_test_id("who").inner_text()
        drill = open_tile(context, page, "tile-drill", "drill")
        for _ in range(5):
            drill.locator('#choices button[data-correct="1"]').click()
        expect(drill.get_by_test_id("sent-score")).to_have_text("5 / 5 てん")
        drill.screenshot(path=artifacts_dir / "drill-finished.png")

        # The score appears in the teacher's open page, in the student's row.
        student_row = teacher.locator("tbody tr", has_text=student_name.replace(" ", "\u3000"))
        expect(student_row.locator("td .score")).to_contain_text("5/5")
        expect(student_row.locator("td .progress")).to_have_text("完了")
        assert teacher.evaluate("window.__sameDocument") == "yes"  # never reloaded
        teacher.screenshot(path=artifacts_dir / "gradebook-live.png", full_page=True)

        # The student sees their own score too.
        page.goto("/my/scores")
        expect(page.get_by_test_id("my-scores")).to_contain_text("5 / 5")
    finally:
        teacher_context.close()


def test_a_session_ended_elsewhere_ends_the_live_gradebook(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    """The session ends outside any portal tab (a sign-out request of the same browser that no
    page sees): the server closes the socket with 4401, and the page says so."""
    gradebook = context.new_page()
    sign_in_ok(gradebook, demo_server, "sakura-t-kato")
    gradebook.get_by_test_id("gradebook-5-2").click()
    status = gradebook.get_by_test_id("live-status")
    expect(status).to_have_attribute("data-state", "live")

    csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    signed_out = context.request.post(  # an API request: no page hears of it
        demo_server.url("/accounts/logout/"),
        form={"csrfmiddlewaretoken": csrf},
        max_redirects=0,
    )
    assert signed_out.status == 302, signed_out.status

    # The open gradebook is told at once (close 4401), says so and stops reconnecting.
    expect(status).to_have_attribute("data-state", "ended")
    expect(status).to_have_text(
        "ログインが おわったので、ライブ更新を とめました。もういちど ログインしてください。"
    )


def test_signing_out_in_another_tab_takes_the_gradebook_away(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    """A sign-out in another tab of the same browser: the gradebook tab leaves for the sign-in
    page (static/session_watch.js), with nothing of the class left on it."""
    gradebook = context.new_page()
    sign_in_ok(gradebook, demo_server, "sakura-t-kato")
    gradebook.get_by_test_id("gradebook-5-2").click()
    expect(gradebook.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
    student_name = gradebook.locator("tbody tr th a").first.inner_text()
    assert student_name

    other_tab = context.new_page()  # the same browser, so the same session
    other_tab.goto("/")
    other_tab.get_by_role("button", name="ログアウト").click()
    expect(other_tab).to_have_url(demo_server.url("/accounts/login/"))

    expect(gradebook).to_have_url(demo_server.url("/accounts/login/"))
    expect(gradebook.locator("body")).not_to_contain_text(student_name)
