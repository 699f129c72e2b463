# ruff: noqa: E501  (the expected reasons are whole sentences, kept on one line to grep for)
"""The portal's LRS endpoint, Statement resource (``/xapi/statements``), through the Django
test client with a demo tool's credentials: the vendor statement stored as-is, every refusal a
400 (or 409, 401) with its reason and nothing written, voiding, queries and paging, the
alternate request syntax, HEAD, attachments and signed statements."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.test import Client
from django.utils.http import http_date

from roster.models import User
from studylog.lrs import access, statements
from studylog.lrs.auth import issue_credential
from studylog.models import Forwarding, LrsEndpoint, Statement, StatementAttachment, StatementLink
from studylog.xapi.statements import encode, format_timestamp
from tools_registry.models import Registration

DATA = Path(__file__).resolve().parents[1] / "data" / "xapi"
URL = "/xapi/statements"
JSON = "application/json; charset=utf-8"
T0 = datetime.datetime(2026, 12, 2, 3, 40, 0, 123000, tzinfo=datetime.UTC)
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ACTIVITY = "https://drill.example/units/addition"


def counts() -> dict[str, int]:
    return {
        "statements": Statement.objects.count(),
        "links": StatementLink.objects.count(),
        "attachments": StatementAttachment.objects.count(),
        "forwardings": Forwarding.objects.count(),
    }


NOTHING = {"statements": 0, "links": 0, "attachments": 0, "forwardings": 0}


def refused(response: Any, status: int, reason: str, before: dict[str, int]) -> None:
    codes = {400: "bad_request", 401: "unauthorized", 404: "not_found", 409: "conflict"}
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert response.json() == {"error": codes[status], "error_description": reason}
    assert counts() == before


@dataclass
class Clock:
    now: datetime.datetime

    def advance(self, seconds: float) -> datetime.datetime:
        self.now += datetime.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    current = Clock(T0)
    monkeypatch.setattr(statements, "_now", lambda: current.now)
    return current


@pytest.fixture(autouse=True)
def _fresh_actor_cache() -> Iterator[None]:
    access.clear_cache()
    yield
    access.clear_cache()


@dataclass
class Lrs:
    client: Client
    registration: Registration
    auth: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": self.auth, "X-Experience-API-Version": "1.0.3", **extra}

    def post(self, data: object, **headers: str) -> Any:
        body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
        content_type = headers.pop("content_type", "application/json")
        return self.client.post(
            URL, body, content_type=content_type, headers=self.headers(**headers)
        )

    def put(self, statement_id: object, data: object, **headers: str) -> Any:
        body = json.dumps(data, ensure_ascii=False).encode()
        return self.client.put(
            f"{URL}?statementId={statement_id}",
            body,
            content_type="application/json",
            headers=self.headers(**headers),
        )

    def get(self, path: str = URL, **params: str) -> Any:
        query = ("&" if "?" in path else "?") + urlencode(params) if params else ""
        return self.client.get(path + query, headers=self.headers())

    @property
    def authority(self) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "name": self.registration.tool.name,
            "account": {"homePage": settings.LTI_ISSUER, "name": self.registration.client_id},
        }


def credentials(client: Client, slug: str) -> Lrs:
    registration = Registration.objects.select_related("tool").get(tool__slug=slug)
    credential, secret = issue_credential(registration=registration)
    auth = "Basic " + base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    return Lrs(client, registration, auth)


@pytest.fixture
def lrs(demo_school: dict[str, User], client: Client, clock: Clock) -> Lrs:
    return credentials(client, "demo-drill")


@pytest.fixture
def student(demo_school: dict[str, User]) -> User:
    return demo_school["sakura-5-2-01"]


def actor(user: User) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "account": {"homePage": "https://drill.example", "name": str(user.eportal_uuid)},
    }


def statement(user: User, **fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "actor": actor(user),
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/answered",
            "display": {"en-US": "answered", "ja": "答えた"},
        },
        "object": {"id": ACTIVITY, "definition": {"name": {"en-US": "Addition", "ja": "たしざん"}}},
    }
    made.update(fields)
    return made


def returned(lrs: Lrs, sent: dict[str, Any], stored: datetime.datetime) -> dict[str, Any]:
    """What GET answers for a statement stored as ``sent`` (with its id and timestamp)."""
    return {
        **sent,
        "stored": format_timestamp(stored),
        "authority": lrs.authority,
        "version": "1.0.3",
    }


# -- storing -------------------------------------------------------------------------------


def test_the_vendor_statement_is_stored_as_is(lrs: Lrs, student: User) -> None:
    vendor = json.loads((DATA / "vendor-b-statement.json").read_text(encoding="utf-8"))
    vendor[0]["actor"]["account"]["name"] = str(student.eportal_uuid)
    response = lrs.post(vendor)
    assert response.status_code == 200
    assert response["Content-Type"] == JSON
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert response["X-Experience-API-Consistent-Through"] == "2026-12-02T03:40:00.123Z"
    (statement_id,) = response.json()
    row = Statement.objects.get()
    assert str(row.id) == statement_id
    expected = {"id": statement_id, **vendor[0]}
    assert bytes(row.body) == encode(expected)  # the bytes forwarded: no stored, no authority
    assert (row.origin, row.verb, row.object_id) == (
        "tool",
        "http://adlnet.gov/expapi/verbs/progressed",
        "http://adlnet.gov/courses/SJ01",
    )
    assert row.timestamp == datetime.datetime(2023, 2, 28, 3, 0, 21, 619000, tzinfo=datetime.UTC)
    assert (row.stored, row.user_id, row.school_class_id) == (T0, student.pk, student.home_class_id)
    assert (row.registration_id, row.tool_id) == (lrs.registration.pk, lrs.registration.tool_id)
    assert row.actor_key == f"account:https://atr-call-vm2.coolware.private|{student.eportal_uuid}"

    got = lrs.get(statementId=statement_id)
    assert got.status_code == 200
    assert got["Content-Type"] == JSON
    assert got["Last-Modified"] == http_date(T0.timestamp())
    assert got["X-Experience-API-Consistent-Through"] == "2026-12-02T03:40:00.123Z"
    assert got.json() == returned(lrs, expected, T0)


def test_an_id_and_a_timestamp_are_given_when_missing_and_authority_replaced(
    lrs: Lrs, student: User
) -> None:
    sent = statement(
        student, authority={"objectType": "Agent", "mbox": "mailto:someone@example.com"}
    )
    response = lrs.post(sent)
    assert response.status_code == 200
    (statement_id,) = response.json()
    assert uuid.UUID(statement_id).version == 4
    row = Statement.objects.get()
    expected = {"id": statement_id, **statement(student), "timestamp": "2026-12-02T03:40:00.123Z"}
    assert bytes(row.body) == encode(expected)
    assert lrs.get(statementId=statement_id).json() == returned(lrs, expected, T0)


def test_context_activities_are_stored_as_arrays(lrs: Lrs, student: User) -> None:
    parent = {"id": "https://drill.example/units"}
    sid = str(uuid.uuid4())
    sent = statement(
        student,
        id=sid,
        timestamp="2026-12-02T12:00:00+09:00",
        context={"contextActivities": {"parent": parent}},
    )
    assert lrs.post(sent).status_code == 200
    expected = {**sent, "context": {"contextActivities": {"parent": [parent]}}}
    assert bytes(Statement.objects.get().body) == encode(expected)


def oversized(user: User) -> dict[str, Any]:
    return statement(user, result={"response": "x" * 70_000})


BAD_CASES: list[tuple[str, Callable[[User, User], object], str]] = [
    (
        "invalid JSON",
        lambda s, o: b'{"actor": ',
        "the body is not valid JSON: Expecting value: line 1 column 11 (char 10)",
    ),
    (
        "missing actor",
        lambda s, o: {k: v for k, v in statement(s).items() if k != "actor"},
        "actor: is required in a Statement",
    ),
    (
        "wrong actor (an e-mail)",
        lambda s, o: statement(s, actor={"mbox": "mailto:taro@example.com"}),
        "actor: must be identified by an account whose name is the person's e-portal UUID (the LTI launch's sub); e-mail, openid and mbox_sha1sum are not accepted here",
    ),
    (
        "invalid verb IRI",
        lambda s, o: statement(s, verb={"id": "answered"}),
        "verb.id: must be an IRI (absolute, with a scheme such as 'https:'), got 'answered'",
    ),
    (
        "score out of range",
        lambda s, o: statement(s, result={"score": {"scaled": 1.5}}),
        "result.score.scaled: must be between -1 and 1 inclusive, got 1.5",
    ),
    (
        "oversized",
        lambda s, o: oversized(s),
        "statement: is 70455 bytes, larger than this LRS accepts (65536 bytes)",
    ),
    (
        "an actor from another school",
        lambda s, o: statement(o),
        "actor: is not a learner or teacher of a class where this tool is placed (account.name {other})",
    ),
    (
        "one bad statement of a batch",
        lambda s, o: [statement(s), statement(s, verb={"id": "answered"})],
        "[1].verb.id: must be an IRI (absolute, with a scheme such as 'https:'), got 'answered'",
    ),
]


@pytest.mark.parametrize(("case", "make", "reason"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_statements_are_refused_with_the_reason_and_not_stored(
    lrs: Lrs,
    student: User,
    student_factory: Any,
    case: str,
    make: Callable[[User, User], object],
    reason: str,
) -> None:
    other = student_factory()
    response = lrs.post(make(student, other))
    refused(response, 400, reason.format(other=other.eportal_uuid), NOTHING)


def test_a_batch_with_one_stored_id_is_refused_whole(lrs: Lrs, student: User) -> None:
    known = str(uuid.uuid4())
    assert lrs.post(statement(student, id=known)).status_code == 200
    before = counts()
    fresh = statement(student, id=str(uuid.uuid4()))
    response = lrs.post([fresh, statement(student, id=known)])
    refused(
        response,
        409,
        f"already stored: {known}; a batch with a stored id is refused whole, nothing was stored",
        before,
    )
    assert not Statement.objects.filter(pk=fresh["id"]).exists()
    assert response["X-Experience-API-Consistent-Through"] == "2026-12-02T03:40:00.123Z"


def test_a_batch_repeating_an_id_is_refused(lrs: Lrs, student: User) -> None:
    same = str(uuid.uuid4())
    response = lrs.post([statement(student, id=same), statement(student, id=same)])
    refused(
        response,
        400,
        "[1].id: repeats the id of [0] (the statements of a batch need distinct ids)",
        NOTHING,
    )


def test_a_batch_is_stored_in_order(lrs: Lrs, student: User) -> None:
    sent = [statement(student, id=str(uuid.uuid4())) for _ in range(3)]
    response = lrs.post(sent)
    assert response.status_code == 200
    assert response.json() == [s["id"] for s in sent]
    assert counts() == {"statements": 3, "links": 9, "attachments": 0, "forwardings": 0}


def test_each_statement_is_forwarded_to_the_boards_lrs(lrs: Lrs, student: User) -> None:
    assert student.home_class is not None
    board = student.home_class.school.parent
    assert board is not None
    lrs_endpoint = LrsEndpoint.objects.create(
        board=board, name="board LRS", url="https://lrs.example/xapi/"
    )
    LrsEndpoint.objects.create(
        board=board, name="retired", url="https://old.example/xapi/", active=False
    )
    sent = [statement(student, id=str(uuid.uuid4())) for _ in range(2)]
    assert lrs.post(sent).status_code == 200
    rows = Forwarding.objects.order_by("statement_id").values_list(
        "statement_id", "lrs_id", "state", "available_at"
    )
    assert sorted(rows) == sorted(
        (uuid.UUID(s["id"]), lrs_endpoint.pk, "pending", T0) for s in sent
    )


def test_put_stores_once_then_compares(lrs: Lrs, student: User, clock: Clock) -> None:
    sid = str(uuid.uuid4())
    sent = statement(student, timestamp="2026-12-02T03:00:00.000Z")
    response = lrs.put(sid, sent)
    assert response.status_code == 204
    assert response.content == b""
    assert response["X-Experience-API-Consistent-Through"] == "2026-12-02T03:40:00.123Z"
    before = counts()
    clock.advance(5)
    again = lrs.put(
        sid, {**sent, "id": sid.upper(), "stored": "2026-01-01T00:00:00Z", "version": "1.0.0"}
    )
    assert again.status_code == 204
    assert counts() == before
    different = lrs.put(sid, {**sent, "result": {"success": True}})
    refused(different, 409, f"a different statement with id {sid} is already stored", before)
    assert lrs.get(statementId=sid).json() == returned(lrs, {"id": sid, **sent}, T0)


def test_put_refuses_what_post_is_for(lrs: Lrs, student: User) -> None:
    sid, other = str(uuid.uuid4()), str(uuid.uuid4())
    refused(
        lrs.put(sid, statement(student, id=other)),
        400,
        f"id: {other} is not the statementId parameter ({sid})",
        NOTHING,
    )
    refused(
        lrs.put(sid, [statement(student)]),
        400,
        "PUT takes one statement (a JSON object), not an array",
        NOTHING,
    )
    response = lrs.client.put(
        URL, json.dumps(statement(student)), content_type="application/json", headers=lrs.headers()
    )
    refused(response, 400, "PUT needs the statementId parameter (or POST the statement)", NOTHING)
    refused(
        lrs.put("not-a-uuid", statement(student)),
        400,
        "statementId must be a UUID, got 'not-a-uuid'",
        NOTHING,
    )


# -- voiding -------------------------------------------------------------------------------


def voiding(user: User, target: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": actor(user),
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
        "timestamp": "2026-12-02T03:41:00.000Z",
    }


def test_a_voided_statement_is_only_returned_by_voided_statement_id(
    lrs: Lrs, student: User, clock: Clock
) -> None:
    target = statement(student, id=str(uuid.uuid4()), timestamp="2026-12-02T03:40:00.000Z")
    assert lrs.post(target).status_code == 200
    clock.advance(1)
    void = voiding(student, target["id"])
    assert lrs.post(void).status_code == 200
    assert Statement.objects.get(pk=target["id"]).voided is True

    refused(
        lrs.get(statementId=target["id"]), 404, f"no statement with id {target['id']}", counts()
    )
    assert lrs.get(voidedStatementId=target["id"]).json() == returned(lrs, target, T0)
    refused(
        lrs.get(voidedStatementId=void["id"]),
        404,
        f"no voided statement with id {void['id']}",
        counts(),
    )
    # the voiding statement is returned by queries, also by the voided statement's activity
    voided_at = T0 + datetime.timedelta(seconds=1)
    assert lrs.get().json() == {"statements": [returned(lrs, void, voided_at)], "more": ""}
    assert lrs.get(activity=ACTIVITY).json() == {
        "statements": [returned(lrs, void, voided_at)],
        "more": "",
    }

    # a voiding statement cannot be voided
    clock.advance(1)
    assert lrs.post(voiding(student, void["id"])).status_code == 200
    assert Statement.objects.get(pk=void["id"]).voided is False


def test_a_statement_voided_before_it_arrives_is_stored_voided(lrs: Lrs, student: User) -> None:
    target = statement(student, id=str(uuid.uuid4()))
    assert lrs.post(voiding(student, target["id"])).status_code == 200
    assert lrs.post(target).status_code == 200
    assert Statement.objects.get(pk=target["id"]).voided is True


# -- queries -------------------------------------------------------------------------------


@pytest.fixture
def three(
    lrs: Lrs, student: User, clock: Clock, demo_school: dict[str, User]
) -> list[tuple[dict[str, Any], datetime.datetime]]:
    """Three statements stored a second apart: answered (registration R), completed by the
    teacher, answered with a context activity."""
    teacher = demo_school["sakura-t-kato"]
    made = [
        statement(
            student,
            id=str(uuid.uuid4()),
            timestamp="2026-12-02T03:00:00.000Z",
            context={"registration": "a7f0ac4a-6b4e-4c3f-9d4b-1b2c3d4e5f60"},
        ),
        statement(
            teacher,
            id=str(uuid.uuid4()),
            timestamp="2026-12-02T03:00:01.000Z",
            verb={"id": "http://adlnet.gov/expapi/verbs/completed"},
        ),
        statement(
            student,
            id=str(uuid.uuid4()),
            timestamp="2026-12-02T03:00:02.000Z",
            object={"id": "https://drill.example/units/other"},
            context={"contextActivities": {"parent": [{"id": ACTIVITY}]}},
        ),
    ]
    out = []
    for index, sent in enumerate(made):
        at = clock.advance(1) if index else clock.now
        assert lrs.post(sent).status_code == 200
        out.append((sent, at))
    return out


def ids(response: Any) -> list[str]:
    assert response.status_code == 200
    return [s["id"] for s in response.json()["statements"]]


def test_queries_filter_and_order(
    lrs: Lrs, student: User, three: list[tuple[dict[str, Any], datetime.datetime]]
) -> None:
    (a, at_a), (b, at_b), (c, at_c) = three
    response = lrs.get()
    assert response["Content-Type"] == JSON
    assert response["X-Experience-API-Consistent-Through"] == format_timestamp(at_c)
    assert response.json() == {
        "statements": [returned(lrs, s, t) for s, t in reversed(three)],
        "more": "",
    }
    assert ids(lrs.get(ascending="true")) == [a["id"], b["id"], c["id"]]
    assert ids(lrs.get(verb="http://adlnet.gov/expapi/verbs/completed")) == [b["id"]]
    assert ids(lrs.get(agent=json.dumps(actor(student)))) == [c["id"], a["id"]]
    assert ids(lrs.get(activity=ACTIVITY)) == [b["id"], a["id"]]
    assert ids(lrs.get(activity=ACTIVITY, related_activities="true")) == [c["id"], b["id"], a["id"]]
    assert ids(lrs.get(registration="a7f0ac4a-6b4e-4c3f-9d4b-1b2c3d4e5f60")) == [a["id"]]
    assert ids(lrs.get(since=format_timestamp(at_a))) == [c["id"], b["id"]]
    assert ids(lrs.get(until=format_timestamp(at_b))) == [b["id"], a["id"]]
    authority = json.dumps(lrs.authority)
    assert ids(lrs.get(agent=authority)) == []
    assert ids(lrs.get(agent=authority, related_agents="true")) == [c["id"], b["id"], a["id"]]


def test_more_pages_through_the_results(
    lrs: Lrs, three: list[tuple[dict[str, Any], datetime.datetime]]
) -> None:
    (a, _), (b, _), (c, _) = three
    first = lrs.get(limit="2")
    assert ids(first) == [c["id"], b["id"]]
    more = first.json()["more"]
    assert more.startswith("/xapi/statements?more=")
    second = lrs.get(more)
    assert second.json() == {"statements": [returned(lrs, a, T0)], "more": ""}
    up = lrs.get(limit="1", ascending="true")
    assert ids(up) == [a["id"]]
    assert ids(lrs.get(up.json()["more"])) == [b["id"]]
    refused(lrs.get(URL + "?more=forged"), 400, "more is not an IRL this LRS gave", counts())
    other = credentials(lrs.client, "demo-cbt")
    refused(other.get(more), 400, "more is not an IRL this LRS gave these credentials", counts())


def test_formats(lrs: Lrs, student: User, clock: Clock) -> None:
    sent = statement(student, id=str(uuid.uuid4()), timestamp="2026-12-02T03:00:00.000Z")
    assert lrs.post(sent).status_code == 200
    assert lrs.get(statementId=sent["id"], format="ids").json() == {
        "id": sent["id"],
        "actor": {"objectType": "Agent", "account": actor(student)["account"]},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"id": ACTIVITY},
        "timestamp": "2026-12-02T03:00:00.000Z",
        "stored": "2026-12-02T03:40:00.123Z",
        "authority": {"objectType": "Agent", "account": lrs.authority["account"]},
        "version": "1.0.3",
    }
    response = lrs.client.get(
        f"{URL}?statementId={sent['id']}&format=canonical",
        headers=lrs.headers(**{"Accept-Language": "ja, en;q=0.5"}),
    )
    body = response.json()
    assert body["verb"]["display"] == {"ja": "答えた"}
    assert body["object"]["definition"]["name"] == {"ja": "たしざん"}
    assert body == {**returned(lrs, sent, T0), "verb": body["verb"], "object": body["object"]}
    refused(
        lrs.get(statementId=sent["id"], format="full"),
        400,
        "format must be ids, exact or canonical, got 'full'",
        counts(),
    )


def test_bad_queries_are_refused(lrs: Lrs, student: User) -> None:
    sid = str(uuid.uuid4())
    refused(
        lrs.get(statementId=sid, agent=json.dumps(actor(student))),
        400,
        "agent cannot be used with statementId or voidedStatementId (only attachments and format can)",
        NOTHING,
    )
    refused(
        lrs.get(statementId=sid, voidedStatementId=sid),
        400,
        "give statementId or voidedStatementId, not both",
        NOTHING,
    )
    refused(
        lrs.get(colour="red"),
        400,
        "unknown parameter 'colour': the Statement resource takes activity, agent, ascending, attachments, format, limit, registration, related_activities, related_agents, since, statementId, until, verb, voidedStatementId",
        NOTHING,
    )
    refused(
        lrs.get(agent='{"name": "nobody"}'),
        400,
        "agent: an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), got none",
        NOTHING,
    )
    refused(lrs.get(limit="-1"), 400, "limit must be a non-negative integer, got '-1'", NOTHING)
    refused(
        lrs.get(since="yesterday"),
        400,
        "since: must be an ISO 8601 timestamp with a time zone, such as '2026-04-01T08:30:00.000Z', got 'yesterday'",
        NOTHING,
    )
    refused(lrs.get(ascending="yes"), 400, "ascending must be true or false, got 'yes'", NOTHING)
    refused(lrs.get(statementId=sid), 404, f"no statement with id {sid}", NOTHING)
    response = lrs.get(statementId=sid, limit="1")  # the header comes with refusals too
    assert response.status_code == 400
    assert response["X-Experience-API-Consistent-Through"] == "2026-12-02T03:40:00.123Z"


def test_a_tool_reads_only_what_it_stored(lrs: Lrs, student: User) -> None:
    sent = statement(student, id=str(uuid.uuid4()))
    assert lrs.post(sent).status_code == 200
    other = credentials(lrs.client, "demo-cbt")
    refused(other.get(statementId=sent["id"]), 404, f"no statement with id {sent['id']}", counts())
    assert other.get().json() == {"statements": [], "more": ""}
    refused(
        other.post(sent),
        409,
        f"already stored: {sent['id']}; a batch with a stored id is refused whole, nothing was stored",
        counts(),
    )


# -- the request's form --------------------------------------------------------------------


def test_alternate_request_syntax(lrs: Lrs, student: User) -> None:
    sid = str(uuid.uuid4())
    form = {
        "Authorization": lrs.auth,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        "statementId": sid,
        "content": json.dumps(statement(student, timestamp="2026-12-02T03:00:00.000Z")),
    }
    response = lrs.client.post(
        f"{URL}?method=PUT", urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 204
    assert Statement.objects.filter(pk=sid).exists()
    query = {"Authorization": lrs.auth, "X-Experience-API-Version": "1.0.3", "statementId": sid}
    got = lrs.client.post(
        f"{URL}?method=GET", urlencode(query), content_type="application/x-www-form-urlencoded"
    )
    assert got.status_code == 200
    assert got.json()["id"] == sid


def test_head_is_get_without_the_body(lrs: Lrs, student: User) -> None:
    sent = statement(student, id=str(uuid.uuid4()))
    assert lrs.post(sent).status_code == 200
    response = lrs.client.head(f"{URL}?statementId={sent['id']}", headers=lrs.headers())
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == JSON
    assert response["Last-Modified"] == http_date(T0.timestamp())
    assert response["X-Experience-API-Consistent-Through"] == "2026-12-02T03:40:00.123Z"


def test_the_version_header_and_credentials_are_required(lrs: Lrs, student: User) -> None:
    body = json.dumps(statement(student))
    response = lrs.client.post(
        URL, body, content_type="application/json", headers={"Authorization": lrs.auth}
    )
    refused(response, 400, "the X-Experience-API-Version header is required", NOTHING)
    wrong = "Basic " + base64.b64encode(b"lrs_unknown:secret").decode()
    response = lrs.client.post(
        URL,
        body,
        content_type="application/json",
        headers={"Authorization": wrong, "X-Experience-API-Version": "1.0.3"},
    )
    refused(response, 401, "unknown or inactive credentials", NOTHING)
    assert response["WWW-Authenticate"] == 'Basic realm="Manabi Hub LRS"'
    assert lrs.post(statement(student), **{"X-Experience-API-Version": "2.0.0"}).status_code == 200


# -- attachments and signatures ------------------------------------------------------------


def multipart_body(
    first: object, parts: list[tuple[bytes, str]], boundary: str = "b0undary"
) -> tuple[bytes, str]:
    out = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(first).encode(),
    ]
    for content, content_type in parts:
        sha2 = hashlib.sha256(content).hexdigest()
        out.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"


def attachment(
    content: bytes,
    usage: str = "https://drill.example/attachments/answer-sheet",
    content_type: str = "text/plain",
) -> dict[str, Any]:
    return {
        "usageType": usage,
        "display": {"en-US": "answer sheet"},
        "contentType": content_type,
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
    }


def test_attachments_are_stored_and_returned(lrs: Lrs, student: User) -> None:
    content = "こたえ: 12\r\n--b0undary-not-quite".encode()
    sent = statement(
        student,
        id=str(uuid.uuid4()),
        timestamp="2026-12-02T03:00:00.000Z",
        attachments=[attachment(content)],
    )
    body, content_type = multipart_body(sent, [(content, "text/plain")])
    response = lrs.post(body, content_type=content_type)
    assert response.status_code == 200, response.content
    assert bytes(StatementAttachment.objects.get().content) == content

    got = lrs.get(statementId=sent["id"], attachments="true")
    assert got.status_code == 200
    assert got["Content-Type"].startswith('multipart/mixed; boundary="xapi-')
    boundary = got["Content-Type"].split('boundary="')[1].rstrip('"')
    sha2 = hashlib.sha256(content).hexdigest()
    statement_part = json.dumps(returned(lrs, sent, T0), ensure_ascii=False, separators=(",", ":"))
    assert (
        got.content
        == (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{statement_part}"
            f"\r\n--{boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert lrs.get(statementId=sent["id"]).json() == returned(lrs, sent, T0)


def test_attachment_parts_must_match_the_statements(lrs: Lrs, student: User) -> None:
    content = b"answer"
    sent = statement(student, attachments=[attachment(content)])
    refused(
        lrs.post(sent),
        400,
        f"attachments[0]: has no fileUrl and no multipart/mixed part carries its data (a part with X-Experience-API-Hash: {hashlib.sha256(content).hexdigest()})",
        NOTHING,
    )
    body, content_type = multipart_body(statement(student), [(content, "text/plain")])
    refused(
        lrs.post(body, content_type=content_type),
        400,
        f"the part with X-Experience-API-Hash {hashlib.sha256(content).hexdigest()} is not an attachment of any statement",
        NOTHING,
    )
    with_url = statement(
        student, attachments=[{**attachment(content), "fileUrl": "https://drill.example/sheets/1"}]
    )
    assert lrs.post(with_url).status_code == 200


@pytest.fixture(scope="module")
def signing_key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "drill.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def signed(
    user: User,
    key: rsa.RSAPrivateKey,
    x5c: str,
    *,
    payload: dict[str, Any] | None = None,
    algorithm: str = "RS256",
) -> tuple[bytes, str, dict[str, Any]]:
    plain = statement(user, id=str(uuid.uuid4()), timestamp="2026-12-02T03:00:00.000Z")
    token = jwt.encode(payload or plain, key, algorithm=algorithm, headers={"x5c": [x5c]}).encode()
    sent = {
        **plain,
        "attachments": [
            attachment(
                token, "http://adlnet.gov/expapi/attachments/signature", "application/octet-stream"
            )
        ],
    }
    body, content_type = multipart_body(sent, [(token, "application/octet-stream")])
    return body, content_type, sent


def test_a_signed_statement_is_checked(
    lrs: Lrs, student: User, signing_key: tuple[rsa.RSAPrivateKey, str]
) -> None:
    key, x5c = signing_key
    body, content_type, sent = signed(student, key, x5c, algorithm="RS384")
    assert lrs.post(body, content_type=content_type).status_code == 200
    assert lrs.get(statementId=sent["id"]).json() == returned(lrs, sent, T0)

    before = counts()
    other = statement(student, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    body, content_type, _ = signed(student, key, x5c, payload=other)
    refused(
        lrs.post(body, content_type=content_type),
        400,
        "attachments[0]: the signature payload is not the statement received (ignoring id, authority, stored, timestamp, version and the signature attachment)",
        before,
    )

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body, content_type, _ = signed(student, stranger, x5c)
    refused(
        lrs.post(body, content_type=content_type),
        400,
        "attachments[0]: the signature does not verify against the x5c certificate (Signature verification failed)",
        before,
    )

    plain = statement(student)
    hs = jwt.encode(plain, "a-shared-secret-of-at-least-32-bytes", algorithm="HS256").encode()
    sent = {
        **plain,
        "attachments": [
            attachment(
                hs, "http://adlnet.gov/expapi/attachments/signature", "application/octet-stream"
            )
        ],
    }
    body, content_type = multipart_body(sent, [(hs, "application/octet-stream")])
    refused(
        lrs.post(body, content_type=content_type),
        400,
        "attachments[0]: the signature must use RS256, RS384 or RS512, got 'HS256'",
        before,
    )
