# ruff: noqa: E501  (the expected reasons are whole sentences, kept on one line to grep for)
"""Hostile requests at the LRS endpoint (``/xapi/``): each answers its exact status and error
body with the version header, and writes nothing — no statement, link, attachment,
forwarding or document. Then a seeded mutation test: a valid statement mutated 300 times is
answered 200 or 400, never 500, and rows are written only on 200."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from roster.models import User
from studylog.lrs import access
from studylog.lrs.auth import issue_credential
from studylog.models import (
    Forwarding,
    LrsEndpoint,
    Statement,
    StatementAttachment,
    StatementLink,
    XapiDocument,
)
from tools_registry.models import Registration

JSON = "application/json; charset=utf-8"
ACTIVITY = "https://drill.example/units/addition"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found"}


def counts() -> dict[str, int]:
    return {
        "statements": Statement.objects.count(),
        "links": StatementLink.objects.count(),
        "attachments": StatementAttachment.objects.count(),
        "forwardings": Forwarding.objects.count(),
        "documents": XapiDocument.objects.count(),
    }


def basic(registration: Registration) -> str:
    credential, secret = issue_credential(registration=registration)
    return "Basic " + base64.b64encode(f"{credential.key}:{secret}".encode()).decode()


@dataclass
class World:
    """The drill's and the CBT's credentials, a child both see, one only the drill sees, and
    a statement the drill stored."""

    client: Client
    drill: str
    cbt: str
    child: User
    first_grader: User
    drill_statement: str = ""
    drill_more: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def agent(self, user: User | None = None, **account: str) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "account": {
                "homePage": "https://drill.example",
                "name": str((user or self.child).eportal_uuid),
                **account,
            },
        }

    def statement(self, **fields: Any) -> dict[str, Any]:
        made: dict[str, Any] = {
            "actor": self.agent(),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"ja": "答えた"}},
            "object": {"id": ACTIVITY},
        }
        made.update(fields)
        return made


@pytest.fixture
def world(demo_school: dict[str, User], client: Client) -> World:
    access.clear_cache()
    drill = Registration.objects.get(tool__slug="demo-drill")
    cbt = Registration.objects.get(tool__slug="demo-cbt")
    child = demo_school["sakura-5-2-01"]
    assert child.home_class is not None and child.home_class.school.parent_id is not None
    LrsEndpoint.objects.create(
        board_id=child.home_class.school.parent_id,
        name="board LRS",
        url="https://lrs.example/xapi/",
    )
    made = World(client, basic(drill), basic(cbt), child, demo_school["sakura-1-1-01"])
    headers = {"Authorization": made.drill, "X-Experience-API-Version": "1.0.3"}
    for _ in range(2):
        response = client.post(
            "/xapi/statements", made.statement(), content_type="application/json", headers=headers
        )
        assert response.status_code == 200
    made.drill_statement = response.json()[0]
    page = client.get("/xapi/statements?limit=1", headers=headers).json()
    made.drill_more = page["more"]
    return made


@dataclass(frozen=True)
class Hostile:
    method: str
    path: str  # "/xapi/…?" with the query already encoded
    body: Callable[[World], bytes] | bytes = b""
    content_type: str = "application/json"
    who: str = "drill"  # "drill", "cbt", "nobody" or an Authorization header
    headers: dict[str, str] = field(default_factory=dict)


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def q(value: Any) -> str:
    """A query parameter's value: JSON for objects, percent-encoded."""
    return quote(value if isinstance(value, str) else json.dumps(value), safe="")


def jws(header: dict[str, Any], payload: dict[str, Any]) -> bytes:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}.c2ln".encode()


