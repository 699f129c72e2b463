"""Deliver a batch of stored statements to one LRS, losing nothing and duplicating nothing.

The rules (``SPEC_NOTES.md``, xAPI), against strict and lenient LRSs alike:

- POST the exact stored bytes. 200: the LRS has every statement of the batch — but never trust
  the id list's positions or length: ids the list lacks (a lenient LRS such as Ralph answers
  only the ids it newly stored) are read back by ``statementId`` before they count.
- 204: the LRS already had all of them.
- 409 on a batch (a strict LRS, such as ADL's, rejects the whole batch for one known id) or
  400 / 413: split in halves and try again, down to single statements. A single 409 is read
  back and compared: the same statement counts as delivered, a different one is a dead letter
  ("conflict"). A single 400 / 413 is a dead letter with the LRS's answer.
- 401 / 403 and other 4xx answers about the request itself (404, 405, 415): stop; the LRS's
  configuration needs a person (``Stop``). Nothing more is sent this round.
- 5xx, timeouts, refused connections: stop this round (``Transient``); everything not yet
  confirmed is retried after a back-off.

Each statement ends in exactly one of: delivered, dead (with the answer), or left for later.
"""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .client import Answer


class Client(Protocol):
    def post(self, bodies: Sequence[bytes]) -> Answer: ...

    def put(self, statement_id: uuid.UUID, body: bytes) -> Answer: ...

    def get(self, statement_id: uuid.UUID) -> Answer: ...


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    body: bytes


class Halt(enum.Enum):
    NONE = "none"
    TRANSIENT = "transient"  # 5xx, timeout, no connection: back off and retry
    STOP = "stop"  # 401/403 or a misconfigured URL: alert an administrator
    OUT_OF_TIME = "out_of_time"  # the claim's lease would run out: leave the rest


@dataclass
class Report:
    delivered: dict[uuid.UUID, int] = field(default_factory=dict)  # id -> HTTP status
    dead: dict[uuid.UUID, str] = field(default_factory=dict)  # id -> the LRS's answer
    halt: Halt = Halt.NONE
    halt_answer: str = ""
    requests: int = 0

    def left(self, items: Sequence[Item]) -> list[Item]:
        return [i for i in items if i.id not in self.delivered and i.id not in self.dead]


_SPLIT = {400, 409, 413, 422}  # 422: what Ralph answers for an invalid statement
_STOP = {401, 403, 404, 405, 406, 415}


def deliver(
    client: Client, items: Sequence[Item], *, may_continue: Callable[[], bool] = lambda: True
) -> Report:
    """Send ``items``; report what the LRS confirmed, what it refused for good, and why the
    round stopped early, if it did. ``may_continue`` is asked before every request."""
    report = Report()
    pending: list[Sequence[Item]] = [items] if items else []
    while pending:
        part = pending.pop()
        if not may_continue():
            report.halt = Halt.OUT_OF_TIME
            return report
        answer = client.post([i.body for i in part])
        report.requests += 1
        status = answer.status
        if status == 200:
            if not _confirm(client, part, answer, report, may_continue):
                return report
        elif status == 204:
            for item in part:
                report.delivered[item.id] = 204
        elif status in _SPLIT:
            if len(part) > 1:
                middle = len(part) // 2
                pending.extend((part[middle:], part[:middle]))  # the first half goes first
            elif status == 409:
                if not _read_back(client, part[0], report, answer):
                    return report
            else:
                report.dead[part[0].id] = answer.text
        else:
            report.halt = Halt.STOP if status in _STOP else Halt.TRANSIENT
            report.halt_answer = answer.text
            return report
    return report


def _confirm(
    client: Client,
    part: Sequence[Item],
    answer: Answer,
    report: Report,
    may_continue: Callable[[], bool],
) -> bool:
    """A 200: count the ids the LRS names; read back the ones it does not."""
    try:
        named = {uuid.UUID(str(i)) for i in answer.json()}
    except (ValueError, TypeError, AttributeError):
        named = set()  # not an id list: read every statement back
    for item in part:
        if item.id in named:
            report.delivered[item.id] = 200
    for item in part:
        if item.id in report.delivered:
            continue
        if not may_continue():
            report.halt = Halt.OUT_OF_TIME
            return False
        if not _read_back(client, item, report, answer):
            return False
    return True


def _read_back(client: Client, item: Item, report: Report, why: Answer) -> bool:
    """Ask the LRS for ``item``'s id: the same statement is delivered, another is a conflict,
    none means it was not stored (left for the next round). False: stop the round."""
    answer = client.get(item.id)
    report.requests += 1
    if answer.status == 200:
        try:
            theirs = answer.json()
            ours = json.loads(item.body)
        except ValueError:
            theirs, ours = None, None
        if isinstance(theirs, dict) and isinstance(theirs.get("statements"), list):
            # Some LRSs (Ralph) answer a StatementResult instead of the statement, and an
            # empty one instead of 404.
            found = theirs["statements"]
            if not found:
                return True  # not there: left for the next round
            theirs = found[0]
        if isinstance(theirs, dict) and isinstance(ours, dict) and equivalent(ours, theirs):
            report.delivered[item.id] = why.status or 200
        else:
            report.dead[item.id] = (
                "conflict: the LRS holds a different statement with this id; "
                f"it answered {why.text}"
            )
        return True
    if answer.status == 404:
        # Not (yet) there: a 200 that did not store it, or a 409 from an LRS whose reads lag
        # behind its writes. Left for the next round, which sends it again.
        return True
    report.halt = Halt.STOP if answer.status in _STOP else Halt.TRANSIENT
    report.halt_answer = answer.text
    return False


def _instant(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _numbers_as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def equivalent(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Is the LRS's statement the one we sent? (It adds ``stored``, ``authority`` and
    ``version`` and may reformat the timestamp or fill defaults such as ``objectType``.)"""

    def core(statement: dict[str, Any]) -> tuple[Any, ...]:
        actor = dict(statement.get("actor") or {})
        actor.setdefault("objectType", "Agent")
        obj = dict(statement.get("object") or {})
        obj.setdefault("objectType", "Activity")
        return (
            str(statement.get("id", "")).lower(),
            json.dumps(actor.get("account") or actor.get("mbox") or actor, sort_keys=True),
            (statement.get("verb") or {}).get("id"),
            obj.get("objectType"),
            obj.get("id"),
            json.dumps(_numbers_as_floats(statement.get("result")), sort_keys=True),
            (statement.get("context") or {}).get("registration"),
        )

    moment_ours, moment_theirs = _instant(ours.get("timestamp")), _instant(theirs.get("timestamp"))
    same_time = (
        moment_ours is None
        or moment_theirs is None
        or abs((moment_ours - moment_theirs).total_seconds()) < 0.001
    )
    return same_time and core(ours) == core(theirs)
