"""The forwarder against a strict LRS: our own LRS endpoint, served by a second portal.

A strict LRS (the ADL LRS's behaviour) refuses a whole batch with 409 when one of its ids is
already stored. Ours does (``studylog/lrs/statements.py``), so a second Manabi Hub process —
its own data directory, a copy of the same demo, so that the same children exist there — is
the strict peer: the source portal's forwarder sends to its ``/xapi/`` with a demo tool's
credentials. Part of the statements is already there (posted before, as after a crash between
sending and recording), so batches come back 409: they are halved down to single statements,
the known ones read back and compared. At the end the strict LRS holds every statement exactly
once, with our content, and every forwarding row is delivered — none dead.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests import serving
from tests.multiprocess import xapi_forwarding as xf
from tests.multiprocess.conftest import DemoTemplate

STATEMENTS = 400
KNOWN_EVERY = 37  # every 37th statement is at the LRS before the forwarder starts
DELIVERY_TIMEOUT = 180.0  # an upper bound only


class Portal(NamedTuple):
    data_dir: Path
    env: dict[str, str]

    def call(self, target: str, **kwargs: object) -> object:
        return xf.call(self.env, self.data_dir / "manage.log", target, **kwargs)


def _portal(demo_template: DemoTemplate, root: Path, name: str, port: int) -> Portal:
    data_dir = root / name
    shutil.copytree(demo_template.data_dir, data_dir)
    env = serving.server_env(
        data_dir,
        issuer=f"http://127.0.0.1:{port}",
        bind=f"127.0.0.1:{port}",
        secret_key=demo_template.secret_key,
    )
    return Portal(data_dir, env)


@pytest.fixture
def portals(demo_template: DemoTemplate) -> Iterator[tuple[Portal, Portal, str]]:
    """(source, lrs, lrs_base_url): the LRS portal is serving."""
    with tempfile.TemporaryDirectory(prefix="manabi-strict-") as tmp:
        root = Path(tmp)
        lrs_port = serving.free_port()
        source = _portal(demo_template, root, "source", serving.free_port())
        lrs = _portal(demo_template, root, "lrs", lrs_port)
        server = serving.ServerProcess(
            base_url=f"http://127.0.0.1:{lrs_port}",
            port=lrs_port,
            data_dir=lrs.data_dir,
            env=lrs.env,
            log_path=lrs.data_dir / "server.log",
        )
        process = serving.start(lrs.env, server.log_path)
        try:
            serving.wait_until_up(process, server)
            yield source, lrs, server.url("/xapi/")
        finally:
            serving.stop(process)


def _post(url: str, key: str, secret: str, bodies: list[bytes]) -> int:
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL of ours
        url + "statements",
        data=b"[" + b",".join(bodies) + b"]",
        method="POST",
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return int(response.status)


def test_a_strict_lrs_ends_with_every_statement_once(
    portals: tuple[Portal, Portal, str],
) -> None:
    source, lrs, lrs_url = portals
    credentials = lrs.call(
        "tests.multiprocess.xapi_forwarding:issue_tool_credentials", tool_slug="demo-drill"
    )
    assert isinstance(credentials, list)
    key, secret = credentials
    actors = lrs.call("tests.multiprocess.xapi_forwarding:students_seen_by", tool_slug="demo-drill")
    assert isinstance(actors, list) and actors
    source.call(
        "tests.multiprocess.xapi_forwarding:add_lrs",
        url=lrs_url,
        username=key,
        password=secret,
        batch_size=100,
    )
    created = source.call(
        "tests.multiprocess.xapi_forwarding:create_statements", count=STATEMENTS, actors=actors
    )
    assert isinstance(created, list) and len(created) == STATEMENTS
    bodies = dict(xf.read(source.data_dir, "SELECT id, body FROM studylog_statement"))
    known = [bodies[i.replace("-", "")] for i in created[::KNOWN_EVERY]]
    assert _post(lrs_url, key, secret, known) == 200
    forwarder = xf.start_forwarder(
        {
            **source.env,
            "MANABI_XAPI_FORWARD_POLL_SECONDS": "0.1",
            "MANABI_XAPI_RETRY_SECONDS": "0.1",
        },
        source.data_dir,
        "strict",
    )
    try:
        delivered = xf.wait_until(
            lambda: xf.states(source.data_dir).get("delivered") == STATEMENTS, DELIVERY_TIMEOUT
        )
        assert delivered, (xf.states(source.data_dir), forwarder.log())
    finally:
        forwarder.stop()
    at_lrs = dict(xf.read(lrs.data_dir, "SELECT id, body FROM studylog_statement"))
    assert sorted(at_lrs) == sorted(i.replace("-", "") for i in created)  # each once (its key)
    for statement_id in created[:: KNOWN_EVERY // 3]:
        ours = json.loads(bodies[statement_id.replace("-", "")])
        theirs = json.loads(at_lrs[statement_id.replace("-", "")])
        assert {k: theirs[k] for k in ours} == ours
    statuses = dict(
        xf.read(
            source.data_dir,
            "SELECT last_status, COUNT(*) FROM studylog_forwarding GROUP BY last_status",
        )
    )
    # The known ones came back 409 and were read back; the rest went in with 200.
    assert statuses == {409: len(known), 200: STATEMENTS - len(known)}
