"""The LRS endpoint's document resources and the resources around them (xAPI 1.0.3
Communication 2.2–2.8, 3.1): About, State, Activity Profile, Agent Profile, Activities, Agents.

Documents are kept per tool: every query and write is scoped to the calling tool's
``Registration`` (``XapiDocument.owner``), so one tool never sees, overwrites or deletes another
tool's documents, even for the same child and activity. The ``agent`` parameter must name a
person the tool may see (``access.actor_for``: an ``account`` whose name is the e-portal UUID,
an active member of a class where the tool is placed); anyone else is refused with 400, and
the answer does not say whether the person exists.

Concurrency (Communication 3.1), the rules that differ between the resources:

- every single-document GET answers ``ETag`` (the quoted SHA-1 hex of the content) and
  ``Last-Modified``; a list of ids answers the ETag of the list and the Last-Modified of its
  newest document;
- ``If-Match`` (``*`` or entity tags, compared strongly) and ``If-None-Match`` (``*`` or tags,
  compared weakly) are evaluated as RFC 7232 says on every PUT, POST and DELETE of one
  document; a failed precondition answers 412 and changes nothing;
- **State**: PUT, POST and DELETE need no precondition header ("since state conflicts are
  unlikely", 3.1.s3): a PUT without one replaces the document;
- **Activity Profile and Agent Profile**: a PUT without ``If-Match`` or ``If-None-Match`` for a
  document that exists answers **409 Conflict** with an explanation (3.1.s4.b13–b15); for a
  document that does not exist it answers **400** (the client MUST send one of them, 3.1.s3.b1;
  the ADL conformance suite expects 400, XAPI-00273). POST and DELETE without them are
  accepted (SHOULD* only). Neither xAPI 1.0.3 nor 2.0.0 uses 428.

POST (2.2.s7–s8): a document that does not exist is stored as a PUT would store it; an existing
one is merged only when both it and the posted document are ``application/json`` JSON objects
(top-level properties replaced), else 400 and nothing changes. Any other content is stored and
answered byte for byte with the Content-Type it was sent with.

Not evaluated: preconditions on a State DELETE without ``stateId`` (it names no one document),
``If-None-Match`` on GET (answered 200, never 304).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from dbtools.writelock import serialized_writes
from lti_platform import roster_data
from roster.models import SchoolClass, User
from tools_registry.models import Deployment, Registration

from ..models import DocumentKind, LinkKind, Statement, XapiDocument
from ..xapi import formats, stored, validation, vocab
from ..xapi.agents import ifi_key
from .access import actor_for
from .http import BadRequest, Conflict, NotFound, PreconditionFailed, load_json

JSON_MEDIA_TYPE = "application/json"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_DOCUMENT_ID = 500  # XapiDocument.document_id
MAX_ACTIVITY_ID = 2000  # XapiDocument.activity_id
MAX_AGENT_KEY = 600  # XapiDocument.agent_key
MAX_CONTENT_TYPE = 255  # XapiDocument.content_type
ACTIVITY_STATEMENTS = 200  # the newest statements read to build an Activity's definition

READ_METHODS = ("GET", "HEAD")
DOCUMENT_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


# -- About ---------------------------------------------------------------------------------


def about() -> dict[str, Any]:
    """The About resource (2.8): the latest version of each major version we accept."""
    return {"version": list(vocab.SUPPORTED_VERSIONS), "extensions": {}}


# -- parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The documents of one kind a request is about (activity, agent, registration)."""

    kind: str
    activity_id: str = ""
    agent_key: str = ""
    registration_key: str = ""

    def scope_sha256(self, document_id: str) -> str:
        key = [self.kind, self.activity_id, self.agent_key, self.registration_key, document_id]
        encoded = json.dumps(key, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class Target:
    """A document request after its parameters were checked: the scope, the document id
    (None: every document of the scope) and ``since`` (lists only)."""

    scope: Scope
    document_id: str | None
    since: datetime.datetime | None = None


@dataclass(frozen=True)
class _Resource:
    kind: str
    id_param: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    many_delete: bool  # DELETE without the id deletes the scope's documents (State only)


STATE = _Resource(
    DocumentKind.STATE, "stateId", ("activityId", "agent"), ("registration",), many_delete=True
)
ACTIVITY_PROFILE = _Resource(
    DocumentKind.ACTIVITY_PROFILE, "profileId", ("activityId",), (), many_delete=False
)
AGENT_PROFILE = _Resource(
    DocumentKind.AGENT_PROFILE, "profileId", ("agent",), (), many_delete=False
)


def _check_names(
    params: Mapping[str, str], allowed: Iterable[str], required: Iterable[str]
) -> None:
    allowed = tuple(allowed)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: this "
            f"resource takes {', '.join(allowed)} (names are case-sensitive)"
        )
    missing = [name for name in required if name not in params]
    if missing:
        raise BadRequest(
            f"the parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} required"
        )


