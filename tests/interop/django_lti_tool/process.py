"""Run the django-lti tool as its own server process (``runserver`` on a free loopback port,
its own SQLite database and secret in a data directory of the caller's).

Used by the interoperability test (``tests/interop/test_django_lti_dynamic_registration.py``)
and the browser test (``e2e/test_vendor_registration_browser.py``). The tool serves on
``127.0.0.1`` like the portal; its session cookie has its own name (settings), so the two do not
overwrite each other's in a browser, which keeps cookies per host, not per port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path

import requests

from tests.serving import REPO_ROOT, free_port, new_secret_key, stop

SETTINGS = "tests.interop.django_lti_tool.settings"
STARTUP_TIMEOUT = 60.0  # seconds for the tool to answer (an upper bound: two busy cores)
TOOL_NAME = "django-lti ドリル"  # the client_name it registers with


def _django(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "django", *args, f"--settings={SETTINGS}"]


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """Migrate the tool's database in ``data_dir``, serve the tool; yield its base URL."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_LTI_TOOL_DATA=str(data_dir), DJANGO_LTI_TOOL_SECRET=new_secret_key())
    env["PYTHONPATH"] = str(REPO_ROOT)
    subprocess.run(  # noqa: S603 - our own fixed command line
        _django(["migrate", "--verbosity=0"]), cwd=REPO_ROOT, env=env, check=True
    )
    port = free_port()
    log_path = data_dir / "tool.log"
    log = log_path.open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        _django(["runserver", f"127.0.0.1:{port}", "--noreload"]),
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                if requests.get(base + "/jwks/", timeout=5).status_code == HTTPStatus.OK:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text(
                errors="replace"
            )
            time.sleep(0.2)
        yield base
    finally:
        stop(process)
        log.close()
