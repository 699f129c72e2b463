"""Local queries of the study log, for the dashboards: by person, class, tool, verb and time.

Every filter is served by an index of ``Statement`` (person, class, tool or verb, each with the
time); results are newest first and bounded. Voided statements are left out. Callers decide
who may read what (a teacher their classes, a child their own) before they ask.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from .models import Statement

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Found:
    """One statement as the dashboards read it."""

    id: str
    verb: str
    object_id: str
    timestamp: datetime.datetime
    user_id: int | None
    school_class_id: int | None
    tool_id: int | None
    statement: dict[str, Any]


def statements(
    *,
    user_id: int | None = None,
    school_class_id: int | None = None,
    tool_id: int | None = None,
    verbs: Iterable[str] = (),
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    limit: int = 100,
) -> list[Found]:
    """Statements matching every given filter, newest first (at most ``limit``, ≤ 1000).

    At least one of ``user_id``, ``school_class_id``, ``tool_id`` or ``verbs`` is required:
    the study log is never scanned whole."""
    if user_id is None and school_class_id is None and tool_id is None and not verbs:
        raise ValueError("give a person, a class, a tool or verbs")
    rows: QuerySet[Statement] = Statement.objects.filter(voided=False)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if school_class_id is not None:
        rows = rows.filter(school_class_id=school_class_id)
    if tool_id is not None:
        rows = rows.filter(tool_id=tool_id)
    verbs = list(verbs)
    if verbs:
        rows = rows.filter(verb__in=verbs)
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    if until is not None:
        rows = rows.filter(timestamp__lt=until)
    limit = max(1, min(limit, MAX_LIMIT))
    return [
        Found(
            id=str(row.id),
            verb=row.verb,
            object_id=row.object_id,
            timestamp=row.timestamp,
            user_id=row.user_id,
            school_class_id=row.school_class_id,
            tool_id=row.tool_id,
            statement=json.loads(bytes(row.body)),
        )
        for row in rows.order_by("-timestamp", "-id")[:limit]
    ]
