"""A real OpenID Connect provider as a test peer: panva's certified ``oidc-provider`` on Node.

``scripts/bootstrap.sh dev`` installs the pinned ``tests/peers/oidc_idp/package-lock.json`` into
``.peers/oidc_idp/node_modules`` with ``npm ci``; ``tests/peers/oidc_idp/server.mjs`` is the
provider (discovery, JWKS, authorization with its own sign-in form, token, userinfo). The
test names the clients (the portal's redirect URIs) and the accounts with their claims
(``idp.set_accounts``: written to a JSON file the IdP reads at every sign-in).

``sign_in`` plays the browser over HTTP: it follows the portal's redirect to the IdP, submits
the IdP's sign-in form and returns the URL the IdP sends the browser back to (the portal's
callback with ``code`` and ``state``), without following it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html import unescape
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from tests.serving import PROBE_TIMEOUT, REPO_ROOT, STARTUP_TIMEOUT, free_port

NODE_MODULES = REPO_ROOT / ".peers" / "oidc_idp" / "node_modules"
SERVER_JS = REPO_ROOT / "tests" / "peers" / "oidc_idp" / "server.mjs"
STOP_TIMEOUT = 5.0
CLIENT_ID = "manabi-hub"
CLIENT_SECRET = "manabi-hub-test-secret"

_FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class OidcIdP:
    """An oidc-provider process on ``127.0.0.1:port`` with the clients and accounts given."""

    work_dir: Path
    port: int
    redirect_uris: list[str] = field(default_factory=list)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accounts_file(self) -> Path:
        return self.work_dir / "accounts.json"

    @property
    def log_path(self) -> Path:
        return self.work_dir / "oidc_idp.log"

    def start(self) -> None:
        if not (NODE_MODULES / "oidc-provider").is_dir():
            pytest.fail(f"{NODE_MODULES} has no oidc-provider: run scripts/bootstrap.sh dev")
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is missing: run scripts/bootstrap.sh dev", pytrace=False)
        if not self.accounts_file.exists():
            self.set_accounts({})
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "clients": [
                {
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": self.redirect_uris,
                }
            ],
            "accounts_file": str(self.accounts_file),
        }
        config_path = self.work_dir / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
        env["OIDC_IDP_NODE_MODULES"] = str(NODE_MODULES)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [node, str(SERVER_JS), str(config_path)],
                cwd=self.work_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_up()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no IdP log)"
        return "\n".join(text.splitlines()[-lines:])

    # --- what the tests ask of it ---------------------------------------------------------

    def set_accounts(self, accounts: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the accounts: ``{login: {"password": ..., "claims": {"sub": ..., ...}}}``."""
        text = json.dumps({name: dict(a) for name, a in accounts.items()}, ensure_ascii=False)
        tmp = self.accounts_file.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.accounts_file)

    def sign_in(self, authorize_url: str, login: str, password: str) -> str:
        """Sign in on the IdP's own form; return where the IdP sends the browser back."""
        jar = CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
        )
        url = authorize_url
        for _ in range(10):
            status, location, body = self._open(opener, url)
            if status in (302, 303) and location:
                location = urllib.parse.urljoin(url, location)
                if not location.startswith(self.issuer + "/"):
                    return location
                url = location
                continue
            action = _FORM_ACTION.search(body)
            assert status == 200 and action is not None, (status, body[:500])
            form = urllib.parse.urlencode({"login": login, "password": password}).encode()
            status, location, body = self._open(
                opener, urllib.parse.urljoin(url, unescape(action.group(1))), data=form
            )
            assert status in (302, 303) and location, (status, body[:500])
            url = urllib.parse.urljoin(url, location)
            if not url.startswith(self.issuer + "/"):
                return url
        pytest.fail("the IdP kept redirecting", pytrace=False)

    # --- plumbing -----------------------------------------------------------------------

    def _open(
        self, opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None
    ) -> tuple[int, str, str]:
        assert url.startswith(self.issuer + "/"), url
        request = urllib.request.Request(url, data=data)  # noqa: S310 - loopback, ours
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with opener.open(request, timeout=PROBE_TIMEOUT) as response:
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()

    def _wait_until_up(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        while True:
            if self._process.poll() is not None:
                pytest.fail(
                    f"the OIDC IdP exited with {self._process.returncode}:\n{self.log_tail()}",
                    pytrace=False,
                )
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(discovery, timeout=PROBE_TIMEOUT):
                    return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the OIDC IdP did not answer:\n{self.log_tail()}", pytrace=False)
            time.sleep(0.05)


def start_oidc_idp(
    redirect_uris: list[str],
    *,
    port: int | None = None,
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
    client: tuple[str, str] = (CLIENT_ID, CLIENT_SECRET),
) -> Iterator[OidcIdP]:
    """Start an IdP answering ``redirect_uris`` for ``client`` (id, secret), on ``port`` (else
    a free one), with ``accounts``; stop it and remove its files afterwards."""
    with tempfile.TemporaryDirectory(prefix="manabi-oidc-idp-") as tmp:
        idp = OidcIdP(
            work_dir=Path(tmp),
            port=port or free_port(),
            redirect_uris=redirect_uris,
            client_id=client[0],
            client_secret=client[1],
        )
        if accounts is not None:
            idp.set_accounts(accounts)
        idp.start()
        try:
            yield idp
        finally:
            idp.stop()
