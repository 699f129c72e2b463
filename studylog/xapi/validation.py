"""Validation of xAPI statements against every MUST of the xAPI 1.0.3 Data part (and the few
xAPI 2.0.0 additions we accept when asked), for the LRS endpoint: an invalid statement is
answered 400 with the reason, never 422 and never silently accepted.

``validate_statement`` takes the parsed JSON (``json.loads`` output) and returns nothing or
raises ``StatementInvalid`` with an English reason that starts with the JSON path of the first
problem found (``"context.team: must be a Group ..."``). Checks run in a fixed order: the
properties of an object (unknown ones, nulls), its required ones, then each property in the
specification's order, depth first.

Rules (section numbers of xAPI-Data.md 1.0.3):

- no null anywhere except inside extension values (2.2.s4.b1.b1); no property the
  specification does not define, keys and enumerated values case-sensitive (2.2.s4.b1.b5–b7);
  JSON types exact: a string is not a number, ``true`` is not a number (2.2.s4.b1.b2–b3);
- Agents and identified Groups carry exactly one inverse functional identifier, anonymous
  Groups a member list, members are Agents (2.4.2); the object's ``objectType`` selects
  Activity, Agent, Group, StatementRef or SubStatement (2.4.4), an Agent or Group object must
  say so (2.4.4.2); SubStatements have no id, stored, version, authority or SubStatement
  (2.4.4.3); interaction component lists only with the interactionType that uses them, their
  ids distinct (2.4.4.1);
- result score bounds (2.4.5.1), duration (4.6); context revision and platform only for an
  Activity object, team a Group, contextActivities keys and values (2.4.6); timestamps with a
  time zone, never ``-00:00`` (4.5); authority an Agent or a two-Agent anonymous Group
  (2.4.9); version 1.0.x (2.4.10); attachments (2.4.11); a voiding statement's object is a
  StatementRef (2.3.2); extension keys are IRIs (4.1); language map keys RFC 5646 tags (4.2).

Not checked (the specification leaves them to the LRS or says MAY): the correctResponsesPattern
format per interactionType, whether a referenced statement exists, mbox_sha1sum against mbox.
A timestamp without a time zone is refused: the specification says SHOULD* (the strongest
SHOULD) and a time without a zone cannot be ordered against others.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from . import formats
from .errors import StatementInvalid

SUPPORTED_VERSIONS = ("1.0.3", "2.0.0")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_STATEMENT = frozenset(
    {
        "id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
        "authority", "version", "attachments",
    }
)  # fmt: skip
_SUBSTATEMENT = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_NOT_IN_SUBSTATEMENT = frozenset({"id", "stored", "version", "authority"})
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT = frozenset({"objectType", "name", *_IFIS})
_GROUP = frozenset({"objectType", "name", "member", *_IFIS})
_ACCOUNT = frozenset({"homePage", "name"})
_VERB = frozenset({"id", "display"})
_ACTIVITY = frozenset({"objectType", "id", "definition"})
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_DEFINITION = frozenset(
    {
        "name", "description", "type", "moreInfo", "extensions", "interactionType",
        "correctResponsesPattern", *_COMPONENT_LISTS,
    }
)  # fmt: skip
_INTERACTION_LISTS: Mapping[str, tuple[str, ...]] = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
_COMPONENT = frozenset({"id", "description"})
_STATEMENT_REF = frozenset({"objectType", "id"})
_RESULT = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE = frozenset({"scaled", "raw", "min", "max"})
_CONTEXT = frozenset(
    {
        "registration", "instructor", "team", "contextActivities", "revision", "platform",
        "language", "statement", "extensions",
    }
)  # fmt: skip
_CONTEXT_2_0 = _CONTEXT | {"contextAgents", "contextGroups"}
_CONTEXT_ACTIVITIES = frozenset({"parent", "grouping", "category", "other"})
_CONTEXT_AGENT = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP = frozenset({"objectType", "group", "relevantTypes"})
_ATTACHMENT = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)
_ATTACHMENT_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")
_OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")
_ARTICLE = {
    "Activity": "an Activity",
    "Agent": "an Agent",
    "Group": "a Group",
    "StatementRef": "a StatementRef",
    "SubStatement": "a SubStatement",
}


def validate_statement(obj: object, *, version: str = "1.0.3", substatement: bool = False) -> None:
    """Raise ``StatementInvalid`` unless ``obj`` (parsed JSON) is a valid statement.

    ``version`` is the xAPI version of the request (the ``X-Experience-API-Version`` header):
    ``"2.0.0"`` also accepts context ``contextAgents``/``contextGroups`` and statement
    versions 2.0.x. ``substatement=True`` validates ``obj`` as the object of a statement with
    ``"objectType": "SubStatement"``.
    """
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported xAPI version {version!r}")
    _Checker(version).statement(obj, "", substatement=substatement)


def validate_agent(obj: object, *, version: str = "1.0.3", path: str = "agent") -> None:
    """Raise ``StatementInvalid`` unless ``obj`` (parsed JSON) is one Agent (not a Group) with
    exactly one inverse functional identifier: the ``agent`` parameter of the State, Agent
    Profile and Agents resources (Communication 2.3, 2.4, 2.6). ``path`` starts the reason."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported xAPI version {version!r}")
    if isinstance(obj, dict) and obj.get("objectType") == "Group":
        _fail(path, "must be an Agent, not a Group")
    _Checker(version).agent(obj, path)


