"""Serve the real product from child processes: the stack ``scripts/demo.sh`` starts.

``migrate`` and ``seed_demo`` run as ``manage.py`` commands, the server is ``scripts/serve.sh``
(uvicorn, ``config.settings.base``), each on a free loopback port, in a data directory of the
caller's. Used by the browser tests (``e2e/conftest.py``) and the multi-process tests
(``tests/multiprocess/conftest.py``); the tests talk to these servers over HTTP only.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Upper bounds only: each wait ends as soon as its condition holds. Measured on two cores kept
# busy by other work: a server answered after 11 s, seed_demo (password hashing) took 83 s.
STARTUP_TIMEOUT = 60.0  # seconds for a server to answer
PROBE_TIMEOUT = 10.0  # seconds for one answer (a cold first request can take several)
MANAGE_TIMEOUT = 300.0  # seconds for migrate / seed_demo


@dataclass(frozen=True)
class ServerProcess:
    """One running server: where it answers, its data directory and environment, its log."""

    base_url: str
    port: int
    data_dir: Path
    env: dict[str, str]
    log_path: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def new_secret_key() -> str:
    return "test-" + secrets.token_urlsafe(40)


def server_env(data_dir: Path, *, issuer: str, bind: str, secret_key: str) -> dict[str, str]:
    """The environment of scripts/demo.sh, isolated from whatever the caller has set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MANABI_") and key not in {"DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        MANABI_DATA_DIR=str(data_dir),
        MANABI_LTI_ISSUER=issuer,
        MANABI_SECRET_KEY=secret_key,
        MANABI_ALLOWED_HOSTS="127.0.0.1,localhost",
        MANABI_BIND=bind,
        # A page of this server (not only of the issuer) may open its websockets: the
        # multi-process tests serve one issuer from two ports.
        MANABI_ALLOWED_ORIGINS=f"http://{bind}",
        MANABI_WORKERS="2",
        MANABI_THREADS="4",
        MANABI_ACCESS_LOG=str(data_dir / "access.log"),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(args: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run ``manage.py`` with ``env``; fail the test (with its output) if it fails."""
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(  # noqa: S603 - our own fixed command line
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=MANAGE_TIMEOUT,
        check=False,
    )
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def start(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``scripts/serve.sh`` (exactly what scripts/demo.sh serves with) with ``env``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            ["bash", "scripts/serve.sh"],  # noqa: S607 - bash from PATH, as demo.sh does
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(process: subprocess.Popen[bytes], server: ServerProcess) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{server.log_tail()}", pytrace=False
            )
        try:
            with opener.open(server.url("/accounts/login/"), timeout=PROBE_TIMEOUT) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"the server did not answer within {STARTUP_TIMEOUT:.0f}s:\n{server.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server we started."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful shutdown
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
