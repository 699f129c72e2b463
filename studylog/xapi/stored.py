"""What an LRS does with statements it holds (xAPI 1.0.3 Communication §2.1), pure Python:

- :func:`links`: the agents and activities a statement names, for the ``agent`` /
  ``activity`` queries (plain) and ``related_agents`` / ``related_activities`` (related);
- :func:`same_statement`: the comparison of a statement sent again with the stored one
  (Data §2.3.1 immutability: ``stored``, ``authority`` and ``version`` are the LRS's;
  contextActivities compare as arrays; a ``timestamp`` the LRS filled in is not a difference);
- :func:`ids_format` and :func:`canonical_format`: the ``format`` parameter's ``ids`` and
  ``canonical`` shapes (``exact`` is the statement as stored).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .agents import ifi_key
from .validation import normalise_context_activities

JSON = dict[str, Any]
_IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")
MAX_LINK_KEY = 600  # characters of StatementLink.key (an index entry: 2,400 bytes at most)
_DIGEST_MARK = "#sha256:"


def link_key(key: str) -> str:
    """The key stored for a link (and looked up by a query): ``key`` itself when it fits in
    :data:`MAX_LINK_KEY` characters, else its beginning and the SHA-256 of the whole key, so
    that a long IRI is still found exactly and two that begin alike are still told apart."""
    if len(key) <= MAX_LINK_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key[: MAX_LINK_KEY - len(_DIGEST_MARK) - len(digest)] + _DIGEST_MARK + digest


def _agents(agent: object) -> Iterator[str]:
    """The keys of an Agent or Group and of a Group's members."""
    if not isinstance(agent, Mapping):
        return
    key = ifi_key(agent)
    if key:
        yield key
    for member in agent.get("member") or ():
        if isinstance(member, Mapping):
            member_key = ifi_key(member)
            if member_key:
                yield member_key


def _context_activities(context: object) -> Iterator[str]:
    if not isinstance(context, Mapping):
        return
    for values in (context.get("contextActivities") or {}).values():
        for activity in values if isinstance(values, list) else [values]:
            if isinstance(activity, Mapping) and "id" in activity:
                yield str(activity["id"])


def links(statement: Mapping[str, Any], authority: Mapping[str, Any]) -> set[tuple[str, str, bool]]:
    """(kind, key, related) for every agent and activity ``statement`` names. Plain: the
    actor, an Agent or Group object (with members), an Activity object. Related: the
    authority, context instructor and team, context activities, and all of these in a
    SubStatement object."""
    found: set[tuple[str, str, bool]] = set()

    def visit(part: Mapping[str, Any], related: bool) -> None:
        found.update(("agent", key, related) for key in _agents(part.get("actor")))
        obj = part.get("object")
        if isinstance(obj, Mapping):
            kind = obj.get("objectType", "Activity")
            if kind in ("Agent", "Group"):
                found.update(("agent", key, related) for key in _agents(obj))
            elif kind == "Activity" and "id" in obj:
                found.add(("activity", str(obj["id"]), related))
            elif kind == "SubStatement":
                visit(obj, True)
        context = part.get("context")
        if isinstance(context, Mapping):
            for role in ("instructor", "team"):
                found.update(("agent", key, True) for key in _agents(context.get(role)))
        found.update(("activity", key, True) for key in _context_activities(context))

    visit(statement, False)
    found.update(("agent", key, True) for key in _agents(authority))
    return found


def _comparable(statement: Mapping[str, Any], *, drop_timestamp: bool) -> JSON:
    dropped = {"stored", "authority", "version"} | ({"timestamp"} if drop_timestamp else set())
    return {k: v for k, v in normalise_context_activities(statement).items() if k not in dropped}


def same_statement(stored: Mapping[str, Any], received: Mapping[str, Any]) -> bool:
    """Whether ``received`` is ``stored`` sent again (compared as JSON values)."""
    drop = "timestamp" not in received
    return _comparable(stored, drop_timestamp=drop) == _comparable(received, drop_timestamp=drop)


# -- format=ids ---------------------------------------------------------------------------


