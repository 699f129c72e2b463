"""A minimal LTI 1.3 tool on another site than the portal, served by the test process.

The portal runs at ``http://127.0.0.1:<port>``; this tool answers at ``http://localhost:<port>``
— another site for the browser, so Chromium applies its SameSite rules to the requests
between them for real. It does what a vendor's tool does, without cookies of its own (its
state and nonce live in this object): login initiation, the authentication request — by GET
(a redirect) or by POST (an auto-submitting form, OIDC Core §3.1.2.1) —, and the launch,
whose id_token it verifies against the portal's JWKS (signature, issuer, audience, nonce)
before redirecting to its "app" at another origin (``http://127.0.0.1:<tool port>/done``).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import requests

HOST = "localhost"  # the portal is on 127.0.0.1: a different site
JWKS_TIMEOUT = 10  # seconds for the portal's JWKS


@dataclass
class CrossSiteTool:
    """The tool's configuration and what it saw; ``mode`` is "get" or "post"."""

    issuer: str
    port: int = 0
    client_id: str = ""
    mode: str = "post"
    pending: dict[str, str] = field(default_factory=dict)  # state -> nonce
    launches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def login_page(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Login initiation: answer the authentication request, by GET or by POST."""
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.pending[state] = nonce
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": self.client_id,
            "redirect_uri": self.base_url + "/launch",
            "login_hint": query.get("login_hint", ""),
            "lti_message_hint": query.get("lti_message_hint", ""),
            "nonce": nonce,
            "state": state,
        }
        authorize = self.issuer + "/lti/authorize"
        if self.mode == "get":
            return HTTPStatus.FOUND, {"Location": f"{authorize}?{urlencode(params)}"}, ""
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        page = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>login</title></head><body>'
            f'<form method="post" action="{html.escape(authorize)}">{inputs}</form>'
            "<script>document.forms[0].submit()</script></body></html>"
        )
        return HTTPStatus.OK, {}, page

    def launch_page(self, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """The redirect URI: verify the id_token and show who launched."""
        nonce = self.pending.pop(form.get("state", ""), None)
        if "error" in form or nonce is None:
            body = f'<p data-testid="tool-error">{html.escape(json.dumps(form))}</p>'
            return HTTPStatus.BAD_REQUEST, {}, body
        session = requests.Session()
        session.trust_env = False  # loopback: no proxy
        jwks = session.get(self.issuer + "/lti/jwks", timeout=JWKS_TIMEOUT).json()
        kid = jwt.get_unverified_header(form["id_token"])["kid"]
        key = jwt.PyJWKSet.from_dict(jwks)[kid]
        claims = jwt.decode(
            form["id_token"], key, algorithms=["RS256"], audience=self.client_id,
            issuer=self.issuer,
        )  # fmt: skip
        if claims["nonce"] != nonce:
            return HTTPStatus.BAD_REQUEST, {}, '<p data-testid="tool-error">nonce</p>'
        self.launches.append(claims)
        # On to the tool's "app" at another origin (the same server as 127.0.0.1), as some
        # vendors' launch URLs do: the launch form's CSP must not refuse this redirect.
        done = f"http://127.0.0.1:{self.port}/done?launch={len(self.launches) - 1}"
        return HTTPStatus.SEE_OTHER, {"Location": done}, ""

    def done_page(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        claims = self.launches[int(query.get("launch", "-1"))]
        context = claims["https://purl.imsglobal.org/spec/lti/claim/context"]
        body = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>tool</title></head><body>'
            f'<p data-testid="launched">{html.escape(context["title"])}</p></body></html>'
        )
        return HTTPStatus.OK, {}, body


def _handler(tool: CrossSiteTool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/login":
                self._answer(*tool.login_page(dict(parse_qsl(url.query))))
            elif url.path == "/done":
                self._answer(*tool.done_page(dict(parse_qsl(url.query))))
            else:
                self._answer(HTTPStatus.NOT_FOUND, {}, "not found")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if urlsplit(self.path).path == "/launch":
                self._answer(*tool.launch_page(form))
            else:
                self._answer(HTTPStatus.NOT_FOUND, {}, "not found")

        def _answer(self, status: int, headers: dict[str, str], body: str) -> None:
            data = body.encode()
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


ToolT = TypeVar("ToolT", bound=CrossSiteTool)


@contextmanager
def serve(tool: ToolT) -> Iterator[ToolT]:
    """Serve ``tool`` on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(tool))
    tool.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tool
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
