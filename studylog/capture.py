"""Statements from the portal's events, written in the event's own transaction.

``events.publish`` calls :func:`capture` ("in_transaction" subscriber ``xapi-capture`` in
``EVENT_SUBSCRIBERS``) inside the business write's transaction: the statement row and one
forwarding row per active LRS of the board commit or roll back with the launch, the score or
the assignment. Event payloads carry what the statement needs that the publisher has in hand
(the e-portal UUID, the launch's jti); the rest — class, school, board, tool, privacy level —
comes from a small per-process cache of rows that rarely change.

What a statement carries (docs/xapi.md): never a person's name or e-mail; at the privacy level
``id_only`` not the titles of the class and the school either, only their ids.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from events.models import Event
from roster.models import Org, OrgType, SchoolClass
from tools_registry import grants
from tools_registry.models import Deployment, PrivacyLevel

from .models import Forwarding, LrsEndpoint, Origin, Statement
from .xapi import statements as xs
from .xapi import vocab
from .xapi.agents import ifi_key

CACHE_SECONDS = 30.0  # class, school, board and deployment rows: titles and links change rarely

LAUNCH_MADE = "launch.made"
SCORE_RECORDED = "score.recorded"
ASSIGNMENT_CREATED = "assignment.created"
KINDS = (LAUNCH_MADE, SCORE_RECORDED, ASSIGNMENT_CREATED)


@dataclass(frozen=True)
class Where:
    """A class with its school and board, and the statement's context activities for them."""

    class_pk: int
    school_pk: int
    board_pk: int | None
    grouping: tuple[xs.Activity, ...]
    grouping_without_titles: tuple[xs.Activity, ...]
    grades: tuple[str, ...]
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class ToolInfo:
    tool_pk: int
    registration_pk: int
    activity: xs.Activity
    privacy_level: str


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int], tuple[float, Any]] = {}

    def get(self, kind: str, pk: int, load: Any) -> Any:
        key = (kind, pk)
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load(pk)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (now + CACHE_SECONDS, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cache = _Cache()


def activity_iri(kind: str, key: object) -> str:
    return f"{settings.LTI_ISSUER}/xapi/activities/{kind}/{key}"


def _board_of(school: Org) -> Org | None:
    seen = 0
    org: Org | None = school.parent
    while org is not None and seen < 8:
        if org.type == OrgType.DISTRICT:
            return org
        org, seen = org.parent, seen + 1
    return None


def _load_where(class_pk: int) -> Where:
    school_class = SchoolClass.objects.select_related("school__parent").get(pk=class_pk)
    school = school_class.school
    board = _board_of(school)
    klass = xs.Activity(
        activity_iri("class", school_class.sourced_id),
        vocab.TYPE_CLASS,
        {"ja": school_class.title},
    )
    school_activity = xs.Activity(
        activity_iri("school", school.sourced_id), vocab.TYPE_SCHOOL, {"ja": school.name}
    )
    with_titles = [klass, school_activity]
    if board is not None:
        with_titles.append(
            xs.Activity(
                activity_iri("org", board.sourced_id), vocab.TYPE_SCHOOL, {"ja": board.name}
            )
        )
    return Where(
        class_pk=school_class.pk,
        school_pk=school.pk,
        board_pk=board.pk if board else None,
        grouping=tuple(with_titles),
        grouping_without_titles=tuple(xs.Activity(a.id, a.type) for a in with_titles),
        grades=tuple(str(g) for g in school_class.grades or ()),
        subjects=tuple(str(s) for s in school_class.subjects or ()),
    )


def _load_tool(deployment_pk: int) -> ToolInfo:
    deployment = Deployment.objects.select_related("registration__tool").get(pk=deployment_pk)
    tool = deployment.registration.tool
    return ToolInfo(
        tool_pk=tool.pk,
        registration_pk=deployment.registration.pk,
        activity=xs.Activity(activity_iri("tool", tool.slug), vocab.TYPE_TOOL, {"ja": tool.name}),
        privacy_level=grants.deployment_grant(deployment).privacy_level,
    )


def where(class_pk: int) -> Where:
    found: Where = cache.get("class", class_pk, _load_where)
    return found


def tool_info(deployment_pk: int) -> ToolInfo:
    found: ToolInfo = cache.get("deployment", deployment_pk, _load_tool)
    return found


def _context(
    place: Where,
    tool: ToolInfo,
    *,
    parent: tuple[xs.Activity, ...] = (),
    registration: uuid.UUID | None = None,
    grade: str = "",
    curriculum_codes: tuple[str, ...] = (),
) -> xs.Context:
    titles = tool.privacy_level != PrivacyLevel.ID_ONLY
    return xs.Context(
        grouping=(*(place.grouping if titles else place.grouping_without_titles), tool.activity),
        parent=parent,
        registration=registration,
        grade=grade or (place.grades[0] if len(place.grades) == 1 else ""),
        subjects=place.subjects,
        curriculum_codes=curriculum_codes,
        platform=settings.LTI_PLATFORM_NAME,
    )


def _assignment_activity(resource_link_id: str, title: str, titles: bool) -> xs.Activity:
    return xs.Activity(
        activity_iri("assignment", resource_link_id),
        vocab.TYPE_ASSIGNMENT,
        {"ja": title} if titles and title else {},
    )


def _moment(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _actor(eportal_uuid: str) -> dict[str, Any]:
    return xs.account_actor(settings.LTI_ISSUER, str(uuid.UUID(eportal_uuid)))


def launched(payload: dict[str, Any]) -> tuple[dict[str, Any], Where, ToolInfo, int]:
    place = where(int(payload["school_class_id"]))
    tool = tool_info(int(payload["deployment_pk"]))
    titles = tool.privacy_level != PrivacyLevel.ID_ONLY
    link = str(payload["resource_link_id"])
    launch = str(payload["launch_id"])
    if payload.get("assignment_title") is not None:
        target = _assignment_activity(link, str(payload["assignment_title"]), titles)
    else:
        name = str(payload.get("title") or "")
        target = xs.Activity(
            activity_iri("resource-link", link),
            vocab.TYPE_LINK,
            {"ja": name} if titles and name else {},
        )
    guid = settings.LTI_PLATFORM_GUID
    statement = xs.build(
        id=xs.statement_id(guid, f"launch/{launch}"),
        actor=_actor(payload["user_uuid"]),
        verb=vocab.LAUNCHED,
        object=target,
        timestamp=_moment(payload["timestamp"]),
        context=_context(
            place,
            tool,
            registration=xs.statement_id(guid, f"registration/{launch}"),
            grade=str(payload.get("grade") or ""),
            curriculum_codes=tuple(payload.get("curriculum_codes") or ()),
        ),
    )
    return statement, place, tool, int(payload["user_id"])


def _score_verb(payload: dict[str, Any]) -> vocab.Verb:
    graded = payload.get("grading_progress") == "FullyGraded"
    if graded and payload.get("score_given") is not None:
        return vocab.SCORED
    activity = payload.get("activity_progress")
    if activity in ("Completed", "Submitted"):
        return vocab.COMPLETED
    if activity == "InProgress":
        return vocab.PROGRESSED
    return vocab.ATTEMPTED


def scored(payload: dict[str, Any]) -> tuple[dict[str, Any], Where, ToolInfo, int]:
    place = where(int(payload["school_class_id"]))
    tool = tool_info(int(payload["deployment_pk"]))
    titles = tool.privacy_level != PrivacyLevel.ID_ONLY
    if payload.get("assignment_resource_link_id"):
        target = _assignment_activity(
            str(payload["assignment_resource_link_id"]), str(payload.get("label") or ""), titles
        )
    else:
        label = str(payload.get("label") or "")
        target = xs.Activity(
            activity_iri("line-item", payload["line_item_id"]),
            vocab.TYPE_LINE_ITEM,
            {"ja": label} if titles and label else {},
        )
    result: dict[str, Any] = {}
    given, maximum = payload.get("score_given"), payload.get("score_maximum")
    if given is not None and maximum is not None:
        result["score"] = xs.Score(float(given), float(maximum)).as_json()
    activity = payload.get("activity_progress")
    if activity in ("Completed", "Submitted"):
        result["completion"] = True
    statement = xs.build(
        id=xs.statement_id(settings.LTI_PLATFORM_GUID, f"ags-score/{payload['score_event_id']}"),
        actor=_actor(payload["user_uuid"]),
        verb=_score_verb(payload),
        object=target,
        timestamp=_moment(payload["timestamp"]),
        context=_context(
            place, tool, curriculum_codes=tuple(payload.get("curriculum_codes") or ())
        ),
        result=result or None,
    )
    return statement, place, tool, int(payload["user_id"])


def assigned(payload: dict[str, Any]) -> tuple[dict[str, Any], Where, ToolInfo, int]:
    place = where(int(payload["school_class_id"]))
    tool = tool_info(int(payload["deployment_pk"]))
    titles = tool.privacy_level != PrivacyLevel.ID_ONLY
    link = str(payload["resource_link_id"])
    statement = xs.build(
        id=xs.statement_id(settings.LTI_PLATFORM_GUID, f"assignment/{link}/assigned"),
        actor=_actor(payload["created_by_uuid"]),
        verb=vocab.ASSIGNED,
        object=_assignment_activity(link, str(payload.get("title") or ""), titles),
        timestamp=_moment(payload["timestamp"]),
        context=_context(
            place, tool, curriculum_codes=tuple(payload.get("curriculum_codes") or ())
        ),
    )
    return statement, place, tool, int(payload["created_by"])


_BUILDERS = {LAUNCH_MADE: launched, SCORE_RECORDED: scored, ASSIGNMENT_CREATED: assigned}

_STATEMENT_TABLE = Statement._meta.db_table
_ID_FIELD = Statement._meta.pk
_REGISTRATION_FIELD = Statement._meta.get_field("xapi_registration")


def _registration(statement: dict[str, Any]) -> uuid.UUID | None:
    value = (statement.get("context") or {}).get("registration")
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


_INSERT_STATEMENT = (
    f"INSERT INTO {_STATEMENT_TABLE} "  # noqa: S608  (no input in the text)
    '("id", "body", "origin", "verb", "object_id", "timestamp", "stored", "user_id", '
    '"school_class_id", "school_id", "board_id", "tool_id", "registration_id", "voided", '
    '"actor_key", "xapi_registration") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# One forwarding row per active LRS of the board, in one statement.
_INSERT_FORWARDINGS = (
    f"INSERT INTO {Forwarding._meta.db_table} "  # noqa: S608
    '("statement_id", "lrs_id", "state", "available_at", "claimed_by", "claim_token", '
    '"attempts", "last_error", "created_at") '
    f"SELECT %s, \"id\", 'pending', %s, '', '', 0, '', %s FROM {LrsEndpoint._meta.db_table} "
    'WHERE "board_id" = %s AND "active"'
)


def capture(event: Event) -> None:
    """Build the statement of ``event`` and write it, with its forwardings, in this
    transaction (the ``xapi-capture`` subscriber)."""
    builder = _BUILDERS.get(event.kind)
    if builder is None:
        return
    statement, place, tool, user_pk = builder(dict(event.payload))
    store(
        statement,
        body=xs.encode(statement),
        origin=Origin.PORTAL,
        user_pk=user_pk,
        place=place,
        tool_pk=tool.tool_pk,
        registration_pk=None,
        stored=event.occurred_at,
    )


def store(
    statement: dict[str, Any],
    *,
    body: bytes,
    origin: str,
    user_pk: int | None,
    place: Where | None,
    tool_pk: int | None,
    registration_pk: int | None,
    stored: datetime.datetime,
    board_pk: int | None = None,
    school_pk: int | None = None,
) -> None:
    """Insert one statement and its forwardings (hand-written: on the launch's hot path)."""
    ops = connection.ops
    moment = ops.adapt_datetimefield_value(stored)
    timestamp = ops.adapt_datetimefield_value(_moment(statement["timestamp"]))
    board = place.board_pk if place is not None else board_pk
    obj = statement.get("object") or {}
    values = [
        _ID_FIELD.get_db_prep_value(uuid.UUID(statement["id"]), connection),
        body,
        origin,
        statement["verb"]["id"],
        str(obj.get("id", ""))[:2000],
        timestamp,
        moment,
        user_pk,
        place.class_pk if place is not None else None,
        place.school_pk if place is not None else school_pk,
        board,
        tool_pk,
        registration_pk,
        False,
        ifi_key(statement.get("actor") or {})[:600],
        _REGISTRATION_FIELD.get_db_prep_value(_registration(statement), connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_STATEMENT, values)
        if board is not None:
            cursor.execute(_INSERT_FORWARDINGS, [values[0], moment, moment, board])
