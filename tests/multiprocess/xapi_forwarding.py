"""Real ``manage.py run_xapi_forwarder`` processes on a data directory, and what they need.

Used by ``tests/multiprocess/test_xapi_forwarders.py`` and ``bench/xapi_forward.py``. The
functions marked (Django) run inside a ``manage.py`` process of the data directory (``call``);
the rest run in the caller, which reads the database with a read-only ``sqlite3`` connection
and never writes it.
"""

from __future__ import annotations

import json
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.serving import MANAGE_TIMEOUT, REPO_ROOT

BOARD = "132993"  # the demo board (Org type district)
STARTUP_TIMEOUT = 60.0  # seconds for a forwarder to print that it runs (Django's start-up)
STOP_TIMEOUT = 30.0  # seconds for a forwarder to record its batch and exit after SIGTERM
DATABASE = "manabi.sqlite3"  # in MANABI_DATA_DIR (config/settings/base.py)


# --- (Django) run in a manage.py process of the data directory -----------------------------


def add_lrs(url: str, username: str, password: str, **fields: Any) -> int:
    """(Django) An LRS for the demo board (``fields``: batch_size, timeouts, active)."""
    from roster.models import Org, OrgType
    from studylog import forwarder
    from studylog.models import LrsEndpoint

    lrs = LrsEndpoint(
        board=Org.objects.get(type=OrgType.DISTRICT, identifier=BOARD),
        name="まなび市 LRS",
        url=url,
        username=username,
        **fields,
    )
    forwarder.set_password(lrs, password)
    lrs.save()
    return int(lrs.pk)


def create_statements(
    count: int, per_transaction: int = 1000, actors: list[str] | None = None
) -> list[str]:
    """(Django) ``count`` "scored" statements of the demo board's students (or of those with
    the e-portal UUIDs ``actors``), built with ``studylog.xapi.statements`` and written by
    ``studylog.capture.store`` (statement and forwarding rows), ``per_transaction`` per
    transaction; return their ids in order."""
    import datetime

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from roster.models import User
    from studylog import capture
    from studylog.models import Origin
    from studylog.xapi import statements as xs
    from studylog.xapi import vocab

    students = list(
        User.objects.filter(
            role="student", home_class__isnull=False, home_class__school__parent__identifier=BOARD
        )
        .order_by("pk")
        .values_list("pk", "eportal_uuid", "home_class_id")
    )
    if actors is not None:
        students = [s for s in students if str(s[1]) in set(actors)]
    run = secrets.token_hex(4)  # ids differ from any earlier call's
    start = timezone.now()
    ids: list[str] = []
    for first in range(0, count, per_transaction):
        with transaction.atomic():
            for n in range(first, min(count, first + per_transaction)):
                user_pk, eportal_uuid, class_pk = students[n % len(students)]
                place = capture.where(class_pk)
                statement = xs.build(
                    id=xs.statement_id(settings.LTI_PLATFORM_GUID, f"test/{run}/{n}"),
                    actor=xs.account_actor(settings.LTI_ISSUER, str(eportal_uuid)),
                    verb=vocab.SCORED,
                    object=xs.Activity(
                        capture.activity_iri("line-item", f"{run}-{n // 40}"),
                        vocab.TYPE_LINE_ITEM,
                        {"ja": f"たしざん {n // 40}"},
                    ),
                    timestamp=start + datetime.timedelta(milliseconds=n),
                    context=xs.Context(grouping=place.grouping, platform="Manabi Hub"),
                    result={"score": xs.Score(float(n % 11), 10.0).as_json(), "completion": True},
                )
                capture.store(
                    statement,
                    body=xs.encode(statement),
                    origin=Origin.PORTAL,
                    user_pk=user_pk,
                    place=place,
                    tool_pk=None,
                    registration_pk=None,
                    stored=timezone.now(),
                )
                ids.append(statement["id"])
    return ids


_CALL = """
import importlib, json, pathlib
module, _, name = {target!r}.partition(":")
kwargs = json.loads(pathlib.Path({given!r}).read_text())
result = getattr(importlib.import_module(module), name)(**kwargs)
pathlib.Path({out!r}).write_text(json.dumps(result))
"""


def call(env: dict[str, str], log_path: Path, target: str, **kwargs: Any) -> Any:
    """Run ``target`` ("module:function", marked (Django)) in ``manage.py shell`` with ``env``;
    return what it returned. Raises ``RuntimeError`` with the output if it fails."""
    given = log_path.parent / f"call-{secrets.token_hex(4)}.json"
    out = given.with_suffix(".out.json")
    given.write_text(json.dumps(kwargs))  # a file: the arguments may exceed ARG_MAX
    script = _CALL.format(target=target, given=str(given), out=str(out))
    command = [sys.executable, "manage.py", "shell", "-c", script]
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
        log.write(f"$ manage.py shell: {target}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise RuntimeError(f"{target} exited with {result.returncode}:\n{result.stderr}")
    return json.loads(out.read_text())


# --- forwarder processes -------------------------------------------------------------------


@dataclass
class ForwarderProcess:
    """One ``manage.py run_xapi_forwarder --name NAME`` with its output in ``log_path``."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"

    def wait_running(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until it printed that it runs (its Django is set up, its loop starts)."""
        deadline = time.monotonic() + timeout
        while f"xAPI forwarder {self.name} running" not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"forwarder {self.name} exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"forwarder {self.name} did not start:\n{self.log()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no chance to record the batch in hand."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM (the batch in hand is recorded first); SIGKILL if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.process.returncode)


def start_forwarder(env: dict[str, str], work_dir: Path, name: str) -> ForwarderProcess:
    log_path = work_dir / f"forwarder-{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            [sys.executable, "manage.py", "run_xapi_forwarder", "--name", name],
            cwd=REPO_ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return ForwarderProcess(name, process, log_path)


# --- the database, read-only ---------------------------------------------------------------


def read(data_dir: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query on the data directory's database, opened read-only."""
    uri = f"file:{data_dir / DATABASE}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as db:
        return db.execute(sql, params).fetchall()


def states(data_dir: Path) -> dict[str, int]:
    """How many forwarding rows are in each state."""
    rows = read(data_dir, "SELECT state, COUNT(*) FROM studylog_forwarding GROUP BY state")
    return {str(state): int(n) for state, n in rows}


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` every 0.1 s until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def issue_tool_credentials(tool_slug: str) -> list[str]:
    """(Django) LRS endpoint credentials for a demo tool: [key, secret]."""
    from studylog.lrs.auth import issue_credential
    from tools_registry.models import Registration

    credential, secret = issue_credential(
        registration=Registration.objects.get(tool__slug=tool_slug), label="forwarder test"
    )
    return [credential.key, secret]


def students_seen_by(tool_slug: str) -> list[str]:
    """(Django) The e-portal UUIDs of the demo students a tool may send statements about."""
    from roster.models import User
    from studylog.lrs import access
    from studylog.xapi.errors import StatementInvalid
    from tools_registry.models import Registration

    registration = Registration.objects.get(tool__slug=tool_slug)
    seen = []
    for user in User.objects.filter(role="student").order_by("pk"):
        actor = {"account": {"homePage": "https://x", "name": str(user.eportal_uuid)}}
        try:
            access.actor_for(registration, actor)
        except StatementInvalid:
            continue
        seen.append(str(user.eportal_uuid))
    return seen
