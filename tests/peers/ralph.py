"""Ralph, a real open LRS, as a test peer: started per test in a venv of its own.

``scripts/bootstrap.sh dev`` installs ``ralph-malph[lrs,cli]==5.1.0`` into ``.peers/ralph-venv``
(Ralph pins its own fastapi, uvicorn and pydantic, so it stays out of ``.venv``). ``RalphLRS``
runs Ralph's LRS app (``ralph.api:app``) under uvicorn on a free loopback port with the
file-system backend in a throw-away directory and a Basic-auth users file written by Ralph's own
``ralph auth`` command. Startup takes about 1 s, so the ``ralph_lrs`` fixture is per test.

One fix is applied to Ralph when it starts, and only that one: its file-system LRS backend writes
with the data backend's default operation type, ``create``, which refuses an existing file, so
stock Ralph 5.1.0 answers 500 to every write after the first (the first creates
``fs_lrs.jsonl``). The launcher sets that default to ``append``; everything Ralph answers is
otherwise its own code. ``append_fix=False`` starts stock Ralph (a test documents the 500).

``stored_statements()`` reads the backend's ``fs_lrs.jsonl`` rather than ``GET /xAPI/statements``:
the file is what Ralph stored, line by line, so a statement stored twice shows up twice (what
the "none twice" checks need), it can be read while the LRS is stopped (the outage tests), and
it does not depend on Ralph's paging (at most 100 per page, a ``more`` link with
``pit_id=None`` and an empty last page when the count is a multiple of the limit; see
``statements_via_api()`` and its test).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.serving import PROBE_TIMEOUT, REPO_ROOT, STARTUP_TIMEOUT, free_port

RALPH_VENV = REPO_ROOT / ".peers" / "ralph-venv"
RALPH_PYTHON = RALPH_VENV / "bin" / "python"
RALPH_CLI = RALPH_VENV / "bin" / "ralph"
XAPI_VERSION = "1.0.3"
STOP_TIMEOUT = 10.0  # seconds for uvicorn's graceful shutdown before SIGKILL
STATEMENTS_FILE = "fs_lrs.jsonl"  # the FS LRS backend's DEFAULT_LRS_FILE

_AUTH_FILES: dict[tuple[str, str, str], bytes] = {}  # (user, password, home page) -> auth.json

# Ralph's LRS under uvicorn, with the FS backend's append fix unless "stock" (the demo's too).
LAUNCHER = REPO_ROOT / "scripts" / "ralph_lrs.py"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer from Ralph: status, headers (lower-case names) and raw body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RalphLRS:
    """A Ralph LRS process on ``127.0.0.1:port`` storing into ``work_dir/statements``."""

    work_dir: Path
    port: int
    username: str = "manabi-forwarder"
    password: str = "ralph-test-password"
    agent_home_page: str = "https://lrs.test"  # the user's agent: an account IFI
    append_fix: bool = True
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """The xAPI endpoint base: ``{base_url}/statements`` is the Statement resource."""
        return f"http://127.0.0.1:{self.port}/xAPI"

    @property
    def statements_dir(self) -> Path:
        return self.work_dir / "statements"

    @property
    def statements_file(self) -> Path:
        return self.statements_dir / STATEMENTS_FILE

    @property
    def log_path(self) -> Path:
        return self.work_dir / "ralph.log"

    @property
    def auth_file(self) -> Path:
        return self.work_dir / "auth.json"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def env(self) -> dict[str, str]:
        """Ralph's settings (``ralph/conf.py``, prefix ``RALPH_``), nothing from the caller's."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("RALPH_")
            and key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            RALPH_APP_DIR=str(self.work_dir / "app"),
            RALPH_AUTH_FILE=str(self.auth_file),
            RALPH_HISTORY_FILE=str(self.work_dir / "history.json"),
            RALPH_RUNSERVER_BACKEND="fs",
            RALPH_RUNSERVER_AUTH_BACKENDS="basic",
            RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH=str(self.statements_dir),
            # Defaults, stated: any valid user reads and writes every statement.
            RALPH_LRS_RESTRICT_BY_AUTHORITY="false",
            RALPH_LRS_RESTRICT_BY_SCOPES="false",
            RALPH_LRS_PARTIAL_SUCCESS_DEFAULT="false",
            PYTHONUNBUFFERED="1",
        )
        return env

    def write_auth_file(self) -> None:
        """Create the Basic-auth users file (bcrypt hash) with Ralph's ``ralph auth``, once per
        process for the same user (the command takes ~1.5 s, longer than Ralph's startup)."""
        key = (self.username, self.password, self.agent_home_page)
        if key not in _AUTH_FILES:
            self._run_ralph_auth()
            _AUTH_FILES[key] = self.auth_file.read_bytes()
        self.auth_file.write_bytes(_AUTH_FILES[key])

    def _run_ralph_auth(self) -> None:
        command = [
            str(RALPH_CLI),
            "auth",
            "--username",
            self.username,
            "--password",
            self.password,
            "--scope",
            "statements/write",
            "--scope",
            "statements/read",
            "--agent-ifi-account",
            self.username,
            self.agent_home_page,
            "--write-to-disk",
        ]
        result = subprocess.run(  # noqa: S603 - our own fixed command line
            command,
            cwd=self.work_dir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0 or not self.auth_file.is_file():
            pytest.fail(
                f"ralph auth exited with {result.returncode}:\n{result.stdout}{result.stderr}",
                pytrace=False,
            )

    def start(self) -> None:
        """Start Ralph (again, on the same port and store) and wait until it answers."""
        if self.running:
            return
        if not RALPH_PYTHON.is_file():
            pytest.fail(f"{RALPH_PYTHON} is missing: run scripts/bootstrap.sh dev", pytrace=False)
        self.statements_dir.mkdir(parents=True, exist_ok=True)
        if not self.auth_file.is_file():
            self.write_auth_file()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [
                    str(RALPH_PYTHON),
                    str(LAUNCHER),
                    str(self.port),
                    "append" if self.append_fix else "stock",
                ],
                cwd=self.work_dir,  # Ralph also reads a ".env" from its working directory
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed whole by stop()
            )
        self._wait_until_up()

    def stop(self) -> None:
        """Stop Ralph (SIGTERM to its process group, SIGKILL after ``STOP_TIMEOUT``)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def wipe(self) -> None:
        """Forget every stored statement (Ralph reads the file on every request)."""
        self.statements_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no Ralph log)"
        return "\n".join(text.splitlines()[-lines:])

    def stored_statements(self) -> list[dict[str, Any]]:
        """Every statement Ralph stored, in the order stored, duplicates included."""
        try:
            text = self.statements_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def statements_via_api(self, limit: int = 100) -> list[dict[str, Any]]:
        """Every statement as ``GET /xAPI/statements`` pages them, following ``more``."""
        statements: list[dict[str, Any]] = []
        path = f"/statements?limit={limit}"
        while True:
            answer = self.request("GET", path)
            assert answer.status == 200, (answer.status, answer.body)
            page = answer.json()
            statements.extend(page["statements"])
            more = page.get("more")
            if not more:
                return statements
            assert more.startswith("/xAPI/"), more
            path = more.removeprefix("/xAPI")

    def authorization(self, password: str | None = None) -> str:
        pair = f"{self.username}:{self.password if password is None else password}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str | None] | None = None,
        timeout: float = PROBE_TIMEOUT,
    ) -> Answer:
        """One request to ``base_url + path``: JSON ``body`` (or raw bytes), our credentials
        and ``X-Experience-API-Version: 1.0.3`` unless ``headers`` replaces (or, with None,
        removes) them."""
        all_headers: dict[str, str | None] = {
            "Authorization": self.authorization(),
            "X-Experience-API-Version": XAPI_VERSION,
        }
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL of ours
            self.base_url + path,
            data=data,
            method=method,
            headers={name: value for name, value in all_headers.items() if value is not None},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return Answer(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers), error.read())

    def _wait_until_up(self) -> None:
        assert self._process is not None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = f"http://127.0.0.1:{self.port}/__heartbeat__"  # checks the backend, no auth
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self._process.poll() is not None:
                pytest.fail(
                    f"Ralph exited with {self._process.returncode}:\n{self.log_tail()}",
                    pytrace=False,
                )
            try:
                with opener.open(url, timeout=PROBE_TIMEOUT) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"Ralph did not answer within {STARTUP_TIMEOUT:.0f}s:\n{self.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.05)


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def start_ralph(work_dir: Path, *, append_fix: bool = True) -> RalphLRS:
    """A running Ralph on a free port; the caller stops it."""
    lrs = RalphLRS(work_dir=work_dir, port=free_port(), append_fix=append_fix)
    lrs.start()
    return lrs


@pytest.fixture
def ralph_lrs() -> Iterator[RalphLRS]:
    """A fresh Ralph LRS (empty store) for one test, stopped after it."""
    with tempfile.TemporaryDirectory(prefix="manabi-ralph-") as tmp:
        lrs = start_ralph(Path(tmp))
        try:
            yield lrs
        finally:
            lrs.stop()
