"""What Ralph 5.1.0 (file-system backend, Basic auth) really answers: the xAPI forwarder relies
on these answers, so each test pins one down with its exact status and whole body.

In short: a POST stores the statements whose ids are new and answers 200 with only their ids
(204 when none is new); one known id with different content refuses the whole batch with 409;
"different" compares ``actor``, ``verb``, ``object``, ``id``, ``result``, ``context``,
``attachments`` and, when both have them, ``timestamp`` and ``version`` as JSON values (a
timestamp of the same instant written differently is a conflict); ``stored`` and ``authority``
are ignored. Ralph ignores ``X-Experience-API-Version`` and answers 422 (not 400) for a
statement its model refuses, but accepts a verb id that is not an IRI.
"""

from __future__ import annotations

import urllib.error
import uuid
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from tests.peers.ralph import RalphLRS, start_ralph

NAMESPACE = uuid.UUID("6f1f3a4e-7d0b-4c61-9a53-0c6f0e3b2a10")
PORTAL = "https://portal.manabi.test"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
INVALID_CREDENTIALS = {"detail": "Invalid authentication credentials"}


def statement(key: str, *, verb: str = COMPLETED, **extra: Any) -> dict[str, Any]:
    """A statement as our forwarder sends it: uuid5 id, account actor, millisecond UTC time."""
    return {
        "id": str(uuid.uuid5(NAMESPACE, key)),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": PORTAL, "name": str(uuid.uuid5(NAMESPACE, "student"))},
        },
        "verb": {"id": verb, "display": {"ja-JP": "完了した"}},
        "object": {
            "objectType": "Activity",
            "id": f"{PORTAL}/activities/{key}",
            "definition": {"name": {"ja-JP": "分数のたし算"}},
        },
        "timestamp": "2026-04-08T00:15:30.123Z",
        **extra,
    }


def ids(*statements: dict[str, Any]) -> list[str]:
    return [s["id"] for s in statements]


def stored_ids(lrs: RalphLRS) -> list[str]:
    return [s["id"] for s in lrs.stored_statements()]


def post(lrs: RalphLRS, body: Any, **kwargs: Any) -> tuple[int, Any]:
    answer = lrs.request("POST", "/statements", body, **kwargs)
    assert answer.headers["content-type"] == "application/json"
    return answer.status, (answer.json() if answer.body else None)


def put(lrs: RalphLRS, statement_id: str, body: Any) -> tuple[int, Any]:
    answer = lrs.request("PUT", f"/statements?statementId={statement_id}", body)
    return answer.status, (answer.json() if answer.body else None)


def test_a_new_batch_is_stored_and_answered_with_its_ids_in_order(ralph_lrs: RalphLRS) -> None:
    batch = [statement("a"), statement("b"), statement("c")]

    assert post(ralph_lrs, batch) == (HTTPStatus.OK, ids(*batch))
    assert stored_ids(ralph_lrs) == ids(*batch)


def test_the_same_batch_again_is_204_with_no_body_and_stores_nothing(ralph_lrs: RalphLRS) -> None:
    batch = [statement("a"), statement("b"), statement("c")]
    assert post(ralph_lrs, batch)[0] == HTTPStatus.OK

    assert post(ralph_lrs, batch) == (HTTPStatus.NO_CONTENT, None)
    assert stored_ids(ralph_lrs) == ids(*batch)


def test_one_known_id_and_two_new_stores_the_new_ones_and_answers_only_their_ids(
    ralph_lrs: RalphLRS,
) -> None:
    known, new_1, new_2 = statement("a"), statement("d"), statement("e")
    assert post(ralph_lrs, [known])[0] == HTTPStatus.OK

    assert post(ralph_lrs, [new_1, known, new_2]) == (HTTPStatus.OK, ids(new_1, new_2))
    assert stored_ids(ralph_lrs) == ids(known, new_1, new_2)


def test_a_known_id_with_different_content_refuses_the_whole_batch_with_409(
    ralph_lrs: RalphLRS,
) -> None:
    known = statement("a")
    assert post(ralph_lrs, [known])[0] == HTTPStatus.OK
    changed = statement("a", verb=FAILED)

    assert post(ralph_lrs, [statement("new"), changed]) == (
        HTTPStatus.CONFLICT,
        {"detail": f"Differing statements already exist with the same ID: {known['id']}"},
    )
    assert stored_ids(ralph_lrs) == ids(known)  # the new statement was not stored either


def test_the_same_instant_written_differently_is_a_conflict(ralph_lrs: RalphLRS) -> None:
    """Ralph compares the timestamp strings: resend the exact bytes, never a re-rendering."""
    known = statement("a")
    assert post(ralph_lrs, [known])[0] == HTTPStatus.OK

    assert post(ralph_lrs, [{**known, "timestamp": "2026-04-08T09:15:30.123+09:00"}]) == (
        HTTPStatus.CONFLICT,
        {"detail": f"Differing statements already exist with the same ID: {known['id']}"},
    )