def signed(world: World, header: dict[str, Any]) -> bytes:
    plain = world.statement()
    token = jws(header, plain)
    sent = {
        **plain,
        "attachments": [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "signature"},
                "contentType": "application/octet-stream",
                "length": len(token),
                "sha2": hashlib.sha256(token).hexdigest(),
            }
        ],
    }
    return (
        b"--b\r\nContent-Type: application/json\r\n\r\n"
        + dumps(sent)
        + b"\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
        + f"X-Experience-API-Hash: {hashlib.sha256(token).hexdigest()}\r\n\r\n".encode()
        + token
        + b"\r\n--b--\r\n"
    )


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


STATEMENTS = "/xapi/statements"
STATE = "/xapi/activities/state"
PROFILE = "/xapi/activities/profile"
SURROGATE = '"\\ud800"'  # a JSON escape of an unpaired surrogate


def _state_query(w: World, **extra: str) -> str:
    return f"{STATE}?activityId={q(ACTIVITY)}&agent={q(w.agent())}&" + "&".join(
        f"{k}={v}" for k, v in extra.items()
    )


CASES: list[tuple[str, Callable[[World], Hostile], int, Callable[[World], str] | str]] = [
    # -- bodies that cannot be read
    (
        "non-UTF-8 body",
        lambda w: Hostile("POST", STATEMENTS, b'{"actor": "\xff\xfe"}'),
        400,
        "the body is not UTF-8",
    ),
    (
        "lone surrogate in a string",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"response": "@"})).replace(b'"@"', SURROGATE.encode()),
        ),
        400,
        "result.response contains an unpaired surrogate",
    ),
    (
        "lone surrogate in a member name",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"extensions": {"@": 1}})).replace(b'"@"', SURROGATE.encode()),
        ),
        400,
        "result.extensions has a member name that contains an unpaired surrogate",
    ),
    (
        "NaN literal",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"extensions": {"https://x.example/e": "@"}})).replace(
                b'"@"', b"NaN"
            ),
        ),
        400,
        "the body is not valid JSON: NaN is not a JSON value (JSON numbers are finite)",
    ),
    (
        "-Infinity literal",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"score": {"raw": "@"}})).replace(b'"@"', b"-Infinity"),
        ),
        400,
        "the body is not valid JSON: -Infinity is not a JSON value (JSON numbers are finite)",
    ),
    (
        "a float beyond double",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"score": {"raw": "@"}})).replace(b'"@"', b"1e400"),
        ),
        400,
        "the body is not valid JSON: the number 1e400 is too large to be stored",
    ),
    (
        "an integer of 5,000 digits",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"extensions": {"https://x.example/e": "@"}})).replace(
                b'"@"', b"9" * 5000
            ),
        ),
        400,
        "the body is not valid JSON: an integer has more than 4300 digits",
    ),
    (
        "nested 100,000 deep",
        lambda w: Hostile("POST", STATEMENTS, nested(100_000)),
        400,
        "the body is nested more deeply than this LRS reads (100 levels)",
    ),
    (
        "nested 150 deep in an extension",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(w.statement(result={"extensions": {"https://x.example/e": "@"}})).replace(
                b'"@"', nested(150)
            ),
        ),
        400,
        "the body is nested more deeply than this LRS reads (100 levels)",
    ),
    # -- times
    (
        "year 9999 west of UTC",
        lambda w: Hostile(
            "POST", STATEMENTS, dumps(w.statement(timestamp="9999-12-31T23:59:59-01:00"))
        ),
        400,
        "timestamp: '9999-12-31T23:59:59-01:00' is outside the years 1 to 9999 in UTC, which this LRS stores",
    ),
    (
        "year 1 east of UTC",
        lambda w: Hostile(
            "POST", STATEMENTS, dumps(w.statement(timestamp="0001-01-01T00:00:00+01:00"))
        ),
        400,
        "timestamp: '0001-01-01T00:00:00+01:00' is outside the years 1 to 9999 in UTC, which this LRS stores",
    ),
    (
        "year 0",
        lambda w: Hostile("POST", STATEMENTS, dumps(w.statement(timestamp="0000-01-01T00:00:00Z"))),
        400,
        "timestamp: is not a real date and time: '0000-01-01T00:00:00Z'",
    ),
    (
        "full-width digits",
        lambda w: Hostile(
            "POST", STATEMENTS, dumps(w.statement(timestamp="２０２６-04-01T08:30:00Z"))
        ),
        400,
        "timestamp: must be an ISO 8601 timestamp with a time zone, such as '2026-04-01T08:30:00.000Z', got '２０２６-04-01T08:30:00Z'",
    ),
    (
        "since before year 1 in UTC",
        lambda w: Hostile("GET", f"{STATEMENTS}?since={q('0001-01-01T00:00:00+01:00')}"),
        400,
        "since: '0001-01-01T00:00:00+01:00' is outside the years 1 to 9999 in UTC, which this LRS stores",
    ),
    (
        "document since before year 1 in UTC",
        lambda w: Hostile(
            "GET", f"{PROFILE}?activityId={q(ACTIVITY)}&since={q('0001-01-01T00:00:00+01:00')}"
        ),
        400,
        "since is outside the years 1 to 9999 in UTC: '0001-01-01T00:00:00+01:00'",
    ),
    # -- batches: the 50th statement fails, the first 49 are not written
    (
        "batch, the 50th with an impossible time",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(
                [w.statement() for _ in range(49)]
                + [w.statement(timestamp="9999-12-31T23:59:59-01:00")]
            ),
        ),
        400,
        "[49].timestamp: '9999-12-31T23:59:59-01:00' is outside the years 1 to 9999 in UTC, which this LRS stores",
    ),
    (
        "batch, the 50th about a child the CBT may not see",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(
                [w.statement() for _ in range(49)] + [w.statement(actor=w.agent(w.first_grader))]
            ),
            who="cbt",
        ),
        400,
        lambda w: (
            f"[49].actor: is not a learner or teacher of a class where this tool is placed (account.name {w.first_grader.eportal_uuid})"
        ),
    ),
    (
        "batch, the 50th repeats a stored id",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps([w.statement() for _ in range(49)] + [w.statement(id=w.drill_statement)]),
        ),
        409,
        lambda w: (
            f"already stored: {w.drill_statement}; a batch with a stored id is refused whole, nothing was stored"
        ),
    ),
    # -- sizes the database cannot index
    (
        "a verb id of 3,000 characters",
        lambda w: Hostile(
            "POST", STATEMENTS, dumps(w.statement(verb={"id": "https://x.example/" + "v" * 2982}))
        ),
        400,
        "verb.id: is 3000 characters long; this LRS stores verb ids of up to 500",
    ),
    (
        "a NUL in an agent's account name",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            dumps(
                w.statement(
                    context={
                        "instructor": {
                            "account": {"homePage": "https://x.example", "name": "a\x00b"}
                        }
                    }
                )
            ),
        ),
        400,
        "statement: names an agent whose account name contains a NUL character, which this LRS cannot store",
    ),
    (
        "a NUL in a parameter",
        lambda w: Hostile("GET", f"{STATEMENTS}?verb=https://x.example/%00"),
        400,
        "verb contains a NUL character",
    ),
    (
        "a NUL in a document id",
        lambda w: Hostile(
            "PUT",
            f"{PROFILE}?activityId={q(ACTIVITY)}&profileId=a%00b",
            b"{}",
            headers={"If-None-Match": "*"},
        ),
        400,
        "profileId contains a NUL character",
    ),
    (
        "a document Content-Type of 300 characters",
        lambda w: Hostile(
            "PUT", _state_query(w, stateId="s"), b"x", content_type="text/plain; x=" + "y" * 286
        ),
        400,
        "the Content-Type is longer than 255 characters",
    ),
    (
        "a NaN merged into a document",
        lambda w: Hostile("POST", _state_query(w, stateId="s"), b'{"a": NaN}'),
        400,
        "the posted document is application/json but not valid JSON: NaN is not a JSON value (JSON numbers are finite)",
    ),
    # -- query parameters
    (
        "limit=-1",
        lambda w: Hostile("GET", f"{STATEMENTS}?limit=-1"),
        400,
        "limit must be a non-negative integer, got '-1'",
    ),
    (
        "a forged more",
        lambda w: Hostile("GET", f"{STATEMENTS}?more=eyJyIjoxfQ:forged"),
        400,
        "more is not an IRL this LRS gave",
    ),
    (
        "another tool's more",
        lambda w: Hostile("GET", w.drill_more, who="cbt"),
        400,
        "more is not an IRL this LRS gave these credentials",
    ),
    (
        "agent is an array",
        lambda w: Hostile("GET", f"{STATEMENTS}?agent={q('[]')}"),
        400,
        "agent: must be an Agent or a Group (a JSON object), got an array",
    ),
    (
        "agent is a number",
        lambda w: Hostile("GET", f"{STATEMENTS}?agent=5"),
        400,
        "agent: must be an Agent or a Group (a JSON object), got 5",
    ),
    (
        "agent is null",
        lambda w: Hostile("GET", f"{STATEMENTS}?agent=null"),
        400,
        "agent: must not be null (only extension values may be null)",
    ),
    (
        "agent nested 50,000 deep",
        lambda w: Hostile("GET", f"{STATEMENTS}?agent={q(nested(50_000).decode())}"),
        400,
        "agent is nested more deeply than this LRS reads (100 levels)",
    ),
    (
        "agent with a lone surrogate",
        lambda w: Hostile(
            "GET",
            f"{STATEMENTS}?agent="
            + q(json.dumps({**w.agent(), "name": "@"}).replace('"@"', SURROGATE)),
        ),
        400,
        "agent name contains an unpaired surrogate",
    ),
    (
        "a state agent with a lone surrogate",
        lambda w: Hostile(
            "PUT",
            f"{STATE}?activityId={q(ACTIVITY)}&stateId=s&agent="
            + q(json.dumps(w.agent(homePage="@")).replace('"@"', SURROGATE)),
            b"{}",
        ),
        400,
        "agent account.homePage contains an unpaired surrogate",
    ),
    (
        "Agents with an agent outside the tool's classes",
        lambda w: Hostile("GET", f"/xapi/agents?agent={q(w.agent(w.first_grader))}", who="cbt"),
        400,
        lambda w: (
            f"agent: is not a learner or teacher of a class where this tool is placed (account.name {w.first_grader.eportal_uuid})"
        ),
    ),
    (
        "State of a child outside the tool's classes",
        lambda w: Hostile(
            "PUT",
            f"{STATE}?activityId={q(ACTIVITY)}&stateId=s&agent={q(w.agent(w.first_grader))}",
            b"{}",
            who="cbt",
        ),
        400,
        lambda w: (
            f"agent: is not a learner or teacher of a class where this tool is placed (account.name {w.first_grader.eportal_uuid})"
        ),
    ),
    # -- another tool's statements
    (
        "GET another tool's statement",
        lambda w: Hostile("GET", f"{STATEMENTS}?statementId={w.drill_statement}", who="cbt"),
        404,
        lambda w: f"no statement with id {w.drill_statement}",
    ),
    (
        "PUT over another tool's statement",
        lambda w: Hostile(
            "PUT", f"{STATEMENTS}?statementId={w.drill_statement}", dumps(w.statement()), who="cbt"
        ),
        409,
        lambda w: f"a different statement with id {w.drill_statement} is already stored",
    ),
    # -- multipart and signatures
    (
        "multipart without a boundary",
        lambda w: Hostile(
            "POST", STATEMENTS, b"--b\r\n\r\n{}\r\n--b--", content_type="multipart/mixed"
        ),
        400,
        "a multipart/mixed Content-Type needs a boundary parameter (1 to 70 ASCII characters)",
    ),
    (
        "multipart with a non-ASCII boundary",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            b"--b\r\n\r\n{}\r\n--b--",
            content_type="multipart/mixed; boundary=\u00e9",
        ),
        400,
        "a multipart/mixed Content-Type needs a boundary parameter (1 to 70 ASCII characters)",
    ),
    (
        "multipart without its closing delimiter",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            b"--b\r\nContent-Type: application/json\r\n\r\n{}" + b"\r\n--bx" * 1000,
            content_type="multipart/mixed; boundary=b",
        ),
        400,
        "the body does not end with the closing delimiter",
    ),
    (
        "a JWS with alg none",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            signed(w, {"alg": "none"}),
            content_type="multipart/mixed; boundary=b",
        ),
        400,
        "attachments[0]: the signature must use RS256, RS384 or RS512, got 'none'",
    ),
    (
        "a JWS with HS256",
        lambda w: Hostile(
            "POST",
            STATEMENTS,
            signed(w, {"alg": "HS256"}),
            content_type="multipart/mixed; boundary=b",
        ),
        400,
        "attachments[0]: the signature must use RS256, RS384 or RS512, got 'HS256'",
    ),
    # -- credentials and routing
    (
        "Basic with non-ASCII",
        lambda w: Hostile("GET", STATEMENTS, who="Basic \u00e9t\u00e9"),
        401,
        "the Basic credentials are not valid base64 of key:secret",
    ),
    (
        "no credentials",
        lambda w: Hostile("GET", STATEMENTS, who="nobody"),
        401,
        "HTTP Basic credentials are required (issued per tool)",
    ),
    (
        "an unrouted URL",
        lambda w: Hostile("GET", "/xapi/nonexistent", who="nobody"),
        404,
        "no such resource of this LRS: it has about, statements, activities, activities/state, activities/profile, agents and agents/profile",
    ),
    (
        "an unrouted POST",
        lambda w: Hostile("POST", "/xapi/statements/extra", b"{}"),
        404,
        "no such resource of this LRS: it has about, statements, activities, activities/state, activities/profile, agents and agents/profile",
    ),
]


