"""The portal as an OpenID Connect provider, in Chromium against the demo server: the board
administrator registers a tool that only offers "Sign in with …" (its pages checked by
axe-core), a child of the chosen school signs in to it through the portal, and the tool — a
real relying party (Authlib, on a callback server of its own) — exchanges the code and
validates the ID token against the portal's JWKS. A child of the other school goes back to
the tool with access_denied; a redirect URI not registered is the refusal page.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import BrowserContext, Page, expect

from tests import serving

from .conftest import DemoServer
from .test_accessibility import assert_accessible
from .test_launch_browser import sign_in_ok

pytestmark = pytest.mark.e2e

ROSTER_CLAIM = "urn:manabi-hub:claims:roster"


class _Callback(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = "<!doctype html><html lang='ja'><title>tool</title><main>ok</main></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tool_callback() -> Iterator[str]:
    """The tool's redirect URI: a server on a free loopback port that answers a page."""
    server = HTTPServer(("127.0.0.1", serving.free_port()), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/callback"
    server.shutdown()
    server.server_close()


def register_tool(page: Page, demo_server: DemoServer, redirect_uri: str) -> tuple[str, str]:
    sign_in_ok(page, demo_server, "manabi-board-admin")
    page.goto("/school")
    page.get_by_test_id("oidc-clients-link").first.click()
    expect(page).to_have_url(re.compile(r"/oidc-clients$"))
    assert_accessible(page)
    form = page.get_by_test_id("new-client-form")
    form.get_by_label("ツールの名前").fill("ひらがなドリル（OIDC）")
    form.locator("textarea[name=redirect_uris]").fill(redirect_uri)
    form.get_by_label("氏名（漢字とかな）を送ります").check()
    form.get_by_label("まなび市立さくら小学校", exact=True).check()
    form.get_by_role("button", name="登録してシークレットを発行する").click()
    expect(page.get_by_test_id("issued")).to_be_visible()
    assert_accessible(page)
    client_id = page.get_by_test_id("client-id").inner_text()
    secret = page.get_by_test_id("secret").inner_text()
    page.goto(page.url)  # the list again: the tool without its secret, and its settings page
    row = page.locator(f'tr[data-client="{client_id}"]')
    expect(row).to_contain_text("ひらがなドリル（OIDC）")
    assert secret not in page.content()
    row.get_by_role("link").click()
    expect(page.get_by_test_id("edit-client-form")).to_be_visible()
    assert_accessible(page)
    return client_id, secret


def test_a_board_registers_a_tool_and_a_child_signs_in_to_it(
    context: BrowserContext, demo_server: DemoServer, tool_callback: str
) -> None:
    client_id, secret = register_tool(context.new_page(), demo_server, tool_callback)
    context.clear_cookies()  # the administrator leaves; a child takes the tablet

    issuer = demo_server.url("/oidc")
    metadata = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == issuer
    oauth = OAuth2Session(
        client_id,
        secret,
        scope="openid profile email",
        redirect_uri=tool_callback,
        code_challenge_method="S256",
    )
    verifier, nonce = generate_token(48), generate_token(20)
    url, _state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    child = context.new_page()
    sign_in_ok(child, demo_server, "sakura-5-2-01")
    child.goto(url)
    expect(child).to_have_url(re.compile(re.escape(tool_callback) + r"\?code="))
    token = oauth.fetch_token(
        metadata["token_endpoint"], authorization_response=child.url, code_verifier=verifier
    )
    jwks = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"essential": True, "value": issuer}},
        params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=30)
    assert claims["aud"] == client_id
    assert claims["name"] and claims["name#ja-Hira"]  # the level "name": kanji and kana
    assert "email" not in claims
    assert claims[ROSTER_CLAIM]["school"]["name"] == "まなび市立さくら小学校"
    assert claims[ROSTER_CLAIM]["role"] == "student"
    assert claims[ROSTER_CLAIM]["grade"] == "P5"

    # A child of the other school, on the same tool: back to the tool with access_denied.
    context.clear_cookies()
    sign_in_ok(child, demo_server, "midori-1-a-01")
    refused_url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=generate_token(48), nonce="n"
    )
    child.goto(refused_url)
    expect(child).to_have_url(re.compile(re.escape(tool_callback) + r"\?error=access_denied"))
    assert parse_qs(urlsplit(child.url).query) == {
        "error": ["access_denied"],
        "error_description": ["the board has not opened this client to the user's school"],
        "state": [state],
    }

    # A redirect URI the board did not register: the portal's page, read by axe too.
    child.goto(refused_url.replace("%2Fcallback", "%2Fother"))
    expect(child.get_by_test_id("oidc-error")).to_be_visible()
    assert_accessible(child)