def activity_id_param(value: str) -> str:
    if not formats.is_iri(value):
        raise BadRequest(f"activityId must be an IRI (such as 'https://…'), got {value!r}")
    if len(value) > MAX_ACTIVITY_ID:
        raise BadRequest(f"activityId is longer than {MAX_ACTIVITY_ID} characters")
    return value


def agent_param(registration: Registration, value: str) -> dict[str, Any]:
    """The ``agent`` parameter: JSON, one Agent, a person this tool may see."""
    agent = load_json(value, "agent", subject="agent", invalid="must be an Agent object in JSON")
    validation.validate_agent(agent, path="agent")
    actor_for(registration, agent, path="agent")
    return dict(agent)


def _agent_key(agent: Mapping[str, Any]) -> str:
    key = ifi_key(agent)
    if len(key) > MAX_AGENT_KEY:
        raise BadRequest(f"agent: its identifier is longer than {MAX_AGENT_KEY} characters")
    return key


def _registration_param(value: str) -> str:
    if not formats.is_uuid(value):
        raise BadRequest(f"registration must be a UUID, got {value!r}")
    return str(uuid.UUID(value))


def since_param(value: str) -> datetime.datetime:
    problem = formats.timestamp_problem(value)
    if problem is None:
        try:
            moment = datetime.datetime.fromisoformat(re.sub(r":60(?=\D|$)", ":59", value))
        except ValueError:
            problem = f"is not an ISO 8601 timestamp Python can read: {value!r}"
        else:
            try:
                return moment.astimezone(datetime.UTC)
            except OverflowError:
                problem = f"is outside the years 1 to 9999 in UTC: {value!r}"
    raise BadRequest(f"since {problem}")


def _document_id_param(name: str, value: str) -> str:
    if not value:
        raise BadRequest(f"{name} must not be empty")
    if len(value) > MAX_DOCUMENT_ID:
        raise BadRequest(f"{name} is longer than {MAX_DOCUMENT_ID} characters")
    return value


def _target(
    resource: _Resource, registration: Registration, method: str, params: Mapping[str, str]
) -> Target:
    reading = method in READ_METHODS
    allowed = [*resource.required, *resource.optional, resource.id_param]
    if reading:
        allowed.append("since")
    needs_id = method in ("PUT", "POST") or (method == "DELETE" and not resource.many_delete)
    required = [*resource.required, *([resource.id_param] if needs_id else [])]
    if not reading and "since" in params:
        raise BadRequest(f"since is a parameter of GET only, not of {method}")
    _check_names(params, allowed, required)
    activity_id = activity_id_param(params["activityId"]) if "activityId" in params else ""
    agent_key = ""
    if "agent" in params:
        agent_key = _agent_key(agent_param(registration, params["agent"]))
    registration_key = (
        _registration_param(params["registration"]) if "registration" in params else ""
    )
    document_id = (
        _document_id_param(resource.id_param, params[resource.id_param])
        if resource.id_param in params
        else None
    )
    since = since_param(params["since"]) if "since" in params and document_id is None else None
    scope = Scope(resource.kind, activity_id, agent_key, registration_key)
    return Target(scope, document_id, since)