def normalise_context_activities(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a valid statement whose contextActivities values are all arrays (the LRS
    stores and returns them so, Data 2.4.6.2.s4.b3–b4), in the statement and in a SubStatement
    object. The argument is not changed; unchanged parts are shared, not copied."""
    result = dict(statement)
    context = statement.get("context")
    if isinstance(context, Mapping):
        activities = context.get("contextActivities")
        if isinstance(activities, Mapping):
            result["context"] = {
                **context,
                "contextActivities": {
                    key: value if isinstance(value, list) else [value]
                    for key, value in activities.items()
                },
            }
    obj = statement.get("object")
    if isinstance(obj, Mapping) and obj.get("objectType") == "SubStatement":
        result["object"] = normalise_context_activities(obj)
    return result


def _join(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _label(path: str) -> str:
    return path or "statement"


def _got(value: object) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return repr(value)


def _fail(path: str, message: str) -> NoReturn:
    raise StatementInvalid(f"{_label(path)}: {message}", path)


def _names(keys: Collection[str]) -> str:
    quoted = [repr(key) for key in keys]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _choices(options: Collection[str]) -> str:
    quoted = [repr(option) for option in options]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


class _Checker:
    """One validation run; ``version`` selects the rules of xAPI 1.0.3 or 2.0.0."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.v2 = version == "2.0.0"

    # -- shared shapes -------------------------------------------------------------------

    def _object(self, value: object, path: str, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            _fail(path, f"must be {what} (a JSON object), got {_got(value)}")
        return value

    def _keys(self, obj: dict[str, Any], path: str, allowed: frozenset[str], what: str) -> None:
        if obj.keys() <= allowed and None not in obj.values():
            return
        for key, value in obj.items():
            if key not in allowed:
                self._unknown(path, key, allowed, what)
            if value is None:
                _fail(_join(path, key), "must not be null (only extension values may be null)")

    def _unknown(self, path: str, key: str, allowed: frozenset[str], what: str) -> NoReturn:
        where = _join(path, key)
        for name in allowed:
            if name.lower() == key.lower():
                _fail(
                    where,
                    f"is not a property of {what}; property names are case-sensitive: use {name!r}",
                )
        if what == "a Context" and key in ("contextAgents", "contextGroups"):
            _fail(where, f"is a property of xAPI 2.0.0, not of xAPI {self.version}")
        _fail(where, f"is not a property of {what} in xAPI {self.version}")

    def _required(self, obj: dict[str, Any], path: str, keys: tuple[str, ...], what: str) -> None:
        for key in keys:
            if key not in obj:
                _fail(_join(path, key), f"is required in {what}")

    def _enum(self, value: object, path: str, options: Collection[str]) -> str:
        if isinstance(value, str) and value in options:
            return value
        if isinstance(value, str):
            for option in options:
                if option.lower() == value.lower():
                    _fail(path, f"must be {option!r} (values are case-sensitive), got {value!r}")
        if len(options) == 1:
            _fail(path, f"must be {next(iter(options))!r}, got {_got(value)}")
        _fail(path, f"must be one of {_choices(options)}, got {_got(value)}")

    def _string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            _fail(path, f"must be a string, got {_got(value)}")
        return value

    def _boolean(self, value: object, path: str) -> None:
        if not isinstance(value, bool):
            _fail(path, f"must be a boolean (true or false), got {_got(value)}")

    def _number(self, value: object, path: str) -> float:
        if type(value) is int:
            return value
        if type(value) is float and math.isfinite(value):
            return value
        _fail(path, f"must be a number, got {_got(value)}")

    def _array(self, value: object, path: str, what: str) -> list[Any]:
        if not isinstance(value, list):
            _fail(path, f"must be an array of {what}, got {_got(value)}")
        return value

    def _iri(self, value: object, path: str) -> None:
        if not (isinstance(value, str) and formats.is_iri(value)):
            _fail(
                path,
                f"must be an IRI (absolute, with a scheme such as 'https:'), got {_got(value)}",
            )

    def _irl(self, value: object, path: str) -> None:
        if not (isinstance(value, str) and formats.is_irl(value)):
            _fail(path, f"must be an IRL (absolute URL), got {_got(value)}")

    def _uuid(self, value: object, path: str) -> None:
        if not (isinstance(value, str) and formats.is_uuid(value)):
            _fail(
                path,
                "must be a UUID in standard form "
                f"('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got {_got(value)}",
            )

    def _timestamp(self, value: object, path: str) -> None:
        if not isinstance(value, str):
            _fail(path, f"must be an ISO 8601 timestamp string, got {_got(value)}")
        problem = formats.timestamp_problem(value)
        if problem is not None:
            _fail(path, problem)

    def _language_map(self, value: object, path: str) -> None:
        obj = self._object(value, path, "a language map")
        for tag, text in obj.items():
            if not formats.is_language_tag(tag):
                _fail(
                    path,
                    f"the key {tag!r} is not an RFC 5646 language tag (such as 'ja' or 'en-US')",
                )
            if not isinstance(text, str):
                _fail(_join(path, tag), f"must be a string, got {_got(text)}")

    def _extensions(self, value: object, path: str) -> None:
        obj = self._object(value, path, "an extensions map")
        for key in obj:
            if not formats.is_iri(key):
                _fail(path, f"the key {key!r} is not an IRI (extension keys must be IRIs)")

    # -- statement -----------------------------------------------------------------------

    def statement(self, value: object, path: str, *, substatement: bool) -> None:
        what = "a SubStatement" if substatement else "a Statement"
        obj = self._object(value, path, what)
        allowed = _SUBSTATEMENT if substatement else _STATEMENT
        if substatement:
            for key in obj:
                if key in _NOT_IN_SUBSTATEMENT:
                    _fail(_join(path, key), "is not allowed in a SubStatement")
        self._keys(obj, path, allowed, what)
        if substatement:
            self._required(obj, path, ("objectType",), what)
            self._enum(obj["objectType"], _join(path, "objectType"), ("SubStatement",))
        self._required(obj, path, ("actor", "verb", "object"), what)
        if "id" in obj:
            self._uuid(obj["id"], _join(path, "id"))
        self.actor(obj["actor"], _join(path, "actor"))
        verb_id = self.verb(obj["verb"], _join(path, "verb"))
        kind = self.statement_object(
            obj["object"], _join(path, "object"), substatement=substatement
        )
        if "result" in obj:
            self.result(obj["result"], _join(path, "result"))
        if "context" in obj:
            self.context(obj["context"], _join(path, "context"), kind)
        if "timestamp" in obj:
            self._timestamp(obj["timestamp"], _join(path, "timestamp"))
        if "stored" in obj:
            self._timestamp(obj["stored"], _join(path, "stored"))
        if "authority" in obj:
            self.authority(obj["authority"], _join(path, "authority"))
        if "version" in obj:
            self.statement_version(obj["version"], _join(path, "version"))
        if "attachments" in obj:
            self.attachments(obj["attachments"], _join(path, "attachments"))
        if verb_id == VOIDED and kind != "StatementRef" and not substatement:
            _fail(
                _join(path, "object"),
                f"a voiding statement (verb {VOIDED!r}) must have a StatementRef object, "
                f"got {_ARTICLE[kind]}",
            )

    def statement_version(self, value: object, path: str) -> None:
        if not (isinstance(value, str) and formats.is_statement_version(value, accept_2_0=self.v2)):
            versions = "1.0.x or 2.0.x" if self.v2 else "1.0.x"
            _fail(path, f"must be a {versions} version such as '1.0.0', got {_got(value)}")

    # -- actors --------------------------------------------------------------------------

    def actor(self, value: object, path: str) -> str:
        """An Agent or a Group; returns its objectType."""
        obj = self._object(value, path, "an Agent or a Group")
        kind = obj.get("objectType", "Agent")
        if kind == "Agent":
            self.agent(obj, path)
        elif kind == "Group":
            self.group(obj, path)
        else:
            self._enum(kind, _join(path, "objectType"), ("Agent", "Group"))
        return str(kind)

    def agent(self, value: object, path: str) -> None:
        obj = self._object(value, path, "an Agent")
        if "member" in obj and "objectType" not in obj:
            _fail(
                _join(path, "member"),
                'is not a property of an Agent (a Group needs "objectType": "Group")',
            )
        self._keys(obj, path, _AGENT, "an Agent")
        if "objectType" in obj:
            self._enum(obj["objectType"], _join(path, "objectType"), ("Agent",))
        if "name" in obj:
            self._string(obj["name"], _join(path, "name"))
        identifiers = self._identifiers(obj, path)
        if len(identifiers) != 1:
            found = "none" if not identifiers else _names(identifiers)
            _fail(
                path,
                "an Agent must have exactly one inverse functional identifier "
                f"(mbox, mbox_sha1sum, openid or account), got {found}",
            )

    def group(self, value: object, path: str, *, authority: bool = False) -> None:
        obj = self._object(value, path, "a Group")
        self._keys(obj, path, _GROUP, "a Group")
        self._required(obj, path, ("objectType",), "a Group")
        self._enum(obj["objectType"], _join(path, "objectType"), ("Group",))
        if "name" in obj:
            self._string(obj["name"], _join(path, "name"))
        identifiers = self._identifiers(obj, path)
        if len(identifiers) > 1:
            _fail(
                path,
                "an identified Group must have exactly one inverse functional identifier "
                f"(mbox, mbox_sha1sum, openid or account), got {_names(identifiers)}",
            )
        if authority and identifiers:
            _fail(
                path,
                "a Group authority (3-legged OAuth) must be an anonymous Group: no mbox, "
                f"mbox_sha1sum, openid or account, got {_names(identifiers)}",
            )
        if not identifiers and "member" not in obj:
            _fail(
                _join(path, "member"),
                "is required in an anonymous Group (one without mbox, mbox_sha1sum, openid "
                "or account)",
            )
        if "member" in obj:
            member_path = _join(path, "member")
            members = self._array(obj["member"], member_path, "Agents")
            if not identifiers and not members:
                _fail(member_path, "an anonymous Group must list at least one member")
            for index, member in enumerate(members):
                item = f"{member_path}[{index}]"
                if isinstance(member, dict) and member.get("objectType") == "Group":
                    _fail(item, "a Group's members must be Agents, got a Group")
                self.agent(member, item)
            if authority and len(members) != 2:
                _fail(
                    member_path,
                    "a Group authority (3-legged OAuth) must have exactly two Agents, "
                    f"got {len(members)}",
                )

    def _identifiers(self, obj: dict[str, Any], path: str) -> list[str]:
        found = [key for key in _IFIS if key in obj]
        for key in found:
            value, where = obj[key], _join(path, key)
            if key == "mbox":
                if not (isinstance(value, str) and formats.is_mbox(value)):
                    _fail(
                        where,
                        f"must be a mailto IRI ('mailto:' and an email address), got {_got(value)}",
                    )
            elif key == "mbox_sha1sum":
                if not (isinstance(value, str) and formats.is_sha1_hex(value)):
                    _fail(
                        where,
                        "must be the hex-encoded SHA-1 of a mailto IRI (40 hex digits), "
                        f"got {_got(value)}",
                    )
            elif key == "openid":
                if not (isinstance(value, str) and formats.is_iri(value)):
                    _fail(where, f"must be a URI, got {_got(value)}")
            else:
                self.account(value, where)
        return found

    def account(self, value: object, path: str) -> None:
        obj = self._object(value, path, "an Account")
        self._keys(obj, path, _ACCOUNT, "an Account")
        self._required(obj, path, ("homePage", "name"), "an Account")
        self._irl(obj["homePage"], _join(path, "homePage"))
        self._string(obj["name"], _join(path, "name"))

    def authority(self, value: object, path: str) -> None:
        obj = self._object(value, path, "an Agent or a two-Agent Group")
        if obj.get("objectType") == "Group":
            self.group(obj, path, authority=True)
        else:
            self.actor(obj, path)

    # -- verb and object -----------------------------------------------------------------

    def verb(self, value: object, path: str) -> object:
        """Returns the verb id."""
        obj = self._object(value, path, "a Verb")
        self._keys(obj, path, _VERB, "a Verb")
        self._required(obj, path, ("id",), "a Verb")
        self._iri(obj["id"], _join(path, "id"))
        if "display" in obj:
            self._language_map(obj["display"], _join(path, "display"))
        return obj["id"]

    def statement_object(self, value: object, path: str, *, substatement: bool) -> str:
        """Returns the objectType (``Activity`` when absent)."""
        obj = self._object(value, path, "an Activity, Agent, Group, StatementRef or SubStatement")
        kind = obj.get("objectType")
        if kind is None:
            if "member" in obj or any(key in obj for key in _IFIS):
                _fail(
                    _join(path, "objectType"),
                    "is required when the object is an Agent or a Group "
                    "(without it the object is an Activity)",
                )
            kind = "Activity"
        if kind == "Activity":
            self.activity(obj, path)
        elif kind == "Agent":
            self.agent(obj, path)
        elif kind == "Group":
            self.group(obj, path)
        elif kind == "StatementRef":
            self.statement_ref(obj, path)
        elif kind == "SubStatement":
            if substatement:
                _fail(_join(path, "objectType"), "a SubStatement cannot contain a SubStatement")
            self.statement(obj, path, substatement=True)
        else:
            self._enum(kind, _join(path, "objectType"), _OBJECT_TYPES)
        return str(kind)

    def statement_ref(self, value: object, path: str) -> None:
        obj = self._object(value, path, "a StatementRef")
        self._keys(obj, path, _STATEMENT_REF, "a StatementRef")
        self._required(obj, path, ("objectType", "id"), "a StatementRef")
        self._enum(obj["objectType"], _join(path, "objectType"), ("StatementRef",))
        self._uuid(obj["id"], _join(path, "id"))

    def activity(self, value: object, path: str) -> None:
        obj = self._object(value, path, "an Activity")
        self._keys(obj, path, _ACTIVITY, "an Activity")
        if "objectType" in obj:
            self._enum(obj["objectType"], _join(path, "objectType"), ("Activity",))
        self._required(obj, path, ("id",), "an Activity")
        self._iri(obj["id"], _join(path, "id"))
        if "definition" in obj:
            self.definition(obj["definition"], _join(path, "definition"))

    def definition(self, value: object, path: str) -> None:
        obj = self._object(value, path, "an Activity Definition")
        self._keys(obj, path, _DEFINITION, "an Activity Definition")
        if "name" in obj:
            self._language_map(obj["name"], _join(path, "name"))
        if "description" in obj:
            self._language_map(obj["description"], _join(path, "description"))
        if "type" in obj:
            self._iri(obj["type"], _join(path, "type"))
        if "moreInfo" in obj:
            self._irl(obj["moreInfo"], _join(path, "moreInfo"))
        interaction = obj.get("interactionType")
        if interaction is None:
            for key in ("correctResponsesPattern", *_COMPONENT_LISTS):
                if key in obj:
                    _fail(_join(path, key), 'is only allowed with an "interactionType"')
        else:
            self.interaction(obj, path, self._enum(
                interaction, _join(path, "interactionType"), _INTERACTION_LISTS
            ))  # fmt: skip
        if "extensions" in obj:
            self._extensions(obj["extensions"], _join(path, "extensions"))

    def interaction(self, obj: dict[str, Any], path: str, interaction: str) -> None:
        if "correctResponsesPattern" in obj:
            where = _join(path, "correctResponsesPattern")
            patterns = self._array(obj["correctResponsesPattern"], where, "strings")
            for index, pattern in enumerate(patterns):
                self._string(pattern, f"{where}[{index}]")
        lists = _INTERACTION_LISTS[interaction]
        for key in _COMPONENT_LISTS:
            if key not in obj:
                continue
            where = _join(path, key)
            if key not in lists:
                allowed = f"only {_names(lists)}" if lists else "no component lists"
                _fail(where, f"is not used with interactionType {interaction!r} ({allowed})")
            seen: dict[str, int] = {}
            for index, component in enumerate(
                self._array(obj[key], where, "interaction components")
            ):
                item = f"{where}[{index}]"
                comp = self._object(component, item, "an interaction component")
                self._keys(comp, item, _COMPONENT, "an interaction component")
                self._required(comp, item, ("id",), "an interaction component")
                component_id = self._string(comp["id"], f"{item}.id")
                if component_id in seen:
                    _fail(
                        f"{item}.id",
                        f"repeats the id {component_id!r} of {where}[{seen[component_id]}] "
                        "(ids must be distinct within a component list)",
                    )
                seen[component_id] = index
                if "description" in comp:
                    self._language_map(comp["description"], f"{item}.description")

    # -- result and context --------------------------------------------------------------

    def result(self, value: object, path: str) -> None:
        obj = self._object(value, path, "a Result")
        self._keys(obj, path, _RESULT, "a Result")
        if "score" in obj:
            self.score(obj["score"], _join(path, "score"))
        if "success" in obj:
            self._boolean(obj["success"], _join(path, "success"))
        if "completion" in obj:
            self._boolean(obj["completion"], _join(path, "completion"))
        if "response" in obj:
            self._string(obj["response"], _join(path, "response"))
        if "duration" in obj:
            duration = obj["duration"]
            if not (isinstance(duration, str) and formats.is_duration(duration)):
                _fail(
                    _join(path, "duration"),
                    "must be an ISO 8601 duration such as 'PT4H35M59.14S' or 'P4W', "
                    f"got {_got(duration)}",
                )
        if "extensions" in obj:
            self._extensions(obj["extensions"], _join(path, "extensions"))

    def score(self, value: object, path: str) -> None:
        obj = self._object(value, path, "a Score")
        self._keys(obj, path, _SCORE, "a Score")
        numbers = {key: self._number(obj[key], _join(path, key)) for key in _SCORE if key in obj}
        scaled = numbers.get("scaled")
        if scaled is not None and not -1 <= scaled <= 1:
            _fail(_join(path, "scaled"), f"must be between -1 and 1 inclusive, got {scaled!r}")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and not low < high:
            _fail(_join(path, "min"), f"must be less than max ({high!r}), got {low!r}")
        if raw is not None and low is not None and raw < low:
            _fail(_join(path, "raw"), f"must not be less than min ({low!r}), got {raw!r}")
        if raw is not None and high is not None and raw > high:
            _fail(_join(path, "raw"), f"must not be greater than max ({high!r}), got {raw!r}")

    def context(self, value: object, path: str, object_kind: str) -> None:
        obj = self._object(value, path, "a Context")
        self._keys(obj, path, _CONTEXT_2_0 if self.v2 else _CONTEXT, "a Context")
        if "registration" in obj:
            self._uuid(obj["registration"], _join(path, "registration"))
        if "instructor" in obj:
            self.actor(obj["instructor"], _join(path, "instructor"))
        if "team" in obj:
            team = obj["team"]
            if not (isinstance(team, dict) and team.get("objectType") == "Group"):
                got = "an Agent" if isinstance(team, dict) else _got(team)
                _fail(_join(path, "team"), f'must be a Group ("objectType": "Group"), got {got}')
            self.group(team, _join(path, "team"))
        if "contextActivities" in obj:
            self.context_activities(obj["contextActivities"], _join(path, "contextActivities"))
        for key in ("revision", "platform"):
            if key in obj:
                self._string(obj[key], _join(path, key))
                if object_kind != "Activity":
                    _fail(
                        _join(path, key),
                        "may only be used when the statement's object is an Activity, "
                        f"got {_ARTICLE.get(object_kind, object_kind)}",
                    )
        if "language" in obj:
            language = obj["language"]
            if not (isinstance(language, str) and formats.is_language_tag(language)):
                _fail(
                    _join(path, "language"),
                    f"must be an RFC 5646 language tag (such as 'ja'), got {_got(language)}",
                )
        if "statement" in obj:
            self.statement_ref(obj["statement"], _join(path, "statement"))
        if "extensions" in obj:
            self._extensions(obj["extensions"], _join(path, "extensions"))
        if "contextAgents" in obj:
            self.context_members(obj["contextAgents"], _join(path, "contextAgents"), "agent")
        if "contextGroups" in obj:
            self.context_members(obj["contextGroups"], _join(path, "contextGroups"), "group")

    def context_activities(self, value: object, path: str) -> None:
        obj = self._object(value, path, "a contextActivities map")
        self._keys(obj, path, _CONTEXT_ACTIVITIES, "a contextActivities map")
        for key, activities in obj.items():
            where = _join(path, key)
            if isinstance(activities, dict):
                self.activity(activities, where)
            elif isinstance(activities, list):
                for index, activity in enumerate(activities):
                    self.activity(activity, f"{where}[{index}]")
            else:
                _fail(
                    where, f"must be an Activity or an array of Activities, got {_got(activities)}"
                )

    def context_members(self, value: object, path: str, role: str) -> None:
        """xAPI 2.0.0 contextAgents (``role`` "agent") or contextGroups ("group")."""
        kind = "contextAgent" if role == "agent" else "contextGroup"
        for index, entry in enumerate(self._array(value, path, f"{kind} objects")):
            item = f"{path}[{index}]"
            obj = self._object(entry, item, f"a {kind} object")
            self._keys(
                obj, item, _CONTEXT_AGENT if role == "agent" else _CONTEXT_GROUP, f"a {kind}"
            )
            self._required(obj, item, ("objectType", role), f"a {kind}")
            self._enum(obj["objectType"], f"{item}.objectType", (kind,))
            if role == "agent":
                member = self._object(obj[role], f"{item}.agent", "an Agent")
                if member.get("objectType", "Agent") != "Agent":
                    _fail(
                        f"{item}.agent", f"must be an Agent, got {_got(member.get('objectType'))}"
                    )
                self.agent(member, f"{item}.agent")
            else:
                self.group(obj[role], f"{item}.group")
            if "relevantTypes" in obj:
                where = f"{item}.relevantTypes"
                types = self._array(obj["relevantTypes"], where, "IRIs")
                if not types:
                    _fail(where, "must list at least one IRI when present")
                for position, iri in enumerate(types):
                    self._iri(iri, f"{where}[{position}]")

    # -- attachments ---------------------------------------------------------------------

    def attachments(self, value: object, path: str) -> None:
        for index, attachment in enumerate(self._array(value, path, "Attachments")):
            item = f"{path}[{index}]"
            obj = self._object(attachment, item, "an Attachment")
            self._keys(obj, item, _ATTACHMENT, "an Attachment")
            self._required(obj, item, _ATTACHMENT_REQUIRED, "an Attachment")
            self._iri(obj["usageType"], f"{item}.usageType")
            self._language_map(obj["display"], f"{item}.display")
            if "description" in obj:
                self._language_map(obj["description"], f"{item}.description")
            content_type = obj["contentType"]
            if not (isinstance(content_type, str) and formats.is_media_type(content_type)):
                _fail(
                    f"{item}.contentType",
                    f"must be an Internet media type such as 'image/png', got {_got(content_type)}",
                )
            length = obj["length"]
            if type(length) is not int or length < 0:
                _fail(f"{item}.length", f"must be a non-negative integer, got {_got(length)}")
            self._string(obj["sha2"], f"{item}.sha2")
            if "fileUrl" in obj:
                self._irl(obj["fileUrl"], f"{item}.fileUrl")
