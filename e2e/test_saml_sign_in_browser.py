"""SAML 2.0 sign-in in real Chromium through a real IdP (samlp under Node, tests/peers).

The board's administrator adds the SAML sign-in on the portal's page from the IdP's metadata
URL and registers the values the page shows (entity id, ACS URL) at the IdP; a child taps the
board's button on the sign-in page, signs in on the IdP's own page, lands on their home and
launches the drill through LTI 1.3.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.peers.saml_idp import SamlIdP, start_saml_idp

from .conftest import ACTION_TIMEOUT, VIEWPORT, DemoServer
from .test_accessibility import assert_accessible
from .test_launch_browser import open_tile, sign_in, sign_in_ok

pytestmark = pytest.mark.e2e

UID = "urn:oid:0.9.2342.19200300.100.1.1"
IDP_PASSWORD = "idp-password"


@pytest.fixture(scope="module")
def idp() -> Iterator[SamlIdP]:
    with tempfile.TemporaryDirectory(prefix="manabi-e2e-saml-") as tmp:
        peer = start_saml_idp(Path(tmp))
        peer.set_users(
            {
                "hina": {
                    "password": IDP_PASSWORD,
                    "nameid": "idp-000101",
                    "attributes": {UID: "sakura-5-2-01"},
                }
            }
        )
        try:
            yield peer
        finally:
            peer.stop()


def test_child_signs_in_through_the_saml_idp_and_launches_a_tool(
    context: BrowserContext,
    browser: Browser,
    demo_server: DemoServer,
    idp: SamlIdP,
    artifacts_dir: Path,
) -> None:
    # The board's administrator, on another device, configures the IdP from its metadata URL.
    admin_context = browser.new_context(
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    admin_context.set_default_timeout(ACTION_TIMEOUT)
    try:
        admin = admin_context.new_page()
        sign_in(admin, "manabi-board-admin")
        admin.goto(demo_server.url("/school"))
        admin.get_by_test_id("board-sign-in-link").click()
        admin.get_by_test_id("add-saml").click()
        assert_accessible(admin)
        admin.locator("#id_name_ja").fill("まなび市 SAML")
        admin.locator("#id_name_en").fill("Manabi City SAML")
        admin.locator("#id_metadata_url").fill(idp.metadata_url)
        admin.locator("input[name=match_rule][value=username]").check()
        admin.locator("#id_match_claim").fill(UID)
        admin.locator("#id_allow_students").check()
        admin.get_by_test_id("save").click()
        expect(admin.get_by_test_id("sp-values")).to_be_visible()
        assert_accessible(admin)
        entity_id = admin.get_by_test_id("sp-entity-id").inner_text().strip()
        acs_url = admin.get_by_test_id("sp-acs-url").inner_text().strip()
        # 「設定をテスト」 on the list refetches the metadata and says it is fine.
        admin.get_by_role("link", name=re.compile("外部ログイン$")).first.click()
        row = admin.locator("tr", has_text="まなび市 SAML")
        row.get_by_role("button", name="設定をテスト").click()
        expect(admin.get_by_test_id("check-report")).to_have_attribute("data-ok", "true")
        expect(admin.get_by_test_id("check-report")).to_contain_text(idp.entity_id)
    finally:
        admin_context.close()
    found = re.fullmatch(rf"{re.escape(demo_server.base_url)}/accounts/saml/([^/]+)/acs/", acs_url)
    assert found is not None, acs_url
    slug = found.group(1)
    assert entity_id == f"{demo_server.base_url}/accounts/saml/{slug}/metadata/"
    idp.add_sp(entity_id, acs_url)

    # A child taps the board's button and signs in on the IdP's own page.
    child = context.new_page()
    child.goto("/accounts/login/")
    assert_accessible(child)
    child.get_by_test_id(f"idp-{slug}").click()
    expect(child).to_have_url(re.compile(rf"^{re.escape(idp.sso_url)}\?"))
    child.locator("#username").fill("hina")
    child.locator("#password").fill(IDP_PASSWORD)
    child.locator("#idp-sign-in").click()

    expect(child).to_have_url(demo_server.url("/"))
    expect(child.get_by_test_id("who")).not_to_be_empty()
    expect(child.locator("main")).to_contain_text("5年2組")
    child.screenshot(path=artifacts_dir / "saml-student-home.png", full_page=True)

    who = child.get_by_test_id("who").inner_text().strip()

    tool = open_tile(context, child, "tile-drill", "drill")
    expect(tool.get_by_test_id("launch-info")).to_contain_text("5年2組")
    expect(tool.get_by_test_id("name")).to_have_text(who)  # the drill receives names

    # The same child signed in with the roster password is the same person.
    check_context = browser.new_context(
        base_url=demo_server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
    )
    try:
        check = check_context.new_page()
        sign_in_ok(check, demo_server, "sakura-5-2-01")
        assert check.get_by_test_id("who").inner_text().strip() == who
    finally:
        check_context.close()
    assert [issued["mode"] for issued in idp.responses()] == ["normal"]
