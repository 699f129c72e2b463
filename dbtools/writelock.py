"""Queue SQLite writers instead of letting them poll.

SQLite has one writer at a time. A writer that finds the database locked sleeps in SQLite's
busy handler (1, 2, 5 … 100 ms between attempts), so under load the lock sits idle while
writers sleep and the slowest requests wait for hundreds of milliseconds
(docs/benchmarks.md, "LTI Advantage services"). Taking a thread lock and an exclusive
``flock`` on a file beside the database before ``BEGIN IMMEDIATE`` makes writers wait in
line instead. Other databases (PostgreSQL) need nothing: this is a no-op there.

The wait in line counts against the busy timeout (``dbtools.busy``): a writer that reaches the
front after waiting gets only the rest of it as SQLite's busy timeout for its own transaction,
and one that cannot get the thread lock within it raises ``DatabaseBusy``. When something
outside the queue holds the database (a command, a non-queued write, another program), each
queued writer fails about one busy timeout after it arrived, not one more per writer ahead.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator

from django.db import connection

from .busy import DatabaseBusy, busy_timeout

_thread_lock = threading.Lock()
_held = threading.local()  # .depth: how deep this thread is in serialized_writes blocks
_files: dict[str, int] = {}
_clock = time.monotonic  # a seam for tests
_SLACK = 0.05  # seconds of queue wait not worth a PRAGMA


def _lock_fd(path: str) -> int:
    fd = _files.get(path)
    if fd is None:
        fd = os.open(path + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)
        _files[path] = fd
    return fd


@contextlib.contextmanager
def serialized_writes() -> Iterator[None]:
    """Hold around a short write transaction on SQLite; do nothing on other databases.

    Re-entrant in a thread: an action that composes others (each holding it around its own
    ``atomic()``) holds it once around the whole transaction, and the inner ones pass through.
    """
    name = str(connection.settings_dict.get("NAME", ""))
    if connection.vendor != "sqlite" or not name or name.startswith((":memory:", "file:")):
        yield
        return
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth = depth
        return
    budget = busy_timeout()
    deadline = _clock() + budget
    if not _thread_lock.acquire(timeout=budget):
        raise DatabaseBusy(f"database is locked: the writer queue was busy for {budget:g} s")
    try:
        fd = _lock_fd(name)
        # Blocking: the writer ahead holds the lock for one short transaction, its own wait
        # bounded by its own budget.
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            remaining = deadline - _clock()
            if remaining < budget - _SLACK:
                _set_busy_timeout(max(0.0, remaining))
            _held.depth = 1
            try:
                yield
            finally:
                _held.depth = 0
                if remaining < budget - _SLACK:
                    with contextlib.suppress(sqlite3.Error):  # keep the error being raised
                        _set_busy_timeout(budget)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


def _set_busy_timeout(seconds: float) -> None:
    """SQLite's busy timeout of this thread's connection (``PRAGMA busy_timeout``, in ms)."""
    connection.ensure_connection()
    raw = connection.connection
    if raw is not None:
        raw.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
