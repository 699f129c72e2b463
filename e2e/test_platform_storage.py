# ruff: noqa: E501  (the tool pages' scripts read best one statement a line)
"""Platform storage in real Chromium with third-party cookies blocked.

An ``iframe`` assignment opens inside the portal (``/classes/<class>/assignments/<pk>/open``);
the tool, on another site (``localhost``; the portal is on ``127.0.0.1``), gets
``lti_storage_target=_parent`` at its login initiation, keeps its state and nonce in the
portal page through ``lti.put_data`` instead of cookies, and reads them back with
``lti.get_data`` at the launch. A frame of an origin the tool did not register gets an error,
never the data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlencode

import jwt
import pytest
import requests
from playwright.sync_api import Browser, Playwright, expect

from tests import serving

from .conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, DemoServer
from .cross_site_tool import JWKS_TIMEOUT, CrossSiteTool, serve
from .test_launch_browser import sign_in_ok

pytestmark = pytest.mark.e2e

# The tool's side of the postMessage API: one request, its answer by message_id (or null
# after a second: tools give up when nobody answers).
TOOL_JS = """
function ask(target, message) {
  return new Promise((resolve) => {
    const id = "m" + Math.random().toString(36).slice(2);
    const timer = setTimeout(() => resolve(null), 1000);
    window.addEventListener("message", function on(event) {
      if (!event.data || event.data.message_id !== id) return;
      clearTimeout(timer); window.removeEventListener("message", on); resolve(event.data);
    });
    target.postMessage(Object.assign({message_id: id}, message), "*");
  });
}
"""


@dataclass
class StorageTool(CrossSiteTool):
    """The cross-site tool, keeping state and nonce in platform storage, not in itself."""

    mode: str = "get"
    storage_targets: list[str] = field(default_factory=list)

    def login_page(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        status, headers, body = super().login_page(query)
        target = query.get("lti_storage_target")
        self.storage_targets.append(target or "")
        if target != "_parent":
            return status, headers, body
        location = headers["Location"]
        state = dict(p.split("=", 1) for p in location.split("?", 1)[1].split("&"))["state"]
        nonce = self.pending.pop(state)  # forgotten here: only the platform keeps it
        script = TOOL_JS + (
            "(async () => {"
            " const caps = await ask(window.parent, {subject: 'lti.capabilities'});"
            " if (!caps || !caps.supported_messages) { document.body.textContent = 'no storage'; return; }"
            f" await ask(window.parent, {{subject: 'lti.put_data', key: 'state', value: {json.dumps(state)}}});"
            f" await ask(window.parent, {{subject: 'lti.put_data', key: 'nonce_' + {json.dumps(state)}, value: {json.dumps(nonce)}}});"
            f" location.href = {json.dumps(location)};"
            "})();"
        )  # fmt: skip
        return (
            HTTPStatus.OK,
            {},
            f"<!DOCTYPE html><html><body><script>{script}</script></body></html>",
        )

    def launch_page(self, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        if "id_token" not in form:
            return HTTPStatus.BAD_REQUEST, {}, '<p data-testid="tool-error">no id_token</p>'
        session = requests.Session()
        session.trust_env = False
        jwks = session.get(self.issuer + "/lti/jwks", timeout=JWKS_TIMEOUT).json()
        kid = jwt.get_unverified_header(form["id_token"])["kid"]
        claims = jwt.decode(
            form["id_token"], jwt.PyJWKSet.from_dict(jwks)[kid], algorithms=["RS256"],
            audience=self.client_id, issuer=self.issuer,
        )  # fmt: skip
        self.launches.append(claims)
        state, nonce = json.dumps(form.get("state", "")), json.dumps(claims["nonce"])
        rogue = f"http://127.0.0.1:{self.port}/done?" + urlencode({"rogue": "1"})
        script = TOOL_JS + (
            "(async () => {"
            " const s = await ask(window.parent, {subject: 'lti.get_data', key: 'state'});"
            f" const n = await ask(window.parent, {{subject: 'lti.get_data', key: 'nonce_' + {state}}});"
            f" const ok = s && s.value === {state} && n && n.value === {nonce};"
            " document.getElementById('result').textContent = ok ? 'state ok, nonce ok' : JSON.stringify([s, n]);"
            "})();"
        )  # fmt: skip
        body = (
            '<!DOCTYPE html><html><body><p data-testid="storage-result" id="result">…</p>'
            f'<iframe src="{rogue}"></iframe><script>{script}</script></body></html>'
        )
        return HTTPStatus.OK, {}, body

    def done_page(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """A page of an origin the tool did not register, framed by the tool's launch page:
        it asks the portal page for the tool's state."""
        script = TOOL_JS + (
            "(async () => {"
            " const r = await ask(window.top, {subject: 'lti.get_data', key: 'state'});"
            " document.getElementById('rogue').textContent = JSON.stringify(r);"
            "})();"
        )
        body = (
            f'<!DOCTYPE html><html><body><p id="rogue">…</p><script>{script}</script></body></html>'
        )
        return HTTPStatus.OK, {}, body


