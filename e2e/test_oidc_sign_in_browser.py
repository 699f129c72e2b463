"""Sign in through a real OpenID Connect IdP in Chromium, configured on the admin page.

The board administrator adds the IdP on 「外部ログイン」 (/school/org/<board>/sign-in), reads
the redirect URI to register there, and tests the configuration; the IdP — panva's certified
oidc-provider under Node (tests/peers/oidc_idp) — is then started with that redirect URI. A
child taps the IdP's button on the sign-in page, signs in on the IdP's own form, lands on
their own home and launches a tool. A person the roster does not know gets the page saying
whom to ask, and the administrator sees the attempt with its reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.peers.oidc_idp import CLIENT_ID, CLIENT_SECRET, OidcIdP, start_oidc_idp
from tests.serving import free_port

from .conftest import DemoServer
from .test_accessibility import assert_accessible
from .test_kids_screens_browser import assert_furigana, shoot
from .test_launch_browser import open_tile, sign_in

pytestmark = pytest.mark.e2e

# The demo board administrator's published TOTP secret (sso/mfa_demo.py, printed by seed_demo).
BOARD_ADMIN_TOTP = "MANABIHUBDEMOBOARDADMIN2"
IDP_PASSWORD = "hina-idp-pass"
IDP_NAME = "まなび市アカウント"


def totp(secret: str, at: float) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s): what an authenticator app shows at ``at``."""
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def pass_mfa_if_asked(page: Page) -> None:
    """Give the authenticator's code when the page asks for it (once per code: else wait)."""
    page.wait_for_load_state()
    for _attempt in range(3):
        if page.get_by_test_id("mfa-code-form").count() == 0:
            return
        page.locator("#id_code").fill(totp(BOARD_ADMIN_TOTP, time.time()))
        page.get_by_test_id("mfa-code-form").get_by_role("button").click()
        page.wait_for_load_state()
        if page.get_by_test_id("code-errors").count():
            time.sleep(30 - time.time() % 30 + 1)  # the code was used: the next window's


def sign_in_board_admin(page: Page, server: DemoServer) -> None:
    sign_in(page, "manabi-board-admin")
    pass_mfa_if_asked(page)
    expect(page.get_by_test_id("who")).not_to_be_empty()


@pytest.fixture
def idp_port() -> int:
    return free_port()


@pytest.fixture
def configured(
    context: BrowserContext, demo_server: DemoServer, idp_port: int
) -> Iterator[tuple[Page, OidcIdP, str]]:
    """The board's IdP added on the admin page, and the node IdP started with its redirect URI."""
    admin = context.new_page()
    sign_in_board_admin(admin, demo_server)
    admin.goto("/school")
    pass_mfa_if_asked(admin)
    admin.get_by_test_id("board-sign-in-link").click()
    admin.get_by_test_id("add-idp").click()
    form = admin.get_by_test_id("idp-form")
    form.locator("input[name=kind][value=oidc]").check()
    form.locator("#id_name_ja").fill(IDP_NAME)
    form.locator("#id_name_en").fill("Manabi City account")
    form.locator("#id_issuer").fill(f"http://127.0.0.1:{idp_port}")
    form.locator("#id_client_id").fill(CLIENT_ID)
    form.locator("#id_client_secret").fill(CLIENT_SECRET)
    form.locator("input[name=match_rule][value=username]").check()
    form.locator("#id_match_claim").fill("preferred_username")
    expect(form.locator("#id_allow_students")).to_be_checked()
    assert_accessible(admin)
    admin.get_by_test_id("save").click()
    expect(admin.get_by_test_id("messages")).to_contain_text(IDP_NAME)
    listing = admin.url
    redirect_uri = admin.locator("[data-testid^=redirect-uri-]").inner_text().strip()
    assert redirect_uri.startswith(demo_server.url("/accounts/oidc/")), redirect_uri
    accounts = {
        "hina": {
            "password": IDP_PASSWORD,
            "claims": {"sub": "manabi-idp-0001", "preferred_username": "sakura-5-2-01"},
        },
        "stranger": {
            "password": IDP_PASSWORD,
            "claims": {"sub": "manabi-idp-9999", "preferred_username": "not-in-the-roster"},
        },
    }
    for idp in start_oidc_idp([redirect_uri], port=idp_port, accounts=accounts):
        admin.locator("[data-testid^=check-]").click()
        report = admin.get_by_test_id("check-report")
        expect(report).to_have_attribute("data-ok", "true")
        expect(report).to_contain_text("この設定でログインできるはずです。")
        assert_accessible(admin)
        yield admin, idp, listing
        # Leave the demo board without the IdP for the other tests.
        admin.goto(listing)
        toggle = admin.locator("[data-testid^=toggle-]")
        if toggle.count() == 1 and "無効にする" in toggle.inner_text():
            toggle.click()