def send(world: World, hostile: Hostile) -> Any:
    headers = {"X-Experience-API-Version": "1.0.3", **hostile.headers}
    if hostile.who in ("drill", "cbt"):
        headers["Authorization"] = getattr(world, hostile.who)
    elif hostile.who != "nobody":
        headers["Authorization"] = hostile.who
    body = hostile.body(world) if callable(hostile.body) else hostile.body
    return world.client.generic(
        hostile.method, hostile.path, body, content_type=hostile.content_type, headers=headers
    )


@pytest.mark.parametrize(
    ("make", "status", "reason"), [pytest.param(*case[1:], id=case[0]) for case in CASES]
)
def test_hostile_requests_are_refused_and_write_nothing(
    world: World,
    make: Callable[[World], Hostile],
    status: int,
    reason: Callable[[World], str] | str,
) -> None:
    before = counts()
    response = send(world, make(world))
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert response["X-Experience-API-Version"] == "1.0.3"
    expected = reason(world) if callable(reason) else reason
    assert response.json() == {
        "error": CODES.get(status, "conflict"),
        "error_description": expected,
    }
    assert counts() == before


def _headers(authorization: str) -> dict[str, str]:
    return {"Authorization": authorization, "X-Experience-API-Version": "1.0.3"}


def test_voiding_another_tools_statement_voids_nothing_of_it(world: World) -> None:
    voiding = world.statement(
        verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": world.drill_statement}
    )
    response = world.client.post(
        STATEMENTS, voiding, content_type="application/json", headers=_headers(world.cbt)
    )
    assert response.status_code == 200
    assert Statement.objects.get(pk=world.drill_statement).voided is False
    got = world.client.get(
        f"{STATEMENTS}?statementId={world.drill_statement}", headers=_headers(world.drill)
    )
    assert got.status_code == 200