@pytest.fixture(scope="module")
def no_third_party_cookies(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with third-party cookies blocked (the phase-out as a test switch)."""
    browser = playwright.chromium.launch(
        headless=True,
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    yield browser
    browser.close()


def _manage(server: DemoServer, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=serving.REPO_ROOT, env=server.env, capture_output=True, text=True,
        timeout=serving.MANAGE_TIMEOUT, check=True,
    ).stdout  # fmt: skip


CREATE_ASSIGNMENT = """
from assignments.models import Assignment, ItemType, Target
from tools_registry.models import Placement
p = Placement.objects.get(deployment__deployment_id="storage-1")
a = Assignment.objects.create(school_class=p.school_class, deployment=p.deployment,
    item_type=ItemType.LTI_RESOURCE_LINK, title="ほぞんテスト", target=Target.IFRAME)
print(a.pk, p.school_class.sourced_id)
"""


@pytest.fixture(scope="module")
def storage_tool(demo_server: DemoServer) -> Iterator[tuple[StorageTool, str]]:
    """The tool registered for 1年1組 with one ``iframe`` assignment; yields it and the
    assignment's page path."""
    with serve(StorageTool(issuer=demo_server.base_url)) as tool:
        spec = {
            "tool": {"slug": "storage", "name": "ほぞんテスト", "kind": "other", "icon": "💾"},
            "registration": {
                "initiate_login_uri": tool.base_url + "/login",
                "redirect_uris": [tool.base_url + "/launch"],
                "target_link_uri": tool.base_url + "/launch",
                "jwks_url": tool.base_url + "/jwks",
                "allowed_services": [],
                "privacy_level": "id_only",
            },
            "deployments": [
                {
                    "deployment_id": "storage-1",
                    "org": "132993",
                    "placements": [{"school": "B113210000010", "class": "1-1", "title": "保存"}],
                }
            ],
        }
        path = demo_server.data_dir / "storage-tool.json"
        path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        tool.client_id = json.loads(_manage(demo_server, "register_tool", str(path)))["client_id"]
        pk, class_id = _manage(demo_server, "shell", "-c", CREATE_ASSIGNMENT).split()[-2:]
        yield tool, f"/classes/{class_id}/assignments/{pk}/open"


def test_a_tool_in_an_iframe_keeps_its_state_in_platform_storage_without_cookies(
    no_third_party_cookies: Browser,
    demo_server: DemoServer,
    storage_tool: tuple[StorageTool, str],
) -> None:
    tool, page_path = storage_tool
    context = no_third_party_cookies.new_context(
        base_url=demo_server.base_url, locale="ja-JP", viewport=VIEWPORT
    )
    page = context.new_page()
    sign_in_ok(page, demo_server, "sakura-1-1-05")
    link = page.get_by_test_id("assignment").filter(has_text="ほぞんテスト").locator("a")
    expect(link).to_have_attribute("href", page_path)
    expect(link).not_to_have_attribute("target", "_blank")
    link.click()
    frame = page.frame_locator('[data-testid="assignment-frame"]')
    expect(frame.get_by_test_id("storage-result")).to_have_text("state ok, nonce ok")
    assert tool.storage_targets[-1:] == ["_parent"]
    assert tool.launches[-1]["aud"] == tool.client_id
    rogue = frame.frame_locator("iframe").locator("#rogue")
    expect(rogue).to_contain_text("unauthorized")
    reply = json.loads(rogue.text_content() or "null")
    assert reply["error"] == {"code": "unauthorized", "message": "origin not allowed"}
    assert "value" not in reply
    frame_src = page.evaluate("document.querySelector('iframe').dataset.allowedOrigins")
    assert frame_src == tool.base_url
    context.close()
