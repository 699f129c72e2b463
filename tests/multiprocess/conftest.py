"""Two real server processes on one database: what several workers behind one address see.

``two_servers`` starts two ``scripts/serve.sh`` processes (uvicorn, ``config.settings.base``)
on two free loopback ports, sharing one throw-away data directory (one SQLite file, one secret
key, the demo's keys and tool config). Both use the first server's URL as the issuer, as workers
behind one public address would. The demo (``migrate`` + ``seed_demo``, ~15 s of password
hashing) is built once per session and copied for each test, so every test starts from the
same database; the demo tools are then re-registered for that test's ports.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests import serving

_REGISTER_DEMO_TOOLS = (
    "from django.conf import settings; from demo_tools.setup import register_demo_tools; "
    "register_demo_tools(settings.LTI_ISSUER, settings.LTI_ISSUER)"
)


class DemoTemplate(NamedTuple):
    data_dir: Path
    secret_key: str


class TwoServers(NamedTuple):
    a: serving.ServerProcess
    b: serving.ServerProcess


@pytest.fixture(scope="session")
def demo_template() -> Iterator[DemoTemplate]:
    """A data directory with the migrated demo database, built once per session."""
    with tempfile.TemporaryDirectory(prefix="manabi-mp-template-") as tmp:
        data_dir = Path(tmp)
        secret_key = serving.new_secret_key()
        env = serving.server_env(
            data_dir, issuer="http://127.0.0.1:9", bind="127.0.0.1:9", secret_key=secret_key
        )
        log_path = data_dir / "manage.log"
        serving.manage(["migrate", "-v", "0"], env, log_path)
        serving.manage(["seed_demo"], env, log_path)
        yield DemoTemplate(data_dir=data_dir, secret_key=secret_key)


@pytest.fixture
def two_servers(demo_template: DemoTemplate) -> Iterator[TwoServers]:
    """Two server processes on one fresh copy of the demo database; yields ``(a, b)``."""
    with tempfile.TemporaryDirectory(prefix="manabi-mp-") as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(demo_template.data_dir, data_dir)
        ports = [serving.free_port(), serving.free_port()]
        while ports[1] == ports[0]:
            ports[1] = serving.free_port()
        issuer = f"http://127.0.0.1:{ports[0]}"
        servers = []
        for name, port in zip("ab", ports, strict=True):
            bind = f"127.0.0.1:{port}"
            env = serving.server_env(
                data_dir, issuer=issuer, bind=bind, secret_key=demo_template.secret_key
            )
            servers.append(
                serving.ServerProcess(
                    base_url=f"http://{bind}",
                    port=port,
                    data_dir=data_dir,
                    env=env,
                    log_path=data_dir / f"server-{name}.log",
                )
            )
        serving.manage(
            ["shell", "-c", _REGISTER_DEMO_TOOLS], servers[0].env, data_dir / "manage.log"
        )
        processes = []
        try:
            for server in servers:
                processes.append(serving.start(server.env, server.log_path))
            for process, server in zip(processes, servers, strict=True):
                serving.wait_until_up(process, server)
            yield TwoServers(a=servers[0], b=servers[1])
        finally:
            for process in processes:
                serving.stop(process)