def test_long_activity_iris_are_found_exactly(world: World) -> None:
    long_iri = "https://x.example/" + "a" * 1500  # longer than a link key (600)
    twin = long_iri[:-1] + "b"  # the same first 600 characters and more
    response = world.client.post(
        STATEMENTS,
        world.statement(object={"id": long_iri}),
        content_type="application/json",
        headers=_headers(world.drill),
    )
    assert response.status_code == 200
    (sid,) = response.json()
    for iri, found in ((long_iri, [sid]), (twin, [])):
        page = world.client.get(f"{STATEMENTS}?activity={q(iri)}", headers=_headers(world.drill))
        assert [s["id"] for s in page.json()["statements"]] == found
    activity = world.client.get(
        f"/xapi/activities?activityId={q(long_iri)}", headers=_headers(world.drill)
    )
    assert activity.json() == {"objectType": "Activity", "id": long_iri}


def test_a_leap_second_is_stored_as_the_last_moment_before_it(world: World) -> None:
    response = world.client.post(
        STATEMENTS,
        world.statement(timestamp="2016-12-31T23:59:60.5Z"),
        content_type="application/json",
        headers=_headers(world.drill),
    )
    assert response.status_code == 200
    row = Statement.objects.get(pk=response.json()[0])
    assert row.timestamp.isoformat() == "2016-12-31T23:59:59.999999+00:00"
    assert json.loads(bytes(row.body))["timestamp"] == "2016-12-31T23:59:60.5Z"


