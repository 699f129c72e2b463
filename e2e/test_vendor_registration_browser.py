"""A tool's way from its vendor to a child, in real Chromium, with a real tool that registers
itself: the django-lti + django-lti-dynamic-registration tool of the interoperability tests,
served as its own process (``tests/interop/django_lti_tool``).

The vendor starts a Dynamic Registration in the console and opens the URL: the tool registers
against ``/lti/register`` and posts ``org.imsglobal.lti.close``; the tool waits for approval.
The board administrator grants less than it asks (no roster service, IDs only) and deploys it
to the whole board; the school administrator places it for 5年2組; a child of 5年2組 launches
it and the tool shows what the launch carried — the grade service, no roster service, no
name. Then the vendor breaks the registration (a redirect URI the tool does not use): the
child's launch is refused and the vendor's diagnostics page says why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.interop.django_lti_tool import process

from .conftest import ACTION_TIMEOUT, NAVIGATION_TIMEOUT, VIEWPORT, DemoServer
from .test_launch_browser import sign_in, sign_in_ok

pytestmark = pytest.mark.e2e

TOOL = process.TOOL_NAME
# Collect the messages a page posts to itself (a registration page opened in its own tab has
# no parent: ``window.parent`` is the page itself).
RECORD_MESSAGES = """
window.__ltiMessages = [];
window.addEventListener("message", (event) => { window.__ltiMessages.push(event.data); });
"""
CLOSED = "() => window.__ltiMessages.some((m) => m && m.subject === 'org.imsglobal.lti.close')"


@pytest.fixture
def django_lti_tool(tmp_path: Path) -> Iterator[str]:
    """The django-lti tool, its own server process on a free loopback port."""
    with process.serve(tmp_path) as base:
        yield base


@contextmanager
def another_context(
    browser: Browser, server: DemoServer, artifacts_dir: Path, who: str
) -> Iterator[BrowserContext]:
    """One more user's browser (cookies of its own), set up like the ``context`` fixture;
    its pages are kept as screenshots if the test fails meanwhile."""
    context = browser.new_context(
        base_url=server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    context.set_default_timeout(ACTION_TIMEOUT)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
    try:
        yield context
    except BaseException:
        for index, page in enumerate(context.pages):
            if not page.is_closed():
                page.screenshot(path=artifacts_dir / f"FAILED-dr-{who}-{index}.png", full_page=True)
        raise
    finally:
        context.close()


def launch_tile(context: BrowserContext, home: Page) -> Page:
    """Tap the tool's tile on the child's home; the tool's tab, once it has loaded."""
    tile = home.get_by_role("link", name=re.compile(TOOL))
    expect(tile).to_have_attribute("target", "_blank")
    with context.expect_page() as opened:
        tile.click()
    return opened.value