def _agent_ids(agent: Mapping[str, Any]) -> JSON:
    out: JSON = {}
    if "objectType" in agent:
        out["objectType"] = agent["objectType"]
    for key in _IFI_PROPERTIES:
        if key in agent:
            out[key] = agent[key]
            return out
    if "member" in agent:  # an anonymous Group: what identifies each member
        out["member"] = [_agent_ids(m) for m in agent["member"]]
    return out


def _activity_ids(activity: Mapping[str, Any]) -> JSON:
    out: JSON = {"id": activity["id"]}
    if "objectType" in activity:
        out["objectType"] = activity["objectType"]
    return out


def _object_ids(obj: Mapping[str, Any]) -> JSON:
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        return _agent_ids(obj)
    if kind == "Activity":
        return _activity_ids(obj)
    if kind == "SubStatement":
        return _statement_ids(obj)
    return dict(obj)


def _context_ids(context: Mapping[str, Any]) -> JSON:
    out = dict(context)
    for role in ("instructor", "team"):
        if role in out:
            out[role] = _agent_ids(out[role])
    if "contextActivities" in out:
        out["contextActivities"] = {
            key: [_activity_ids(a) for a in values]
            for key, values in out["contextActivities"].items()
        }
    return out


def _statement_ids(statement: Mapping[str, Any]) -> JSON:
    out = dict(statement)
    out["actor"] = _agent_ids(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _object_ids(statement["object"])
    if "context" in out:
        out["context"] = _context_ids(out["context"])
    if "authority" in out:
        out["authority"] = _agent_ids(out["authority"])
    return out


def ids_format(statement: Mapping[str, Any]) -> JSON:
    """``format=ids``: Agents, Groups, Activities and Verbs reduced to what identifies them
    (anonymous Groups to their members' identifiers)."""
    return _statement_ids(statement)


# -- format=canonical ---------------------------------------------------------------------


def accept_languages(header: str) -> list[tuple[str, float]]:
    """The language ranges of an ``Accept-Language`` header, by preference (RFC 7231 §5.3.5)."""
    ranges: list[tuple[str, float, int]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        if not tag.strip():
            continue
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranges.append((tag.strip().lower(), quality, position))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(tag, quality) for tag, quality, _ in ranges]


def _one_language(value: Mapping[str, str], ranges: Sequence[tuple[str, float]]) -> dict[str, str]:
    if len(value) <= 1:
        return dict(value)
    for wanted, _ in ranges:
        for tag, text in value.items():
            lower = tag.lower()
            if wanted == "*" or lower == wanted or lower.startswith(wanted + "-"):
                return {tag: text}
    tag = next(iter(value))
    return {tag: value[tag]}


def _activity_canonical(activity: Mapping[str, Any], ranges: Sequence[tuple[str, float]]) -> JSON:
    out = dict(activity)
    definition = activity.get("definition")
    if isinstance(definition, Mapping):
        shaped = dict(definition)
        for key in ("name", "description"):
            if key in shaped:
                shaped[key] = _one_language(shaped[key], ranges)
        for key in ("choices", "scale", "source", "target", "steps"):
            if key in shaped:
                shaped[key] = [
                    {**c, "description": _one_language(c["description"], ranges)}
                    if "description" in c
                    else dict(c)
                    for c in shaped[key]
                ]
        out["definition"] = shaped
    return out


def _statement_canonical(statement: Mapping[str, Any], ranges: Sequence[tuple[str, float]]) -> JSON:
    out = dict(statement)
    verb = dict(statement["verb"])
    if "display" in verb:
        verb["display"] = _one_language(verb["display"], ranges)
    out["verb"] = verb
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = _activity_canonical(obj, ranges)
    elif kind == "SubStatement":
        out["object"] = _statement_canonical(obj, ranges)
    context = statement.get("context")
    if isinstance(context, Mapping) and "contextActivities" in context:
        out["context"] = {
            **context,
            "contextActivities": {
                key: [_activity_canonical(a, ranges) for a in values]
                for key, values in context["contextActivities"].items()
            },
        }
    return out


def canonical_format(statement: Mapping[str, Any], accept_language: str) -> JSON:
    """``format=canonical``: every language map of Activities and Verbs reduced to the one
    language the ``Accept-Language`` header prefers (the first one when none matches);
    Agents and Groups as stored."""
    return _statement_canonical(statement, accept_languages(accept_language))