# -- mutation ------------------------------------------------------------------------------

HOSTILE_VALUES: list[Any] = [
    None, True, 0, -1, 1.5, 10**40, "", "x" * 5000, "\ud800", "\x00", "a\udfffb", [], {}, [[[[]]]],
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2016-12-31T23:59:60Z",
    "https://x.example/" + "i" * 3000, str(uuid.UUID(int=0)), {"objectType": "Group"},
    {"objectType": "StatementRef", "id": str(uuid.UUID(int=1))}, "mailto:a@b.example",
]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _mutate(statement: dict[str, Any], rng: random.Random) -> Any:
    copy = json.loads(json.dumps(statement))
    path = rng.choice(_paths(copy))
    if not path:
        return rng.choice(HOSTILE_VALUES)
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = rng.choice(("delete", "replace", "replace", "add", "rename"))
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = rng.choice(HOSTILE_VALUES)
    elif action == "add" and isinstance(parent, dict):
        parent[rng.choice(("\ud800", "extensions", "objectType", "x", "id"))] = rng.choice(
            HOSTILE_VALUES
        )
    elif action == "rename" and isinstance(parent, dict):
        parent[str(last).upper()] = parent.pop(last)
    return copy


def test_mutated_statements_are_stored_or_refused_never_a_500(world: World) -> None:
    rng = random.Random(9)  # seeded: the same 300 mutations every run
    valid = world.statement(
        id=str(uuid.uuid4()),
        timestamp="2026-04-01T08:30:00.000+09:00",
        result={"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": True},
        context={
            "registration": str(uuid.uuid4()),
            "contextActivities": {"parent": [{"id": "https://drill.example/units"}]},
            "extensions": {"https://x.example/e": {"n": [1, 2]}},
        },
    )
    statuses: dict[int, int] = {}
    for _ in range(300):
        mutated = _mutate({**valid, "id": str(uuid.uuid4())}, rng)
        body = json.dumps(mutated, ensure_ascii=True).encode()  # surrogates as JSON escapes
        before = counts()
        response = world.client.post(
            STATEMENTS, body, content_type="application/json", headers=_headers(world.drill)
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400), (mutated, response.content)
        assert response["X-Experience-API-Version"] == "1.0.3"
        after = counts()
        if response.status_code == 400:
            assert after == before, mutated
            assert set(response.json()) == {"error", "error_description"}
        else:
            stored = len(response.json())  # 1, or 0 for an empty batch
            assert after["statements"] == before["statements"] + stored
    assert statuses[200] > 0 and statuses[400] > 100
