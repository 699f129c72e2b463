"""A real SAML 2.0 IdP as a test peer: auth0's ``samlp`` run by Node on 127.0.0.1.

``scripts/bootstrap.sh dev`` installs the pinned ``tests/peers/saml_idp/package-lock.json`` into
``.peers/saml_idp/node_modules`` with ``npm ci``; ``tests/peers/saml_idp/server.js`` is the IdP
(its metadata, its own sign-in page, signed responses posted to the SP's ACS). ``SamlIdP``
writes its configuration — a fresh RSA key and self-signed certificate, the service providers
it answers (entity id -> ACS URL) and its users with their attributes — and starts it on a
free port.

For the negative tests the IdP makes its next response ``unsigned``, ``response_only`` (the
Response signed, not the assertion), ``altered`` (a value changed after signing),
``audience`` (for another SP), ``expired`` (an IdP clock hours behind) or ``recipient``
(Destination and Recipient elsewhere): ``idp.next_response(mode, ...)``. Every response it
issued is in ``idp.responses()``, so a test can replay one.

``sign_in`` plays the browser against it over HTTP: it follows the portal's redirect to the
IdP, submits the IdP's sign-in form and returns the SAMLResponse form it answered with.
"""

from __future__ import annotations

import datetime
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
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.serving import PROBE_TIMEOUT, REPO_ROOT, STARTUP_TIMEOUT, free_port

NODE_MODULES = REPO_ROOT / ".peers" / "saml_idp" / "node_modules"
SERVER_JS = REPO_ROOT / "tests" / "peers" / "saml_idp" / "server.js"
STOP_TIMEOUT = 5.0

_FORM_INPUT = re.compile(r'<input type="hidden" name="([A-Za-z]+)" value="([^"]*)">')
_FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)"')


@dataclass(frozen=True)
class SamlPost:
    """What the IdP's page posts to the SP: the ACS URL and the form's fields."""

    acs: str
    saml_response: str
    relay_state: str

    def form(self) -> dict[str, str]:
        return {"SAMLResponse": self.saml_response, "RelayState": self.relay_state}


def make_signing_pair(common_name: str) -> tuple[bytes, bytes]:
    """A fresh RSA-2048 key and a self-signed certificate valid for a day (PEM, PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class SamlIdP:
    """A samlp IdP process on ``127.0.0.1:port``; ``users`` and ``sps`` as the test sets them."""

    work_dir: Path
    port: int
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sps: dict[str, str] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _certificate: bytes = b""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/sso"

    @property
    def certificate_pem(self) -> str:
        return self._certificate.decode()

    @property
    def log_path(self) -> Path:
        return self.work_dir / "saml_idp.log"

    def start(self) -> None:
        if not (NODE_MODULES / "samlp").is_dir():
            pytest.fail(f"{NODE_MODULES} has no samlp: run scripts/bootstrap.sh dev", pytrace=False)
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is missing: run scripts/bootstrap.sh dev", pytrace=False)
        key_pem, self._certificate = make_signing_pair(f"Manabi test SAML IdP {self.port}")
        (self.work_dir / "idp.key").write_bytes(key_pem)
        (self.work_dir / "idp.crt").write_bytes(self._certificate)
        config = {
            "port": self.port,
            "issuer": self.entity_id,
            "cert": str(self.work_dir / "idp.crt"),
            "key": str(self.work_dir / "idp.key"),
            "sps": self.sps,
            "users": self.users,
        }
        config_path = self.work_dir / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
        env["NODE_PATH"] = str(NODE_MODULES)
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

    def add_sp(self, entity_id: str, acs_url: str) -> None:
        """Answer the service provider ``entity_id`` at its ACS URL from now on."""
        self.sps[entity_id] = acs_url
        self._call("PUT", "/_control/sps", self.sps)

    def set_users(self, users: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the IdP's users: ``{login: {"password", "nameid", "attributes"}}``."""
        self.users = {name: dict(user) for name, user in users.items()}
        self._call("PUT", "/_control/users", self.users)

    def next_response(self, mode: str, **options: Any) -> None:
        """Make the next response ``mode`` (see the module docstring), once."""
        self._call("POST", "/_control/next", {"mode": mode, **options})

    def responses(self) -> list[dict[str, str]]:
        """Every response issued so far: mode, acs, SAMLResponse, RelayState."""
        return json.loads(self._call("GET", "/_control/responses"))

    def metadata_xml(self) -> str:
        return self._call("GET", "/metadata").decode()

    def sign_in(self, redirect_url: str, username: str, password: str) -> SamlPost:
        """Follow the SP's redirect to the IdP, sign in on its page, return its POST form."""
        page = self._open(redirect_url).decode()
        fields = dict(_FORM_INPUT.findall(page))
        assert "SAMLRequest" in fields, page
        fields = {name: unescape(value) for name, value in fields.items()}
        fields.update(username=username, password=password)
        answer = self._open(
            self.sso_url, data=urllib.parse.urlencode(fields).encode(), form=True
        ).decode()
        action = _FORM_ACTION.search(answer)
        assert action is not None, answer
        posted = {name: unescape(value) for name, value in _FORM_INPUT.findall(answer)}
        return SamlPost(
            acs=unescape(action.group(1)),
            saml_response=posted["SAMLResponse"],
            relay_state=posted.get("RelayState", ""),
        )

    # --- plumbing -----------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL of ours
            self.base_url + path, data=data, method=method
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with _opener().open(request, timeout=PROBE_TIMEOUT) as response:
            return response.read()

    def _open(self, url: str, *, data: bytes | None = None, form: bool = False) -> bytes:
        assert url.startswith(self.base_url + "/"), url
        request = urllib.request.Request(url, data=data)  # noqa: S310 - loopback, ours
        if form:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with _opener().open(request, timeout=PROBE_TIMEOUT) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            pytest.fail(f"IdP answered {error.code}: {error.read()!r}", pytrace=False)

    def _wait_until_up(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self._process.poll() is not None:
                pytest.fail(
                    f"the SAML IdP exited with {self._process.returncode}:\n{self.log_tail()}",
                    pytrace=False,
                )
            try:
                with _opener().open(f"{self.base_url}/_health", timeout=PROBE_TIMEOUT):
                    return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the SAML IdP did not answer:\n{self.log_tail()}", pytrace=False)
            time.sleep(0.05)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_saml_idp(work_dir: Path, *, sps: Mapping[str, str] | None = None) -> SamlIdP:
    """A running IdP on a free port answering ``sps``; the caller stops it."""
    idp = SamlIdP(work_dir=work_dir, port=free_port(), sps=dict(sps or {}))
    idp.start()
    return idp


@pytest.fixture(scope="module")
def saml_idp() -> Iterator[SamlIdP]:
    """A SAML IdP for a test module (no SP, no users until the test adds them)."""
    with tempfile.TemporaryDirectory(prefix="manabi-saml-idp-") as tmp:
        idp = start_saml_idp(Path(tmp))
        try:
            yield idp
        finally:
            idp.stop()
