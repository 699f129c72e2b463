"""Queue SQLite writers instead of letting them poll.

SQLite has one writer at a time. A writer that finds the database locked sleeps in SQLite's
busy handler (1, 2, 5 … 100 ms between attempts), so under load the lock sits idle while
writers sleep and the slowest requests wait for hundreds of milliseconds
(docs/benchmarks.md, "LTI Advantage services"). Taking a thread lock and an exclusive
``flock`` on a file beside the database before ``BEGIN IMMEDIATE`` makes writers wait in
line instead. Other databases (PostgreSQL) need nothing: this is a no-op there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db import connection

_thread_lock = threading.Lock()
_files: dict[str, int] = {}


def _lock_fd(path: str) -> int:
    fd = _files.get(path)
    if fd is None:
        fd = os.open(path + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)
        _files[path] = fd
    return fd


@contextlib.contextmanager
def serialized_writes() -> Iterator[None]:
    """Hold around a short write transaction on SQLite; do nothing on other databases."""
    name = str(connection.settings_dict.get("NAME", ""))
    if connection.vendor != "sqlite" or not name or name.startswith((":memory:", "file:")):
        yield
        return
    with _thread_lock:
        fd = _lock_fd(name)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