def test_a_vendor_registers_a_board_grants_less_a_school_places_and_a_child_launches(
    browser: Browser,
    context: BrowserContext,
    demo_server: DemoServer,
    artifacts_dir: Path,
    django_lti_tool: str,
) -> None:
    # --- the vendor starts a Dynamic Registration for a new tool and opens its URL --------
    context.add_init_script(RECORD_MESSAGES)
    vendor = context.new_page()
    sign_in(vendor, "vendor-demo")
    expect(vendor).to_have_url(demo_server.url("/vendor/"))
    start = vendor.get_by_test_id("start-new-form")
    start.get_by_label("ツールの登録URL（Dynamic Registration の開始URL）").fill(
        django_lti_tool + "/register/"
    )
    start.get_by_role("button", name="登録URLを作る").click()
    started = vendor.get_by_test_id("started-url")
    expect(started).to_have_text(re.compile("^" + re.escape(django_lti_tool + "/register/?")))
    vendor.screenshot(path=artifacts_dir / "dr-vendor-started.png", full_page=True)
    with context.expect_page() as opened:
        started.click()
    registering = opened.value
    registering.wait_for_function(CLOSED)  # the tool registered and says the flow is over
    assert registering.url.startswith(django_lti_tool + "/register/?")

    vendor.goto("/vendor/")
    row = vendor.get_by_test_id("tools").locator("tr").filter(has_text=TOOL)
    expect(row).to_contain_text("承認待ち")
    expect(row).to_contain_text("まだ配備されていません")
    vendor.screenshot(path=artifacts_dir / "dr-vendor-pending.png", full_page=True)
    row.get_by_role("link", name=TOOL).click()
    expect(vendor.get_by_test_id("status")).to_have_text("承認待ち")
    client_id = (
        vendor.get_by_test_id("sheet")
        .get_by_role("row", name=re.compile("client_id"))
        .locator("code")
        .inner_text()
    )
    assert client_id
    tool_page_url = vendor.url

    with (
        another_context(browser, demo_server, artifacts_dir, "board") as board_context,
        another_context(browser, demo_server, artifacts_dir, "school") as school_context,
        another_context(browser, demo_server, artifacts_dir, "student") as student_context,
    ):
        # --- the board approves with fewer services and IDs only, deploys to the board ----
        board = board_context.new_page()
        sign_in_ok(board, demo_server, "manabi-board-admin")
        board.goto("/school")
        board.get_by_test_id("board-tools-link").click()
        pending = board.get_by_test_id("pending").locator("tr").filter(has_text=TOOL)
        pending.get_by_role("link", name=re.compile("^確認する")).click()
        expect(board.get_by_role("heading", level=1)).to_have_text(TOOL)
        expect(board.get_by_test_id("asked-services")).to_contain_text("AGS")
        expect(board.get_by_test_id("asked-services")).to_contain_text("NRPS")
        expect(board.get_by_test_id("asked-personal")).to_contain_text("氏名")
        approve = board.get_by_test_id("approve-form")
        score = approve.get_by_label("成績を送る（AGS score）")
        nrps = approve.get_by_label("クラスの名簿を見る（NRPS）")
        expect(score).to_be_checked()
        expect(nrps).to_be_checked()
        nrps.uncheck()
        approve.get_by_label("氏名もメールアドレスも送りません（IDのみ）").check()
        board.screenshot(path=artifacts_dir / "dr-board-review.png", full_page=True)
        approve.get_by_role("button", name="この内容で承認する").click()
        expect(board.get_by_test_id("messages")).to_have_text(f"「{TOOL}」を承認しました。")
        expect(board.get_by_test_id("status")).to_have_text("承認済み（有効）")
        granted = board.get_by_test_id("granted")
        expect(granted).to_contain_text("氏名もメールアドレスも送りません（IDのみ）")
        expect(granted).to_contain_text("成績を送る（AGS score）")
        expect(granted).not_to_contain_text("NRPS")
        deploy = board.get_by_test_id("deploy-form")
        deploy.get_by_label("教育委員会のすべての学校").check()
        deploy.get_by_role("button", name="配備する").click()
        expect(board.get_by_test_id("messages")).to_have_text(f"「{TOOL}」を配備しました。")
        deployments = board.get_by_test_id("deployments")
        expect(deployments).to_contain_text("B_132993")
        expect(deployments).to_contain_text("成績を送る（AGS score）")  # the grant, in words
        expect(deployments).not_to_contain_text("NRPS")
        board.screenshot(path=artifacts_dir / "dr-board-deployed.png", full_page=True)

        # --- the school places it for 5年2組 -----------------------------------------------
        school = school_context.new_page()
        sign_in_ok(school, demo_server, "sakura-admin")
        school.goto("/school")  # one school administered: its page
        expect(school.get_by_role("heading", level=1)).to_have_text("まなび市立さくら小学校の管理")
        school.get_by_test_id("school-tools-link").click()
        place = school.get_by_test_id("place-form")
        which = place.get_by_label("ツール", exact=True)
        option = which.locator("option").filter(has_text=TOOL)
        which.select_option(option.get_attribute("value"))
        place.get_by_label("どこに").select_option(label="5年2組")
        place.get_by_label("だれに").select_option(label="全員")
        place.get_by_role("button", name="配置する").click()
        placed = school.get_by_test_id("placements").locator("tr").filter(has_text=TOOL)
        expect(placed).to_contain_text("5年2組")
        school.screenshot(path=artifacts_dir / "dr-school-placed.png", full_page=True)

        # --- a child of 5年2組 launches it: AGS, no NRPS, no name ------------------------
        home = student_context.new_page()
        sign_in_ok(home, demo_server, "sakura-5-2-02")
        home.screenshot(path=artifacts_dir / "dr-student-home.png", full_page=True)
        tool = launch_tile(student_context, home)
        expect(tool).to_have_url(django_lti_tool + "/launch/")
        shown = tool.locator("pre").first
        expect(shown).to_contain_text('"message_type"')
        launched = json.loads(shown.inner_text())
        assert re.fullmatch(r"[0-9a-f-]{36}", launched.pop("sub")), launched
        assert launched == {
            "deployment_id": "B_132993",
            "client_id": client_id,
            "message_type": "LtiResourceLinkRequest",
            "name": None,
            "context_title": "5年2組",
            "ags": True,
            "nrps": False,
        }
        tool.screenshot(path=artifacts_dir / "dr-tool-launched.png", full_page=True)
        tool.close()

        # --- a broken registration: the launch is refused, the vendor sees why -------------
        vendor.goto(tool_page_url)
        vendor.get_by_test_id("edit-tool").click()
        vendor.get_by_label("リダイレクトURI（redirect_uris・必須）").fill(
            django_lti_tool + "/wrong-launch/"
        )
        vendor.get_by_role("button", name="保存する").click()
        expect(vendor.get_by_test_id("messages")).to_have_text(f"「{TOOL}」を保存しました。")
        expect(vendor.get_by_test_id("status")).to_have_text("承認済み")  # a URL change only
        board_row = (
            vendor.get_by_test_id("boards").locator("tr").filter(has_text="まなび市教育委員会")
        )
        expect(board_row.get_by_test_id("board-status")).to_have_text("承認済み")

        home.reload()  # still signed in: the tool's cookies have names of their own
        expect(home.get_by_test_id("who")).not_to_be_empty()
        refused = launch_tile(student_context, home)
        expect(refused).to_have_url(re.compile(re.escape(demo_server.url("/lti/authorize"))))
        expect(refused.get_by_role("heading", level=1)).to_have_text("ツールを開けませんでした")
        expect(refused.locator("main")).to_contain_text("redirect_uri is not registered")
        refused.screenshot(path=artifacts_dir / "dr-student-refused.png", full_page=True)

        vendor.get_by_test_id("diagnostics-link").click()
        line = vendor.get_by_test_id("diagnostics").locator("tr").filter(has_text="redirect_uri")
        expect(line).to_have_count(1)
        expect(line).to_contain_text("起動（認証リクエスト）")
        expect(line).to_contain_text("400 Bad Request")
        expect(line.get_by_test_id("reason")).to_have_text(
            f"redirect_uri が登録されたどの URI とも一致しません: {django_lti_tool}/launch/"
        )
        expect(line.locator("code")).to_have_text(
            "invalid_request: redirect_uri does not match any registered URI: "
            f"{django_lti_tool}/launch/"
        )
        vendor.screenshot(path=artifacts_dir / "dr-vendor-diagnostics.png", full_page=True)
