"""The delivery rules against in-memory LRSs that answer as strict, lenient and broken LRSs do.

The real peers (Ralph, and our own endpoint as the strict one) are in test_forwarding_ralph.py;
these pin each branch of studylog.xapi.delivery with exact request counts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import pytest

from studylog.xapi.client import Answer
from studylog.xapi.delivery import Halt, Item, deliver, equivalent


def statement(n: int, *, score: float = 1.0) -> Item:
    sid = uuid.UUID(int=n + 1)
    body = {
        "id": str(sid),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://p", "name": str(n)}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"},
        "object": {"objectType": "Activity", "id": f"https://p/a/{n}"},
        "result": {"score": {"scaled": score, "raw": score, "min": 0, "max": 1}},
        "timestamp": "2026-12-02T03:40:00.123Z",
    }
    return Item(sid, json.dumps(body).encode())


class MemoryLrs:
    """strict: a batch with one known id is refused whole (409), like the ADL LRS.
    lenient: known ids are skipped and the answer lists only the new ones, like Ralph."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.stored: dict[uuid.UUID, dict[str, object]] = {}
        self.requests: list[str] = []
        self.script: list[Answer] = []  # answers to give first, whatever is asked
        self.reject: set[uuid.UUID] = set()  # ids answered with 400

    def post(self, bodies: Sequence[bytes]) -> Answer:
        self.requests.append(f"POST {len(bodies)}")
        if self.script:
            return self.script.pop(0)
        batch = [json.loads(b) for b in bodies]
        ids = [uuid.UUID(s["id"]) for s in batch]
        if any(i in self.reject for i in ids):
            return Answer(400, b'{"error": "bad statement"}')
        known = [i for i in ids if i in self.stored]
        for i, s in zip(ids, batch, strict=True):
            if i in self.stored and not equivalent(self.stored[i], s):
                return Answer(409, b"different statement with this id")
        if known and self.strict:
            return Answer(409, b"known id")
        new = [(i, s) for i, s in zip(ids, batch, strict=True) if i not in self.stored]
        if not new:
            return Answer(204)
        self.stored.update(new)
        return Answer(200, json.dumps([str(i) for i, _ in new]).encode())

    def put(self, statement_id: uuid.UUID, body: bytes) -> Answer:  # pragma: no cover
        raise AssertionError("delivery reads back instead of PUT")

    def get(self, statement_id: uuid.UUID) -> Answer:
        self.requests.append("GET")
        found = self.stored.get(statement_id)
        if found is None:
            return Answer(404, b"")
        return Answer(200, json.dumps({**found, "stored": "2026-12-02T03:41:00Z"}).encode())


@pytest.mark.parametrize("strict", [True, False])
def test_a_new_batch_is_one_post(strict: bool) -> None:
    lrs = MemoryLrs(strict=strict)
    items = [statement(n) for n in range(8)]
    report = deliver(lrs, items)
    assert (report.delivered, report.dead, report.halt) == (
        {i.id: 200 for i in items},
        {},
        Halt.NONE,
    )
    assert lrs.requests == ["POST 8"]


def test_a_strict_lrs_refusing_a_batch_for_one_known_id_gets_the_rest_by_halving() -> None:
    lrs = MemoryLrs(strict=True)
    items = [statement(n) for n in range(8)]
    deliver(lrs, items[5:6])  # the LRS already has #5 (a resend after a crash)
    lrs.requests.clear()
    report = deliver(lrs, items)
    assert set(report.delivered) == {i.id for i in items} and report.dead == {}
    assert set(lrs.stored) == {i.id for i in items}
    # 8 → 4 (in) + 4 (409) → 2 (409) → 1 (in) + 1 (409: read back, it is there) → 2 (in).
    assert lrs.requests == [
        *("POST 8", "POST 4", "POST 4", "POST 2", "POST 1", "POST 1", "GET", "POST 2")
    ]
    assert report.delivered[items[5].id] == 409


