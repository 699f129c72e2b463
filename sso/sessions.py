"""Database sessions with the load on every request written as one plain SELECT.

Identical to ``django.contrib.sessions.backends.db`` (same table, same rows, same expiry and
invalidation: logging out deletes the row, so no worker can keep a stale copy) except that the
lookup every request makes skips the ORM, which spends ~10× SQLite's time building it
(docs/benchmarks.md, launch flow). Use with ``SESSION_ENGINE = "sso.sessions"``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

_LOAD_SQL = (
    f"SELECT session_data FROM {Session._meta.db_table} "  # noqa: S608  (no input in the text)
    "WHERE session_key = %s AND expire_date > %s"
)


class SessionStore(DBStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if not key:
            self._session_key = None
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                _LOAD_SQL, [key, connection.ops.adapt_datetimefield_value(timezone.now())]
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=row[0])