def state_target(registration: Registration, method: str, params: Mapping[str, str]) -> Target:
    return _target(STATE, registration, method, params)


def activity_profile_target(
    registration: Registration, method: str, params: Mapping[str, str]
) -> Target:
    return _target(ACTIVITY_PROFILE, registration, method, params)


def agent_profile_target(
    registration: Registration, method: str, params: Mapping[str, str]
) -> Target:
    return _target(AGENT_PROFILE, registration, method, params)


# -- preconditions -------------------------------------------------------------------------

_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*|\s*([^",\s]+)\s*')


def _tags(header: str) -> list[tuple[bool, str]]:
    """``(weak, opaque)`` for each entity tag of an If-Match / If-None-Match list; a tag sent
    without its quotes is read as the strong tag it names."""
    tags: list[tuple[bool, str]] = []
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match is None:
            raise BadRequest(f"{header!r} is not a list of entity tags (such as '\"abc…\"')")
        if match.group(2) is not None:
            tags.append((bool(match.group(1)), match.group(2)))
        else:
            tags.append((False, match.group(3)))
    return tags


@dataclass(frozen=True)
class Conditions:
    """The request's If-Match and If-None-Match headers (None when absent)."""

    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None

    def check(self, etag: str | None) -> None:
        """Raise PreconditionFailed (412) unless the document (``etag``, None when there is
        none) satisfies both headers (RFC 7232 §3.1–3.2)."""
        if self.if_match is not None:
            value = self.if_match.strip()
            if value == "*":
                if etag is None:
                    raise PreconditionFailed("If-Match: * but there is no such document")
            elif etag is None:
                raise PreconditionFailed(
                    "If-Match names an ETag but there is no such document (it was deleted?)"
                )
            elif not any(not weak and tag == etag for weak, tag in _tags(value)):
                raise PreconditionFailed(
                    f'If-Match does not match the document\'s ETag "{etag}": it changed since '
                    "you read it; GET it again and retry with its ETag"
                )
        if self.if_none_match is not None and etag is not None:
            value = self.if_none_match.strip()
            if value == "*":
                raise PreconditionFailed(
                    f'If-None-Match: * but the document exists (ETag "{etag}")'
                )
            if any(tag == etag for _, tag in _tags(value)):
                raise PreconditionFailed(f'If-None-Match matches the document\'s ETag "{etag}"')


# -- documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    document_id: str
    content: bytes
    content_type: str
    etag: str
    updated: datetime.datetime


@dataclass(frozen=True)
class IdList:
    ids: list[str]
    last_modified: datetime.datetime | None


def _rows(owner: Registration, scope: Scope) -> Any:
    rows = XapiDocument.objects.filter(
        owner=owner, kind=scope.kind, activity_id=scope.activity_id, agent_key=scope.agent_key
    )
    if scope.kind != DocumentKind.STATE or scope.registration_key:
        rows = rows.filter(registration_key=scope.registration_key)
    return rows


def _row(owner: Registration, scope: Scope, document_id: str) -> XapiDocument | None:
    return XapiDocument.objects.filter(
        owner=owner, scope_sha256=scope.scope_sha256(document_id)
    ).first()


def _document(row: XapiDocument) -> Document:
    return Document(row.document_id, bytes(row.content), row.content_type, row.etag, row.updated)


def get_document(owner: Registration, target: Target) -> Document:
    """One document (``target.document_id`` set), or NotFound."""
    assert target.document_id is not None  # noqa: S101  (the views ask for ids otherwise)
    row = _row(owner, target.scope, target.document_id)
    if row is None:
        raise NotFound(f"no document {target.document_id!r} here")
    return _document(row)


def list_ids(owner: Registration, target: Target) -> IdList:
    """The ids of the scope's documents (updated after ``since``, exclusive), in id order.

    A State list without ``registration`` covers the documents of every registration."""
    rows = _rows(owner, target.scope)
    if target.since is not None:
        rows = rows.filter(updated__gt=target.since)
    found = list(rows.order_by("document_id", "pk").values_list("document_id", "updated"))
    ids = list(dict.fromkeys(document_id for document_id, _ in found))
    return IdList(ids, max((updated for _, updated in found), default=None))


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    value = load_json(content, what, invalid="is application/json but not valid JSON")
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object to be merged (POST)")
    return value


def _store(
    owner: Registration,
    target: Target,
    row: XapiDocument | None,
    content: bytes,
    content_type: str,
    now: datetime.datetime,
) -> None:
    assert target.document_id is not None  # noqa: S101
    etag = hashlib.sha1(content).hexdigest()  # noqa: S324  (the ETag xAPI 3.1.s4.b2 defines)
    if row is not None:
        row.content, row.content_type, row.etag, row.updated = content, content_type, etag, now
        row.save(update_fields=["content", "content_type", "etag", "updated"])
        return
    scope = target.scope
    try:
        with transaction.atomic():
            XapiDocument.objects.create(
                owner=owner,
                kind=scope.kind,
                activity_id=scope.activity_id,
                agent_key=scope.agent_key,
                registration_key=scope.registration_key,
                document_id=target.document_id,
                content=content,
                content_type=content_type,
                etag=etag,
                updated=now,
                scope_sha256=scope.scope_sha256(target.document_id),
            )
    except IntegrityError as exc:  # created by a concurrent request (not on SQLite: queued)
        raise Conflict("the document was created by another request meanwhile; retry") from exc


def _check_content_type(content_type: str) -> None:
    if len(content_type) > MAX_CONTENT_TYPE:
        raise BadRequest(f"the Content-Type is longer than {MAX_CONTENT_TYPE} characters")


def put_document(
    owner: Registration,
    target: Target,
    *,
    content: bytes,
    content_type: str,
    conditions: Conditions,
    now: datetime.datetime,
) -> None:
    """Store (replace) one document; 412/409/400 as the module docstring says."""
    assert target.document_id is not None  # noqa: S101
    _check_content_type(content_type)
    with serialized_writes(), transaction.atomic():
        row = _row(owner, target.scope, target.document_id)
        if conditions.given:
            conditions.check(row.etag if row is not None else None)
        elif target.scope.kind != DocumentKind.STATE:
            if row is not None:
                raise Conflict(
                    f"the document {target.document_id!r} already exists: GET it to check its "
                    "current content, then PUT again with If-Match set to its ETag (or POST to "
                    "merge JSON)"
                )
            raise BadRequest(
                "a PUT to a profile must send If-Match (the ETag of the document it replaces) "
                "or If-None-Match: * (to create it only if it does not exist)"
            )
        _store(owner, target, row, content, content_type or DEFAULT_CONTENT_TYPE, now)


def post_document(
    owner: Registration,
    target: Target,
    *,
    content: bytes,
    content_type: str,
    conditions: Conditions,
    now: datetime.datetime,
) -> None:
    """Store a new document, or merge JSON into an existing one (2.2.s7–s8)."""
    assert target.document_id is not None  # noqa: S101
    _check_content_type(content_type)
    posted = _json_object(content, "the posted document") if _is_json(content_type) else None
    with serialized_writes(), transaction.atomic():
        row = _row(owner, target.scope, target.document_id)
        if conditions.given:
            conditions.check(row.etag if row is not None else None)
        if row is None:
            _store(owner, target, None, content, content_type or DEFAULT_CONTENT_TYPE, now)
            return
        if posted is None:
            raise BadRequest(
                "a POST to an existing document merges JSON: send the document as "
                f"application/json (got {content_type or 'no Content-Type'!r}), or PUT to "
                "replace it"
            )
        if not _is_json(row.content_type):
            raise BadRequest(
                f"the existing document is {row.content_type!r}, not application/json: it "
                "cannot be merged; PUT to replace it"
            )
        existing = _json_object(bytes(row.content), "the existing document")
        merged = json.dumps({**existing, **posted}, ensure_ascii=False, separators=(",", ":"))
        _store(owner, target, row, merged.encode("utf-8"), row.content_type, now)


def delete_documents(owner: Registration, target: Target, *, conditions: Conditions) -> None:
    """Delete one document (preconditions checked) or, for the State without ``stateId``,
    every document of the scope. Deleting what is not there is no error (204)."""
    with serialized_writes(), transaction.atomic():
        if target.document_id is None:
            _rows(owner, target.scope).delete()
            return
        row = _row(owner, target.scope, target.document_id)
        if conditions.given:
            conditions.check(row.etag if row is not None else None)
        if row is not None:
            row.delete()


# -- Activities ----------------------------------------------------------------------------

_LANGUAGE_MAPS = ("name", "description")


def _activities_in(statement: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Every Activity a statement names: its object, its context activities, and the same in
    a SubStatement object."""
    obj = statement.get("object")
    if isinstance(obj, Mapping):
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            yield obj
        elif kind == "SubStatement":
            yield from _activities_in(obj)
    context = statement.get("context")
    activities = context.get("contextActivities") if isinstance(context, Mapping) else None
    if isinstance(activities, Mapping):
        for value in activities.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Mapping):
                    yield item


def _merge_definition(into: dict[str, Any], definition: Mapping[str, Any]) -> None:
    for key, value in definition.items():
        if key in (*_LANGUAGE_MAPS, "extensions") and isinstance(value, Mapping):
            current = into.get(key)
            into[key] = {**(current if isinstance(current, dict) else {}), **value}
        else:
            into[key] = value


def activity_object(owner: Registration, activity_id: str) -> dict[str, Any]:
    """The Activity as this tool's statements defined it (2.5): the definitions of its newest
    statements that name it, merged in the order they were stored (language maps and
    extensions key by key, anything else the latest)."""
    statements = list(
        Statement.objects.filter(
            registration=owner,
            links__kind=LinkKind.ACTIVITY,
            links__key=stored.link_key(activity_id),
        )
        .distinct()
        .order_by("-stored", "-pk")
        .values_list("body", flat=True)[:ACTIVITY_STATEMENTS]
    )
    definition: dict[str, Any] = {}
    for body in reversed(statements):
        try:
            statement = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if not isinstance(statement, Mapping):
            continue
        for activity in _activities_in(statement):
            found = activity.get("definition")
            if activity.get("id") == activity_id and isinstance(found, Mapping):
                _merge_definition(definition, found)
    result: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        result["definition"] = definition
    return result


def activities_request(params: Mapping[str, str]) -> str:
    _check_names(params, ("activityId",), ("activityId",))
    return activity_id_param(params["activityId"])


# -- Agents --------------------------------------------------------------------------------


def agents_request(registration: Registration, params: Mapping[str, str]) -> dict[str, Any]:
    _check_names(params, ("agent",), ("agent",))
    return agent_param(registration, params["agent"])


def _deployment_for(registration: Registration, school_class: SchoolClass) -> Deployment | None:
    """The registration's active deployment covering the class's school: the school's own
    before its board's."""
    school = school_class.school
    candidates = Deployment.objects.filter(
        registration=registration, is_active=True, org_id__in=[school.pk, school.parent_id]
    ).select_related("registration")
    return min(candidates, key=lambda d: (d.org_id != school.pk, d.pk), default=None)


def person_object(registration: Registration, agent: Mapping[str, Any]) -> dict[str, Any]:
    """The Person (2.4) for a person the tool may see: the account it named, and the name
    only when the tool's privacy level (of the deployment covering the person's class's
    school, ``roster_data.privacy``) shares names."""
    actor = actor_for(registration, agent, path="agent")
    user = User.objects.get(pk=actor.user_pk)
    school_class = SchoolClass.objects.select_related("school").get(pk=actor.place.class_pk)
    deployment = _deployment_for(registration, school_class)
    person: dict[str, Any] = {"objectType": "Person"}
    full_name = roster_data.person(user).full_name
    if deployment is not None and roster_data.privacy(deployment).share_name and full_name:
        person["name"] = [full_name]
    person["account"] = [dict(agent["account"])]
    return person