def test_stored_and_authority_are_ignored_when_comparing(ralph_lrs: RalphLRS) -> None:
    known = statement("a")
    assert post(ralph_lrs, [known])[0] == HTTPStatus.OK
    again = {
        **known,
        "stored": "2020-01-01T00:00:00.000Z",
        "authority": {"objectType": "Agent", "mbox": "mailto:someone@example.org"},
    }

    assert post(ralph_lrs, [again]) == (HTTPStatus.NO_CONTENT, None)


def test_two_statements_with_one_id_in_a_batch_are_400_and_nothing_is_stored(
    ralph_lrs: RalphLRS,
) -> None:
    twin = statement("a")

    assert post(ralph_lrs, [statement("b"), twin, twin]) == (
        HTTPStatus.BAD_REQUEST,
        {"detail": "Duplicate statement IDs in the list of statements"},
    )
    assert ralph_lrs.stored_statements() == []


def test_what_ralph_stores_is_the_statement_with_stored_and_its_user_as_authority(
    ralph_lrs: RalphLRS,
) -> None:
    sent = statement(
        "scored",
        result={"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "success": True},
        context={
            "registration": str(uuid.uuid5(NAMESPACE, "launch")),
            "contextActivities": {"grouping": [{"id": f"{PORTAL}/classes/1-1"}]},
            "extensions": {"https://w3id.org/japan-xapi/extensions/grade": "小学校第3学年"},
        },
    )
    assert post(ralph_lrs, [sent])[0] == HTTPStatus.OK

    [stored] = ralph_lrs.stored_statements()
    assert datetime.fromisoformat(stored.pop("stored")).utcoffset() is not None
    assert stored == {
        **sent,
        "authority": {
            "objectType": "Agent",
            "account": {"homePage": "https://lrs.test", "name": ralph_lrs.username},
        },
    }


def test_get_by_statement_id_answers_a_statement_list_and_an_empty_one_when_unknown(
    ralph_lrs: RalphLRS,
) -> None:
    sent = statement("a")
    assert post(ralph_lrs, [sent])[0] == HTTPStatus.OK
    [stored] = ralph_lrs.stored_statements()

    found = ralph_lrs.request("GET", f"/statements?statementId={sent['id']}")
    missing = ralph_lrs.request("GET", f"/statements?statementId={statement('b')['id']}")

    assert (found.status, found.json()) == (HTTPStatus.OK, {"statements": [stored]})
    assert (missing.status, missing.json()) == (HTTPStatus.OK, {"statements": []})  # not 404


def test_put_stores_a_new_id_and_is_204_again_for_the_same_content(ralph_lrs: RalphLRS) -> None:
    sent = statement("a")

    assert put(ralph_lrs, sent["id"], sent) == (HTTPStatus.NO_CONTENT, None)
    assert put(ralph_lrs, sent["id"], sent) == (HTTPStatus.NO_CONTENT, None)
    assert stored_ids(ralph_lrs) == ids(sent)


def test_put_of_a_known_id_with_different_content_is_409(ralph_lrs: RalphLRS) -> None:
    sent = statement("a")
    assert put(ralph_lrs, sent["id"], sent)[0] == HTTPStatus.NO_CONTENT

    assert put(ralph_lrs, sent["id"], statement("a", verb=FAILED)) == (
        HTTPStatus.CONFLICT,
        {"detail": "A different statement already exists with the same ID"},
    )
    assert stored_ids(ralph_lrs) == ids(sent)


def test_put_with_a_statement_id_other_than_the_body_id_is_400(ralph_lrs: RalphLRS) -> None:
    assert put(ralph_lrs, statement("other")["id"], statement("a")) == (
        HTTPStatus.BAD_REQUEST,
        {"detail": "xAPI statement id does not match given statementId"},
    )
    assert ralph_lrs.stored_statements() == []


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("wrong-password", id="wrong password"),
        pytest.param("Basic " + "bm9ib2R5Ong=", id="unknown user"),  # nobody:x
        pytest.param(None, id="no credentials"),
    ],
)
def test_bad_credentials_are_401_with_a_basic_challenge(
    ralph_lrs: RalphLRS, authorization: str | None
) -> None:
    if authorization == "wrong-password":
        authorization = ralph_lrs.authorization(password="not-the-password")

    answer = ralph_lrs.request(
        "POST", "/statements", [statement("a")], headers={"Authorization": authorization}
    )

    assert (answer.status, answer.json()) == (HTTPStatus.UNAUTHORIZED, INVALID_CREDENTIALS)
    assert answer.headers["www-authenticate"] == "Basic"
    assert ralph_lrs.stored_statements() == []


