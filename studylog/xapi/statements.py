"""Build the portal's own statements: ids, actors, activities, timestamps, bytes.

Rules (``SPEC_NOTES.md``, xAPI): every statement gets its id at capture time, a UUID derived
(uuid5) from a stable business key that includes the object, so that a retry or a rebuild
yields the same id; the actor is an ``account`` {homePage: the portal, name: the e-portal
UUID}, never an e-mail or a name; timestamps are RFC 3339 UTC with milliseconds, the time of
the event; ``version`` is not set (the LRS sets it); the bytes built once are the bytes sent.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import vocab

# The namespace of Manabi Hub statement ids; the key adds the platform's guid, so two portals
# never derive the same id.
STATEMENT_NAMESPACE = uuid.UUID("6f1f3c1e-8a5b-5c1d-9f59-2d0f6d8a4b10")

JSON = dict[str, Any]


def statement_id(platform_guid: str, key: str) -> uuid.UUID:
    """The id of the statement for business key ``key`` (e.g. ``launch/<jti>``)."""
    return uuid.uuid5(STATEMENT_NAMESPACE, f"{platform_guid}/{key}")


def format_timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with milliseconds: ``2026-12-02T03:40:00.123Z``."""
    if moment.tzinfo is None:
        raise ValueError("xAPI timestamps need an aware datetime")
    utc = moment.astimezone(datetime.UTC)  # isoformat, unlike strftime, pads years to 4 digits
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def account_actor(home_page: str, eportal_uuid: str) -> JSON:
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": eportal_uuid}}


@dataclass(frozen=True)
class Activity:
    """An activity: its IRI, type and (optional) name as a language map."""

    id: str
    type: str
    name: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> JSON:
        definition: JSON = {"type": self.type}
        if self.name:
            definition["name"] = dict(self.name)
        return {"objectType": "Activity", "id": self.id, "definition": definition}


@dataclass(frozen=True)
class Score:
    """An AGS score as xAPI wants it: ``scaled`` in [0, 1], ``raw`` within [min, max]."""

    given: float
    maximum: float

    def as_json(self) -> JSON:
        # AGS allows extra credit (given > maximum); xAPI requires raw <= max and
        # scaled <= 1: keep the raw value, widen max to it, cap scaled at 1.
        top = max(self.maximum, self.given)
        scaled = 0.0 if self.maximum <= 0 else min(1.0, max(0.0, self.given / self.maximum))
        return {"scaled": round(scaled, 6), "raw": self.given, "min": 0, "max": top}


@dataclass(frozen=True)
class Context:
    """Where it happened: the class, school and tool (grouping), the assignment (parent),
    the Japan profile extensions, the launch's registration."""

    grouping: Sequence[Activity] = ()
    parent: Sequence[Activity] = ()
    registration: uuid.UUID | None = None
    grade: str = ""
    subjects: Sequence[str] = ()
    curriculum_codes: Sequence[str] = ()
    platform: str = ""
    language: str = "ja"

    def as_json(self) -> JSON:
        out: JSON = {}
        if self.registration is not None:
            out["registration"] = str(self.registration)
        activities: JSON = {}
        if self.parent:
            activities["parent"] = [a.as_json() for a in self.parent]
        if self.grouping:
            activities["grouping"] = [a.as_json() for a in self.grouping]
        if activities:
            out["contextActivities"] = activities
        if self.platform:
            out["platform"] = self.platform
        if self.language:
            out["language"] = self.language
        extensions: JSON = {}
        if self.grade:
            extensions[vocab.EXT_GRADE] = self.grade
        if self.subjects:
            extensions[vocab.EXT_SUBJECT] = list(self.subjects)
        if self.curriculum_codes:
            extensions[vocab.EXT_COURSE_OF_STUDY] = list(self.curriculum_codes)
        if extensions:
            out["extensions"] = extensions
        return out


def build(
    *,
    id: uuid.UUID,
    actor: JSON,
    verb: vocab.Verb,
    object: Activity,
    timestamp: datetime.datetime,
    context: Context | None = None,
    result: JSON | None = None,
) -> JSON:
    """One statement as a dict, properties in a fixed order (so the bytes are stable)."""
    statement: JSON = {
        "id": str(id),
        "actor": actor,
        "verb": verb.as_json(),
        "object": object.as_json(),
    }
    if result:
        statement["result"] = result
    if context is not None:
        built = context.as_json()
        if built:
            statement["context"] = built
    statement["timestamp"] = format_timestamp(timestamp)
    return statement


def encode(statement: Mapping[str, Any]) -> bytes:
    """The bytes stored and sent: compact UTF-8 JSON, non-ASCII kept (ジュニア１, not \\u30b8)."""
    return json.dumps(statement, ensure_ascii=False, separators=(",", ":")).encode()


def batch_body(bodies: Sequence[bytes]) -> bytes:
    """A POST body of several stored statements, each exactly as stored."""
    return b"[" + b",".join(bodies) + b"]"