def sign_in_upstream(page: Page, idp: OidcIdP, login: str) -> None:
    """Tap the IdP's button and sign in on the IdP's own page (asked every time)."""
    page.goto("/accounts/login/")
    buttons = page.get_by_test_id("idp-buttons")
    expect(buttons).to_contain_text(IDP_NAME)
    assert_accessible(page)
    buttons.get_by_role("button", name=IDP_NAME).click()
    expect(page).to_have_url(re.compile("^" + re.escape(idp.issuer + "/interaction/")))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(IDP_PASSWORD)
    page.get_by_role("button", name="サインイン").click()


def test_a_child_signs_in_through_the_oidc_idp_and_launches_a_tool(
    context: BrowserContext,
    demo_server: DemoServer,
    configured: tuple[Page, OidcIdP, str],
    artifacts_dir: Path,
) -> None:
    admin, idp, listing = configured
    child_context = context.browser.new_context(  # type: ignore[union-attr]
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    try:
        child = child_context.new_page()
        sign_in_upstream(child, idp, "hina")
        expect(child).to_have_url(demo_server.url("/"))
        expect(child.locator("main")).to_contain_text("5年2組")
        tool = open_tile(child_context, child, "tile-drill", "drill")
        expect(tool.get_by_test_id("launch-info")).to_contain_text("5年2組")
        tool.close()
        # Shared tablet: after sign-out the IdP asks again (prompt=login), it does not sign the
        # next child in from its own session.
        child.get_by_role("button", name="ログアウト").click()
        expect(child).to_have_url(re.compile(r"/accounts/login/"))
        sign_in_upstream(child, idp, "hina")
        expect(child).to_have_url(demo_server.url("/"))

        # Someone the roster does not know: the page saying whom to ask, nobody signed in.
        stranger_context = context.browser.new_context(  # type: ignore[union-attr]
            base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo"
        )
        try:
            stranger = stranger_context.new_page()
            sign_in_upstream(stranger, idp, "stranger")
            refused = stranger.get_by_test_id("signin-refused")
            expect(refused).to_have_attribute("data-reason", "unmatched")
            # Nobody is signed in, so a first-grader may be reading: kana and furigana.
            assert_furigana(stranger, at_least=3)
            expect(stranger.get_by_test_id("signin-refused-ask").locator("rt")).to_have_text(
                "せんせい"
            )
            # The board's name with the reading the demo gives it (portal.readings).
            expect(refused).to_contain_text(
                "くわしくは まなび市教育委員会（まなびし きょういく いいんかい）の まなびハブの"
            )
            expect(
                refused.locator("ruby", has_text="まなび市教育委員会").locator("rt")
            ).to_have_text("まなびし きょういく いいんかい")
            shoot(stranger, artifacts_dir, "signin-refused")  # axe-core, then the screenshot
            stranger.goto("/")
            expect(stranger).to_have_url(demo_server.url("/accounts/login/?next=/"))
        finally:
            stranger_context.close()
        admin.goto(listing)
        expect(admin.get_by_test_id("failures")).to_contain_text("名簿に該当する利用者がいません")
    finally:
        child_context.close()