def test_a_lenient_lrs_answering_only_new_ids_has_the_others_read_back() -> None:
    lrs = MemoryLrs(strict=False)
    items = [statement(n) for n in range(4)]
    deliver(lrs, items[:2])
    lrs.requests.clear()
    report = deliver(lrs, items)
    assert set(report.delivered) == {i.id for i in items}
    assert lrs.requests == ["POST 4", "GET", "GET"]


def test_a_batch_the_lrs_has_entirely_is_a_204() -> None:
    lrs = MemoryLrs(strict=False)
    items = [statement(n) for n in range(3)]
    deliver(lrs, items)
    report = deliver(lrs, items)
    assert report.delivered == {i.id: 204 for i in items}


def test_a_bad_statement_is_isolated_and_dead_lettered_with_the_answer() -> None:
    lrs = MemoryLrs(strict=True)
    items = [statement(n) for n in range(6)]
    lrs.reject = {items[4].id}
    report = deliver(lrs, items)
    assert report.dead == {items[4].id: 'HTTP 400: {"error": "bad statement"}'}
    assert set(report.delivered) == {i.id for i in items} - {items[4].id}
    assert report.halt == Halt.NONE


def test_a_different_statement_under_our_id_is_a_conflict_dead_letter() -> None:
    lrs = MemoryLrs(strict=True)
    ours = statement(1, score=1.0)
    theirs = statement(1, score=0.0)
    deliver(lrs, [theirs])
    report = deliver(lrs, [ours])
    assert list(report.dead) == [ours.id]
    assert report.dead[ours.id].startswith("conflict: the LRS holds a different statement")


@pytest.mark.parametrize(
    ("answer", "halt"),
    [
        (Answer(500, b"oops"), Halt.TRANSIENT),
        (Answer(503, b"busy"), Halt.TRANSIENT),
        (Answer(None, error="timeout: read timed out"), Halt.TRANSIENT),
        (Answer(401, b"bad credentials"), Halt.STOP),
        (Answer(403, b"forbidden"), Halt.STOP),
        (Answer(404, b"no such path"), Halt.STOP),
    ],
)
def test_failures_halt_the_round_and_leave_everything_for_later(answer: Answer, halt: Halt) -> None:
    lrs = MemoryLrs(strict=False)
    lrs.script = [answer]
    items = [statement(n) for n in range(3)]
    report = deliver(lrs, items)
    assert (report.delivered, report.dead, report.halt) == ({}, {}, halt)
    assert report.halt_answer == answer.text
    assert report.left(items) == items


def test_a_200_without_an_id_list_has_every_statement_read_back() -> None:
    lrs = MemoryLrs(strict=False)
    items = [statement(n) for n in range(2)]
    lrs.stored[items[0].id] = json.loads(items[0].body)
    lrs.script = [Answer(200, b"ok")]
    report = deliver(lrs, items)
    assert report.delivered == {items[0].id: 200}  # #1 was not stored after all: left
    assert report.left(items) == [items[1]]


def test_the_round_stops_before_a_request_it_may_not_start() -> None:
    lrs = MemoryLrs(strict=True)
    report = deliver(lrs, [statement(0)], may_continue=lambda: False)
    assert (report.halt, lrs.requests) == (Halt.OUT_OF_TIME, [])


def test_equivalence_ignores_what_an_lrs_adds_and_reformats() -> None:
    ours = json.loads(statement(3).body)
    theirs = {
        **ours,
        "timestamp": "2026-12-02T03:40:00.123000+00:00",
        "stored": "2026-12-02T03:41:00Z",
        "authority": {"objectType": "Agent", "mbox": "mailto:lrs@example.org"},
        "version": "1.0.0",
        "result": {"score": {"scaled": 1.0, "raw": 1.0, "min": 0.0, "max": 1.0}},
    }
    assert equivalent(ours, theirs)
    assert not equivalent(ours, {**theirs, "timestamp": "2026-12-02T03:40:01.123Z"})
    assert not equivalent(ours, {**theirs, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}})
