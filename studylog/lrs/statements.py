"""The Statement resource's services (xAPI 1.0.3 Communication §2.1): store, void, query.

Who sees what: a tool's credentials (``studylog.lrs.auth``) store statements about the people
of the classes where the tool is placed (``studylog.lrs.access``), with the tool's identity as
``authority``; **a tool reads back only the statements it stored itself** (its own authority):
every read, the ``voidedStatementId`` look-up and voiding are filtered by its registration, and
a statement of another tool answers 404 as if it did not exist. An id another tool stored is
still taken: storing it again answers 409.

Storing (POST a statement or an array, PUT one with ``statementId``) is all or nothing: every
statement is validated (``validate_statement``), checked for size, actor, attachments and
signature before anything is written; then, in one write transaction, a batch with an id
already stored is refused whole with 409 (strict, like the ADL LRS; the forwarder's tests use
this endpoint as the strict LRS), and otherwise each statement, its agent and activity links,
its attachments and its forwardings to the board's LRSs are inserted. The LRS gives an id to a
statement without one, sets a missing ``timestamp`` to ``stored``, replaces any ``authority``
the statement brought with the caller's (Communication §4.1: the LRS SHOULD* overwrite it) and
keeps ``body`` as the bytes forwarded: the normalised statement (contextActivities as arrays,
id and timestamp filled in), without ``stored`` and ``authority``.

Voiding (Data §2.3.2): a statement with verb ``http://adlnet.gov/expapi/verbs/voided`` voids
the statement its StatementRef names if that one is not itself a voiding statement, whichever
arrives first. A voided statement is then returned only by ``voidedStatementId``.

Queries return statements in ``stored`` order (then id; newest first unless ``ascending``),
``limit`` at a time (0 or more than :data:`MAX_LIMIT`: :data:`MAX_LIMIT`), with a signed
``more`` IRL for the rest; statements that target (by a StatementRef object) a matching
statement match too, up to :data:`REF_DEPTH` references deep (Communication §2.1.3, "Filter
Conditions for StatementRefs").
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from dbtools.writelock import serialized_writes

from ..conf import app_settings
from ..models import (
    Forwarding,
    LrsEndpoint,
    Origin,
    Statement,
    StatementAttachment,
    StatementLink,
)
from ..xapi import formats, multipart, stored
from ..xapi.agents import ifi_key
from ..xapi.errors import StatementInvalid
from ..xapi.signature import SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE, check_signature
from ..xapi.statements import encode, format_timestamp
from ..xapi.validation import VOIDED, normalise_context_activities, validate_statement
from .access import Actor, actor_for
from .auth import Caller
from .http import BadRequest, Conflict, NotFound, load_json

MAX_VERB = 500  # characters of a verb id (Statement.verb, an indexed column)
MAX_CONTENT_TYPE = 255  # characters of an attachment part's Content-Type
MAX_LIMIT = 500  # statements per page at most (and when the query says limit=0)
REF_DEPTH = 3  # how deep the StatementRef rule of queries follows references
MORE_SALT = "studylog.lrs.statements.more"
MORE_MAX_AGE = 24 * 3600  # seconds a ``more`` IRL stays valid
_PLACEHOLDER_TIMESTAMP = "0000-00-00T00:00:00.000Z"  # as long as format_timestamp's output

_now = timezone.now  # the clock (a seam for tests)

GET_PARAMETERS = frozenset(
    {
        "statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
        "related_activities", "related_agents", "since", "until", "limit", "format",
        "attachments", "ascending",
    }
)  # fmt: skip
SINGLE_PARAMETERS = frozenset({"statementId", "voidedStatementId", "attachments", "format"})
FORMATS = ("exact", "ids", "canonical")


# -- reading a request ---------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """A PUT or POST body: the parsed JSON and the attachment parts by (lower-case) sha2."""

    statements: Any
    parts: dict[str, multipart.Part] = field(default_factory=dict)


def read_payload(body: bytes, media_type: str, content_type_header: str) -> Payload:
    """The statements of an ``application/json`` or ``multipart/mixed`` body (the statements
    part first, then one part per attachment with ``X-Experience-API-Hash`` and
    ``Content-Transfer-Encoding: binary``)."""
    if media_type == "application/json":
        return Payload(load_json(body, "the body"))
    if media_type != "multipart/mixed":
        raise BadRequest(
            "statements are sent as application/json, or multipart/mixed with attachments; "
            f"got Content-Type {media_type or 'none'!r}"
        )
    parts = multipart.parse(body, content_type_header)
    if not parts:
        raise BadRequest("the multipart/mixed body has no part")
    if parts[0].content_type != "application/json":
        raise BadRequest(
            "the first part of a multipart/mixed body must be the application/json statements"
        )
    found: dict[str, multipart.Part] = {}
    for index, part in enumerate(parts[1:], start=1):
        sha2 = part.headers.get(multipart.HASH_HEADER, "").strip().lower()
        if not sha2:
            raise BadRequest(f"part {index} has no X-Experience-API-Hash header")
        if part.headers.get("content-transfer-encoding", "").strip().lower() != "binary":
            raise BadRequest(f"part {index} must have Content-Transfer-Encoding: binary")
        if len(part.content_type) > MAX_CONTENT_TYPE:
            raise BadRequest(
                f"part {index}: its Content-Type is longer than {MAX_CONTENT_TYPE} characters"
            )
        if not multipart.sha2_matches(part.content, sha2):
            raise BadRequest(
                f"part {index}: its content does not have the SHA-2 of its X-Experience-API-Hash"
            )
        found[sha2] = part
    return Payload(load_json(parts[0].content, "the statements part"), found)


def xapi_version(header: str) -> str:
    """The rules to validate by: xAPI 2.0.0 for a 2.0.x request, else 1.0.3."""
    return "2.0.0" if header.strip().startswith("2.") else "1.0.3"


# -- storing -------------------------------------------------------------------------------


@dataclass
class _Prepared:
    id: uuid.UUID
    statement: dict[str, Any]
    body: bytes
    actor: Actor
    voids: uuid.UUID | None
    ref_target: uuid.UUID | None
    links: set[tuple[str, str, bool]]
    attachments: dict[str, multipart.Part]
    needs_timestamp: bool


def _at(exc: StatementInvalid, index: int) -> StatementInvalid:
    """The reason of statement ``index`` of a batch: ``[2].actor: ...``."""
    if exc.path:
        return StatementInvalid(f"[{index}].{exc.reason}", f"[{index}].{exc.path}")
    return StatementInvalid(f"[{index}]{exc.reason[len('statement') :]}", f"[{index}]")


def _check_attachments(
    statement: Mapping[str, Any], parts: Mapping[str, multipart.Part], used: set[str]
) -> dict[str, multipart.Part]:
    mine: dict[str, multipart.Part] = {}
    for index, attachment in enumerate(statement.get("attachments", ())):
        path = f"attachments[{index}]"
        sha2 = str(attachment["sha2"]).lower()
        part = parts.get(sha2)
        signature = attachment["usageType"] == SIGNATURE_USAGE
        if signature and attachment["contentType"] != SIGNATURE_CONTENT_TYPE:
            raise StatementInvalid(
                f"{path}.contentType: a signature attachment must be "
                f"{SIGNATURE_CONTENT_TYPE!r}, got {attachment['contentType']!r}",
                f"{path}.contentType",
            )
        if part is None and ("fileUrl" not in attachment or signature):
            raise StatementInvalid(
                f"{path}: has no fileUrl and no multipart/mixed part carries its data "
                f"(a part with X-Experience-API-Hash: {sha2})",
                path,
            )
        if part is None:
            continue
        used.add(sha2)
        mine[sha2] = part
        if signature:
            check_signature(statement, part.content, path)
    return mine


def _prepare(
    raw: object,
    *,
    caller: Caller,
    version: str,
    parts: Mapping[str, multipart.Part],
    used: set[str],
) -> _Prepared:
    validate_statement(raw, version=version)
    assert isinstance(raw, dict)  # noqa: S101  (validate_statement checked it)
    statement = {
        k: v
        for k, v in normalise_context_activities(raw).items()
        if k not in ("stored", "authority")
    }
    if "id" in statement:
        statement_id = uuid.UUID(statement["id"])
        statement["id"] = str(statement_id)
    else:
        statement_id = uuid.uuid4()
        statement = {"id": str(statement_id), **statement}
    needs_timestamp = "timestamp" not in statement
    if needs_timestamp:
        statement["timestamp"] = _PLACEHOLDER_TIMESTAMP
    body = encode(statement)
    limit = app_settings.max_statement_bytes
    if len(body) > limit:
        raise StatementInvalid(
            f"statement: is {len(body)} bytes, larger than this LRS accepts ({limit} bytes)", ""
        )
    verb_id = statement["verb"]["id"]
    if len(verb_id) > MAX_VERB:
        raise StatementInvalid(
            f"verb.id: is {len(verb_id)} characters long; this LRS stores verb ids of up to "
            f"{MAX_VERB}",
            "verb.id",
        )
    if not needs_timestamp:
        _moment(statement["timestamp"], "timestamp")
    actor = actor_for(caller.registration, statement["actor"])
    attachments = _check_attachments(raw, parts, used)
    links = stored.links(statement, caller.authority)
    if any("\x00" in key for _, key, _ in links):
        raise StatementInvalid(
            "statement: names an agent whose account name contains a NUL character, which "
            "this LRS cannot store",
            "",
        )
    obj = statement["object"]
    ref = uuid.UUID(obj["id"]) if obj.get("objectType") == "StatementRef" else None
    return _Prepared(
        id=statement_id,
        statement=statement,
        body=body,
        actor=actor,
        voids=ref if statement["verb"]["id"] == VOIDED else None,
        ref_target=ref,
        links=links,
        attachments=attachments,
        needs_timestamp=needs_timestamp,
    )


def prepare(payload: Payload, *, caller: Caller, version: str) -> list[_Prepared]:
    """Check every statement of ``payload`` (StatementInvalid, 400, on the first problem)."""
    batch = isinstance(payload.statements, list)
    raws = payload.statements if batch else [payload.statements]
    used: set[str] = set()
    prepared: list[_Prepared] = []
    seen: dict[uuid.UUID, int] = {}
    for index, raw in enumerate(raws):
        try:
            item = _prepare(raw, caller=caller, version=version, parts=payload.parts, used=used)
        except StatementInvalid as exc:
            raise (_at(exc, index) if batch else exc) from None
        if item.id in seen:
            raise StatementInvalid(
                f"[{index}].id: repeats the id of [{seen[item.id]}] "
                "(the statements of a batch need distinct ids)",
                f"[{index}].id",
            )
        seen[item.id] = index
        prepared.append(item)
    for sha2 in payload.parts.keys() - used:
        raise BadRequest(
            f"the part with X-Experience-API-Hash {sha2} is not an attachment of any statement"
        )
    return prepared


def _stored_now() -> datetime.datetime:
    """Now, to the millisecond (``stored`` is returned with milliseconds; ``since`` compares
    against what was returned)."""
    now = _now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_TABLE = Statement._meta.db_table
_UUID = Statement._meta.pk
_INSERT_STATEMENT = (
    f"INSERT INTO {_TABLE} "  # noqa: S608  (no input in the text)
    '("id", "body", "origin", "verb", "object_id", "timestamp", "stored", "user_id", '
    '"school_class_id", "school_id", "board_id", "tool_id", "registration_id", "voided", '
    '"actor_key", "xapi_registration", "ref_target") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_LINK = (
    f"INSERT INTO {StatementLink._meta.db_table} "  # noqa: S608
    '("statement_id", "kind", "key", "related") VALUES (%s, %s, %s, %s)'
)
_INSERT_FORWARDING = (
    f"INSERT INTO {Forwarding._meta.db_table} "  # noqa: S608
    '("statement_id", "lrs_id", "state", "available_at", "claimed_by", "claim_token", '
    '"attempts", "last_error", "created_at") '
    "VALUES (%s, %s, 'pending', %s, '', '', 0, '', %s)"
)


def _moment(value: str, path: str) -> datetime.datetime:
    """The moment of a valid timestamp, in UTC (a leap second ``:60`` read as ``:59.999``,
    which is what a datetime column can hold); StatementInvalid when it is outside the years
    1–9999 once in UTC (``0001-01-01T00:00:00+01:00``)."""
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    leap = re.match(r"(.{13}:[0-9]{2}):60(?:[.,][0-9]+)?", text)
    if leap:
        text = leap.group(1) + ":59.999999" + text[leap.end() :]
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise StatementInvalid(f"{path}: {value!r} cannot be read as a time", path) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError as exc:
        raise StatementInvalid(
            f"{path}: {value!r} is outside the years 1 to 9999 in UTC, which this LRS stores",
            path,
        ) from exc


def _object_column(obj: Mapping[str, Any], ref: uuid.UUID | None) -> str:
    """``object_id``: an Activity's IRI, a StatementRef's id, "" for an Agent or a Group."""
    if ref is not None:
        return str(ref)
    if obj.get("objectType", "Activity") == "Activity":
        return str(obj["id"])[:2000]
    return ""


def _insert(prepared: Sequence[_Prepared], caller: Caller, moment: datetime.datetime) -> None:
    ops = connection.ops
    at = ops.adapt_datetimefield_value(moment)
    registration = caller.registration
    ids = [p.id for p in prepared]
    voiding_targets = {p.voids for p in prepared if p.voids is not None}
    batch_voided = {p.id for p in prepared if p.voids is None and p.id in voiding_targets}
    # Voiding statements that arrived before the statements they void. By ref_target alone,
    # so that SQLite uses its index (with registration it may scan the tool's statements).
    later_voided = {
        target
        for target, owner, verb in Statement.objects.filter(ref_target__in=ids).values_list(
            "ref_target", "registration_id", "verb"
        )
        if owner == registration.pk and verb == VOIDED
    }
    boards = {p.actor.place.board_pk for p in prepared} - {None}
    lrs_of: dict[int, list[int]] = {}
    for lrs_pk, board_pk in LrsEndpoint.objects.filter(
        board_id__in=boards, active=True
    ).values_list("pk", "board_id"):
        lrs_of.setdefault(board_pk, []).append(lrs_pk)
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    forwardings: list[tuple[Any, ...]] = []
    for p in prepared:
        if p.needs_timestamp:
            p.statement["timestamp"] = format_timestamp(moment)
            p.body = encode(p.statement)
        pk = _UUID.get_db_prep_value(p.id, connection)
        obj = p.statement["object"]
        context = p.statement.get("context") or {}
        registration_uuid = context.get("registration")
        place = p.actor.place
        rows.append(
            (
                pk,
                p.body,
                Origin.TOOL,
                p.statement["verb"]["id"],
                _object_column(obj, p.ref_target),
                ops.adapt_datetimefield_value(_moment(p.statement["timestamp"], "timestamp")),
                at,
                p.actor.user_pk,
                place.class_pk,
                place.school_pk,
                place.board_pk,
                registration.tool_id,
                registration.pk,
                p.voids is None and (p.id in batch_voided or p.id in later_voided),
                ifi_key(p.statement["actor"])[:600],
                _UUID.get_db_prep_value(uuid.UUID(registration_uuid), connection)
                if registration_uuid
                else None,
                _UUID.get_db_prep_value(p.ref_target, connection) if p.ref_target else None,
            )
        )
        links.extend(
            (pk, kind, stored.link_key(key), related) for kind, key, related in sorted(p.links)
        )
        forwardings.extend((pk, lrs, at, at) for lrs in lrs_of.get(place.board_pk or 0, ()))
    with connection.cursor() as cursor:
        cursor.executemany(_INSERT_STATEMENT, rows)
        if links:
            cursor.executemany(_INSERT_LINK, links)
        if forwardings:
            cursor.executemany(_INSERT_FORWARDING, forwardings)
    attachments = [
        StatementAttachment(
            statement_id=p.id, sha2=sha2, content_type=part.content_type, content=part.content
        )
        for p in prepared
        for sha2, part in p.attachments.items()
    ]
    if attachments:
        StatementAttachment.objects.bulk_create(attachments)
    targets = voiding_targets - set(ids)
    if targets:
        Statement.objects.filter(registration=registration, pk__in=targets).exclude(
            verb=VOIDED
        ).update(voided=True)


def store_statements(payload: Payload, *, caller: Caller, version: str) -> list[uuid.UUID]:
    """POST: store a statement or a batch, all or nothing; return the ids in order.

    400 (StatementInvalid or BadRequest) for any invalid statement or part; 409 when any id is
    already stored (nothing is stored)."""
    prepared = prepare(payload, caller=caller, version=version)
    if not prepared:
        return []
    ids = [p.id for p in prepared]
    with serialized_writes(), transaction.atomic():
        known = sorted(
            str(pk) for pk in Statement.objects.filter(pk__in=ids).values_list("pk", flat=True)
        )
        if known:
            raise Conflict(
                f"already stored: {', '.join(known)}; a batch with a stored id is refused "
                "whole, nothing was stored"
            )
        _insert(prepared, caller, _stored_now())
    return ids


def put_statement(
    statement_id: uuid.UUID, payload: Payload, *, caller: Caller, version: str
) -> bool:
    """PUT ``statementId``: store one statement; True when stored, False when the same
    statement was already stored (204 either way); 409 when a different one was."""
    if not isinstance(payload.statements, dict):
        raise BadRequest("PUT takes one statement (a JSON object), not an array")
    raw = payload.statements
    given = raw.get("id")
    if isinstance(given, str) and formats.is_uuid(given) and uuid.UUID(given) != statement_id:
        raise BadRequest(f"id: {given} is not the statementId parameter ({statement_id})")
    received = raw if "id" in raw else {**raw, "id": str(statement_id)}
    (item,) = prepare(Payload(received, payload.parts), caller=caller, version=version)
    received = {**received, "id": str(statement_id)}
    with serialized_writes(), transaction.atomic():
        existing = (
            Statement.objects.filter(pk=statement_id).values_list("registration_id", "body").first()
        )
        if existing is None:
            _insert([item], caller, _stored_now())
            return True
    owner, body = existing
    if owner == caller.registration.pk and stored.same_statement(json.loads(bytes(body)), received):
        return False
    raise Conflict(f"a different statement with id {statement_id} is already stored")


# -- reading -------------------------------------------------------------------------------


def _boolean(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, got {value!r}")
    return value == "true"


def uuid_param(params: Mapping[str, str], name: str) -> uuid.UUID:
    value = params[name]
    if not formats.is_uuid(value):
        raise BadRequest(f"{name} must be a UUID, got {value!r}")
    return uuid.UUID(value)


def _timestamp_param(params: Mapping[str, str], name: str) -> datetime.datetime:
    value = params[name]
    problem = formats.timestamp_problem(value)
    if problem is not None:
        raise BadRequest(f"{name}: {problem}")
    try:
        return _moment(value, name)
    except StatementInvalid as exc:
        raise BadRequest(exc.reason) from exc


def _agent_param(value: str) -> str:
    agent = load_json(
        value, "agent", subject="agent", invalid="must be an Agent or identified Group as JSON"
    )
    probe = {
        "actor": agent,
        "verb": {"id": VOIDED},
        "object": {"objectType": "StatementRef", "id": str(uuid.UUID(int=0))},
    }
    try:
        validate_statement(probe)
    except StatementInvalid as exc:
        raise BadRequest("agent" + exc.reason[len("actor") :]) from exc
    key = ifi_key(agent)
    if not key:
        raise BadRequest("agent must be an Agent or an identified Group (with an IFI)")
    return stored.link_key(key)


@dataclass(frozen=True)
class Query:
    """A GET of statements (not by id), its parameters checked."""

    params: dict[str, str]  # as given, for the ``more`` IRL
    match: Q
    since: datetime.datetime | None
    until: datetime.datetime | None
    limit: int
    format: str
    attachments: bool
    ascending: bool
    after: tuple[datetime.datetime, uuid.UUID] | None = None


def _format_param(params: Mapping[str, str]) -> str:
    value = params.get("format", "exact")
    if value not in FORMATS:
        raise BadRequest(f"format must be ids, exact or canonical, got {value!r}")
    return value


def check_parameters(params: Mapping[str, str]) -> None:
    unknown = sorted(set(params) - GET_PARAMETERS)
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}: the Statement resource takes "
            + ", ".join(sorted(GET_PARAMETERS))
        )


def parse_query(params: Mapping[str, str]) -> Query:
    """The query of ``params`` (everything but statementId / voidedStatementId)."""
    check_parameters(params)
    match = Q()
    if "agent" in params:
        key = _agent_param(params["agent"])
        links = StatementLink.objects.filter(statement=OuterRef("pk"), kind="agent", key=key)
        if not _boolean(params, "related_agents"):
            links = links.filter(related=False)
        match &= Q(Exists(links))
    if "verb" in params:
        if not formats.is_iri(params["verb"]):
            raise BadRequest(f"verb must be an IRI, got {params['verb']!r}")
        match &= Q(verb=params["verb"])
    if "activity" in params:
        if not formats.is_iri(params["activity"]):
            raise BadRequest(f"activity must be an IRI, got {params['activity']!r}")
        links = StatementLink.objects.filter(
            statement=OuterRef("pk"), kind="activity", key=stored.link_key(params["activity"])
        )
        if not _boolean(params, "related_activities"):
            links = links.filter(related=False)
        match &= Q(Exists(links))
    if "registration" in params:
        match &= Q(xapi_registration=uuid_param(params, "registration"))
    _boolean(params, "related_agents")
    _boolean(params, "related_activities")
    limit_text = params.get("limit", "0")
    if not (limit_text.isascii() and limit_text.isdigit()):
        raise BadRequest(f"limit must be a non-negative integer, got {limit_text!r}")
    limit = int(limit_text)
    return Query(
        params=dict(params),
        match=match,
        since=_timestamp_param(params, "since") if "since" in params else None,
        until=_timestamp_param(params, "until") if "until" in params else None,
        limit=MAX_LIMIT if limit == 0 or limit > MAX_LIMIT else limit,
        format=_format_param(params),
        attachments=_boolean(params, "attachments"),
        ascending=_boolean(params, "ascending"),
    )


def parse_more(token: str, caller: Caller) -> Query:
    """The query a ``more`` IRL continues (400 if it is not one this LRS gave this tool)."""
    try:
        data = signing.loads(token, salt=MORE_SALT, max_age=MORE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise BadRequest("this more IRL has expired: query again") from exc
    except signing.BadSignature as exc:
        raise BadRequest("more is not an IRL this LRS gave") from exc
    if data.get("r") != caller.registration.pk:
        raise BadRequest("more is not an IRL this LRS gave these credentials")
    query = parse_query(data["q"])
    stored_at, pk = data["a"]
    return Query(
        **{**query.__dict__, "after": (datetime.datetime.fromisoformat(stored_at), uuid.UUID(pk))}
    )


def _statement_ref_rule(match: Q, mine: QuerySet[Statement]) -> Q:
    """``match``, or a StatementRef object targeting a statement that matches (recursively,
    :data:`REF_DEPTH` deep). Voided targets count: what targets them is still returned."""
    level = mine.filter(match).values("pk")
    for _ in range(REF_DEPTH - 1):
        level = mine.filter(match | Q(ref_target__in=level)).values("pk")
    return match | Q(ref_target__in=level)


@dataclass(frozen=True)
class Page:
    statements: list[dict[str, Any]]
    more: str
    attachments: list[tuple[str, str, bytes]]  # sha2, content type, content


def _shape(
    body: bytes | memoryview, moment: datetime.datetime, caller: Caller, fmt: str, language: str
) -> dict[str, Any]:
    statement: dict[str, Any] = json.loads(bytes(body))
    statement["stored"] = format_timestamp(moment)
    statement["authority"] = caller.authority
    statement.setdefault("version", "1.0.3")
    if fmt == "ids":
        return stored.ids_format(statement)
    if fmt == "canonical":
        return stored.canonical_format(statement, language)
    return statement


def _attachments_of(pks: Sequence[uuid.UUID]) -> list[tuple[str, str, bytes]]:
    seen: dict[str, tuple[str, str, bytes]] = {}
    rows = StatementAttachment.objects.filter(statement_id__in=pks).values_list(
        "sha2", "content_type", "content"
    )
    for sha2, content_type, content in rows:
        seen.setdefault(sha2, (sha2, content_type, bytes(content)))
    return list(seen.values())


def run_query(query: Query, *, caller: Caller, accept_language: str) -> Page:
    mine = Statement.objects.filter(registration=caller.registration)
    rows = mine.filter(voided=False)
    if query.match:
        rows = rows.filter(_statement_ref_rule(query.match, mine))
    if query.since is not None:
        rows = rows.filter(stored__gt=query.since)
    if query.until is not None:
        rows = rows.filter(stored__lte=query.until)
    if query.after is not None:
        moment, pk = query.after
        if query.ascending:
            rows = rows.filter(Q(stored__gt=moment) | Q(stored=moment, pk__gt=pk))
        else:
            rows = rows.filter(Q(stored__lt=moment) | Q(stored=moment, pk__lt=pk))
    order = ("stored", "pk") if query.ascending else ("-stored", "-pk")
    found = list(rows.order_by(*order).values_list("pk", "body", "stored")[: query.limit + 1])
    more = ""
    if len(found) > query.limit:
        found = found[: query.limit]
        last_pk, _, last_stored = found[-1]
        token = signing.dumps(
            {
                "r": caller.registration.pk,
                "q": query.params,
                "a": [last_stored.isoformat(), str(last_pk)],
            },
            salt=MORE_SALT,
            compress=True,
        )
        more = f"{reverse('xapi:statements')}?more={token}"
    statements = [
        _shape(body, moment, caller, query.format, accept_language) for _, body, moment in found
    ]
    attachments = _attachments_of([pk for pk, _, _ in found]) if query.attachments else []
    return Page(statements, more, attachments)


@dataclass(frozen=True)
class One:
    statement: dict[str, Any]
    stored: datetime.datetime
    attachments: list[tuple[str, str, bytes]]


def get_statement(params: Mapping[str, str], *, caller: Caller, accept_language: str) -> One:
    """GET by ``statementId`` (not voided) or ``voidedStatementId`` (voided); 404 otherwise."""
    check_parameters(params)
    if "statementId" in params and "voidedStatementId" in params:
        raise BadRequest("give statementId or voidedStatementId, not both")
    extra = sorted(set(params) - SINGLE_PARAMETERS)
    if extra:
        raise BadRequest(
            f"{extra[0]} cannot be used with statementId or voidedStatementId "
            "(only attachments and format can)"
        )
    voided = "voidedStatementId" in params
    name = "voidedStatementId" if voided else "statementId"
    pk = uuid_param(params, name)
    fmt = _format_param(params)
    with_attachments = _boolean(params, "attachments")
    row = (
        Statement.objects.filter(registration=caller.registration, pk=pk, voided=voided)
        .values_list("body", "stored")
        .first()
    )
    if row is None:
        raise NotFound(f"no {'voided ' if voided else ''}statement with id {pk}")
    body, moment = row
    return One(
        _shape(body, moment, caller, fmt, accept_language),
        moment,
        _attachments_of([pk]) if with_attachments else [],
    )


def consistent_through() -> str:
    """``X-Experience-API-Consistent-Through``: statements are readable once their write
    transaction commits, and ``stored`` is taken inside it, so every statement stored
    before now is readable."""
    return format_timestamp(_now())
