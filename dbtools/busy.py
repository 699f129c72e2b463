"""A busy database: how long a request waits for it, and how to tell that error from others.

SQLite has one writer at a time; a writer that finds the database locked waits up to the busy
timeout (``DATABASES["default"]["OPTIONS"]["timeout"]``, ``MANABI_DB_BUSY_TIMEOUT``) and then
fails with "database is locked". The writer queue (``writelock.serialized_writes``) counts its
own wait against the same budget, so a request waits at most about that long in total, however
many writers are ahead of it. The request is then answered 503 with ``Retry-After`` in its
endpoint's format (``config.errors``), and its transaction has written nothing.

PostgreSQL's equivalents count as busy too: ``lock_timeout`` (55P03 lock_not_available), a
serialization failure (40001) and a deadlock (40P01).
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import OperationalError

DEFAULT_TIMEOUT = 5.0  # seconds: Python's sqlite3 default too
SQLITE_BUSY = 5  # sqlite3_errcode primary codes (the extended codes keep them in the low byte)
SQLITE_LOCKED = 6
POSTGRES_BUSY = frozenset({"55P03", "40001", "40P01"})


class DatabaseBusy(OperationalError):
    """The writer queue was not free within the busy timeout (nothing was written)."""


def busy_timeout(alias: str = DEFAULT_DB_ALIAS) -> float:
    """The configured wait for a locked database, in seconds."""
    options: dict[str, Any] = connections[alias].settings_dict.get("OPTIONS") or {}
    return float(options.get("timeout", DEFAULT_TIMEOUT))


def retry_after(alias: str = DEFAULT_DB_ALIAS) -> int:
    """Seconds a client is asked to wait before retrying (``Retry-After``): the busy timeout,
    rounded up, at least 1."""
    return max(1, math.ceil(busy_timeout(alias)))


def is_busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it was raised from) says the database was too busy to answer:
    locked past the busy timeout, not a broken query or a lost connection."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DatabaseBusy):
            return True
        if isinstance(exc, sqlite3.OperationalError):
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
            return str(exc).startswith(("database is locked", "database table is locked"))
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)  # psycopg 3, 2
        if isinstance(state, str):
            return state in POSTGRES_BUSY
        exc = exc.__cause__  # Django's wrapper raises from the driver's error
    return False