@pytest.mark.parametrize("version", [None, "1.0.3", "2.0.0", "0.9"])
def test_the_version_header_is_neither_checked_nor_answered(
    ralph_lrs: RalphLRS, version: str | None
) -> None:
    sent = statement("a")

    answer = ralph_lrs.request(
        "POST", "/statements", [sent], headers={"X-Experience-API-Version": version}
    )

    assert (answer.status, answer.json()) == (HTTPStatus.OK, ids(sent))
    assert "x-experience-api-version" not in answer.headers


def test_a_statement_without_actor_is_422_with_pydantic_errors(ralph_lrs: RalphLRS) -> None:
    sent = statement("a")
    del sent["actor"]

    status, body = post(ralph_lrs, [statement("b"), sent])

    assert status == HTTPStatus.UNPROCESSABLE_ENTITY  # xAPI says 400
    assert body["detail"][0].pop("url").startswith("https://errors.pydantic.dev/")
    assert body == {
        "detail": [
            {"type": "missing", "loc": ["body", 1, "actor"], "msg": "Field required", "input": sent}
        ]
    }
    assert ralph_lrs.stored_statements() == []


def test_a_non_object_in_the_batch_is_422(ralph_lrs: RalphLRS) -> None:
    assert post(ralph_lrs, [statement("a"), 1]) == (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        {
            "detail": [
                {
                    "type": "model_attributes_type",
                    "loc": ["body", 1],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": 1,
                }
            ]
        },
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param(b'[{"id": ', "Invalid JSON body", id="invalid JSON"),
        pytest.param([], "The list of statements cannot be empty", id="empty batch"),
    ],
)
def test_unreadable_or_empty_bodies_are_400(ralph_lrs: RalphLRS, body: Any, detail: str) -> None:
    assert post(ralph_lrs, body) == (HTTPStatus.BAD_REQUEST, {"detail": detail})


def test_what_ralph_accepts_although_it_is_invalid_xapi(ralph_lrs: RalphLRS) -> None:
    """Ralph's lax model: a verb id that is no IRI and a scaled score above 1 are stored."""
    not_an_iri = statement("a", verb="completed")
    out_of_range = statement("b", result={"score": {"scaled": 2}})

    assert post(ralph_lrs, [not_an_iri, out_of_range]) == (
        HTTPStatus.OK,
        ids(not_an_iri, out_of_range),
    )


def test_a_single_statement_and_one_without_id_are_accepted(ralph_lrs: RalphLRS) -> None:
    single = statement("a")
    without_id = statement("b")
    del without_id["id"]

    assert post(ralph_lrs, single) == (HTTPStatus.OK, ids(single))
    status, body = post(ralph_lrs, [without_id])

    assert status == HTTPStatus.OK
    assert body == [str(uuid.UUID(body[0], version=4))]  # Ralph gives it an id
    assert stored_ids(ralph_lrs) == [single["id"], body[0]]


def test_get_pages_with_more_and_agrees_with_the_store(ralph_lrs: RalphLRS) -> None:
    batch = [statement(f"s{n}") for n in range(5)]
    assert post(ralph_lrs, batch)[0] == HTTPStatus.OK

    first = ralph_lrs.request("GET", "/statements?limit=2")

    more = first.json()["more"]
    assert more == f"/xAPI/statements?limit=2&pit_id=None&search_after={batch[1]['id']}"
    assert [s["id"] for s in first.json()["statements"]] == ids(*batch[:2])  # oldest first
    assert ralph_lrs.statements_via_api(limit=2) == ralph_lrs.stored_statements()
    assert stored_ids(ralph_lrs) == ids(*batch)


def test_stopped_ralph_refuses_connections_and_comes_back_on_its_port_with_its_store(
    ralph_lrs: RalphLRS,
) -> None:
    sent = statement("a")
    assert post(ralph_lrs, [sent])[0] == HTTPStatus.OK
    port = ralph_lrs.port

    ralph_lrs.stop()
    with pytest.raises(urllib.error.URLError):
        ralph_lrs.request("GET", "/statements", timeout=5)
    assert stored_ids(ralph_lrs) == ids(sent)  # readable while down
    ralph_lrs.start()

    assert ralph_lrs.port == port
    assert post(ralph_lrs, [sent, statement("b")]) == (HTTPStatus.OK, ids(statement("b")))


def test_stock_fs_backend_answers_500_to_every_write_after_the_first(tmp_path: Path) -> None:
    """Why tests/peers/ralph.py makes Ralph's FS backend append (its default is "create")."""
    lrs = start_ralph(tmp_path, append_fix=False)
    try:
        assert post(lrs, [statement("a")]) == (HTTPStatus.OK, ids(statement("a")))
        assert post(lrs, [statement("b")]) == (
            HTTPStatus.INTERNAL_SERVER_ERROR,
            {"detail": "Statements bulk indexation failed"},
        )
        assert put(lrs, statement("c")["id"], statement("c")) == (
            HTTPStatus.INTERNAL_SERVER_ERROR,
            {"detail": "Statement indexation failed"},
        )
        assert stored_ids(lrs) == ids(statement("a"))
    finally:
        lrs.stop()
