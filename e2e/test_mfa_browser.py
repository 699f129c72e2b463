"""Staff MFA in real Chromium: a new school administrator, sent to enrol at the first sign-in,
sets up an authenticator app from the shown secret (the code computed here, RFC 6238), keeps
the recovery codes (shown once, downloaded), signs out and signs in with the app's code; another
registers a passkey with Chromium's virtual authenticator (CDP WebAuthn) and signs in with it.
The pages pass axe-core.

WebAuthn refuses IP addresses as the relying party, so the passkey test uses the server as
``localhost`` (a secure context over http, like 127.0.0.1).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests import serving
from tests.mfa import fresh_code, totp_code

from .conftest import ACTION_TIMEOUT, NAVIGATION_TIMEOUT, VIEWPORT, DemoServer
from .test_launch_browser import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

AXE = Axe()
SAKURA = "B113210000010"  # さくら小学校 of the demo
# /school answers a school administrator with their school's page.
SCHOOL_PAGE = re.compile(r"/school/[0-9a-f-]{36}$")


def assert_accessible(page: Page) -> None:
    results = AXE.run(page)
    assert results.response["violations"] == [], f"{page.url}: {results.generate_report()}"


def new_school_administrator(server: DemoServer) -> str:
    """A school administrator of さくら小学校 with no authenticator, in the server's database."""
    username = f"sakura-admin-{secrets.token_hex(3)}"
    code = (
        "from roster.models import Org, RosterRole, User; "
        f"u = User(username={username!r}, last_name='新任', first_name='管理者', "
        f"role=RosterRole.ADMINISTRATOR, org=Org.objects.get(identifier={SAKURA!r})); "
        f"u.set_password({DEMO_PASSWORD!r}); u.save()"
    )
    serving.manage(["shell", "-c", code], server.env, server.log_path)
    return username


def sign_in_with_password(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main form:has(#id_password)").get_by_role("button").click()


def confirm_password_if_asked(page: Page) -> None:
    """allauth asks for the password again before an authenticator is added."""
    page.wait_for_load_state()
    if "/accounts/reauthenticate/" in page.url:
        assert_accessible(page)
        page.locator("#id_password").fill(DEMO_PASSWORD)
        page.get_by_test_id("reauth-form").get_by_role("button").click()


def sign_out(page: Page) -> None:
    page.locator("header form[action='/accounts/logout/'] button").click()
    expect(page.locator("#id_login")).to_be_visible()


def test_an_administrator_enrols_an_authenticator_app_and_signs_in_with_its_code(
    context: BrowserContext, demo_server: DemoServer
) -> None:
    username = new_school_administrator(demo_server)
    page = context.new_page()
    sign_in_with_password(page, username)
    # Sent to enrol, from the home and from any administration page.
    expect(page).to_have_url(demo_server.url("/accounts/2fa/?next=%2F"))
    expect(page.get_by_test_id("mfa-required")).to_be_visible()
    assert_accessible(page)
    page.goto("/school")
    expect(page).to_have_url(demo_server.url("/accounts/2fa/?next=%2Fschool"))

    page.get_by_test_id("totp-activate").click()
    confirm_password_if_asked(page)
    expect(page).to_have_url(demo_server.url("/accounts/2fa/totp/activate/"))
    expect(page.locator(".totp-qr svg")).to_be_visible()
    assert_accessible(page)
    secret = page.get_by_test_id("totp-secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.locator("#id_code").fill("000000" if totp_code(secret) != "000000" else "111111")
    page.get_by_test_id("totp-form").get_by_role("button").click()
    expect(page.get_by_test_id("code-errors")).to_be_visible()
    page.locator("#id_code").fill(totp_code(secret))
    page.get_by_test_id("totp-form").get_by_role("button").click()

    # The recovery codes, this once, and their download.
    expect(page).to_have_url(demo_server.url("/accounts/2fa/recovery-codes/"))
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"\d{8}", c) for c in codes), codes
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_test_id("download-codes").click()
    path = download.value.path()
    assert path is not None
    assert path.read_text(encoding="utf-8").split() == codes
    page.get_by_test_id("codes-done").click()
    expect(page).to_have_url(demo_server.url("/"))
    page.goto("/school")
    expect(page).to_have_url(SCHOOL_PAGE)
    page.goto("/accounts/2fa/recovery-codes/")
    expect(page.get_by_test_id("codes-hidden")).to_be_visible()  # shown once

    sign_out(page)
    sign_in_with_password(page, username)
    expect(page).to_have_url(demo_server.url("/accounts/2fa/authenticate/"))
    assert_accessible(page)
    page.locator("#id_code").fill(fresh_code(secret))
    page.get_by_test_id("mfa-code-form").get_by_role("button").click()
    expect(page).to_have_url(demo_server.url("/"))
    expect(page.get_by_test_id("who")).to_contain_text("新任")
    page.goto("/school")
    expect(page).to_have_url(SCHOOL_PAGE)


@pytest.fixture
def localhost_context(browser: Browser, demo_server: DemoServer) -> Iterator[BrowserContext]:
    """The demo server as http://localhost:<port> (a WebAuthn relying party needs a name)."""
    context = browser.new_context(
        base_url=f"http://localhost:{demo_server.port}",
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport=VIEWPORT,
    )
    context.set_default_timeout(ACTION_TIMEOUT)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
    yield context
    context.close()


def test_an_administrator_registers_a_passkey_and_signs_in_with_it(
    localhost_context: BrowserContext, demo_server: DemoServer
) -> None:
    username = new_school_administrator(demo_server)
    base = f"http://localhost:{demo_server.port}"
    page = localhost_context.new_page()
    cdp = localhost_context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    authenticator_id = added["authenticatorId"]

    sign_in_with_password(page, username)
    expect(page).to_have_url(f"{base}/accounts/2fa/?next=%2F")
    page.get_by_test_id("webauthn-add").click()
    confirm_password_if_asked(page)
    expect(page).to_have_url(f"{base}/accounts/2fa/webauthn/add/")
    assert_accessible(page)
    page.get_by_label("名前（例：職員室のノートPC）").fill("職員室のノートPC")
    page.get_by_test_id("webauthn-add-button").click()
    expect(page).to_have_url(f"{base}/accounts/2fa/recovery-codes/")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    page.goto("/school")
    expect(page).to_have_url(SCHOOL_PAGE)

    sign_out(page)
    sign_in_with_password(page, username)
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.get_by_test_id("use-passkey").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_test_id("who")).to_contain_text("新任")
    page.goto("/school")
    expect(page).to_have_url(SCHOOL_PAGE)
    signed = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert signed["credentials"][0]["signCount"] >= 1
