# ruff: noqa: E501  (the expected reasons are whole sentences, kept on one line to grep for)
"""xAPI 1.0.3 statement validation (``studylog.xapi.validation``): a real vendor statement is
accepted as-is, every rule refuses with the exact JSON path and reason, and the valid edge
cases of the ADL LRS conformance suite pass. Invalid cases are modelled on the suite's
(adlnet/lrs-conformance-test-suite, test/v1_0_3/configs) with its values where it has one.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from studylog.xapi.errors import StatementInvalid
from studylog.xapi.validation import normalise_context_activities, validate_statement

DATA = Path(__file__).resolve().parents[1] / "data" / "xapi"
DELETE = object()

AGENT = {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}
SUB = {
    "objectType": "SubStatement",
    "actor": {"mbox": "mailto:test@example.com"},
    "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
    "object": {"id": "http://example.com/website"},
}
SR = {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}
BASE: dict[str, Any] = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:xapi@adlnet.gov"},
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/attended",
        "display": {"en-GB": "attended", "en-US": "attended"},
    },
    "object": {"objectType": "Activity", "id": "http://www.example.com/meetings/occurances/34534"},
}


def changed(where: str, value: object) -> object:
    """BASE with the property at dotted path ``where`` set to ``value`` (or deleted);
    ``"object+context"`` sets both from a pair; ``""`` replaces the whole statement."""
    if where == "":
        return value
    statement = copy.deepcopy(BASE)
    if where == "object+context":
        assert isinstance(value, tuple)
        statement["object"], statement["context"] = value
        return statement
    *parents, last = where.split(".")
    node = statement
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return statement


def test_the_vendor_statements_are_accepted_as_they_are() -> None:
    statements = json.loads((DATA / "vendor-b-statement.json").read_text(encoding="utf-8"))
    assert isinstance(statements, list) and statements
    for statement in statements:
        validate_statement(statement)


def test_the_base_statement_is_valid() -> None:
    validate_statement(BASE)


INVALID = [
    pytest.param(
        "", [1], "", "statement: must be a Statement (a JSON object), got an array", id="not-object"
    ),
    pytest.param("actor", DELETE, "actor", "actor: is required in a Statement", id="missing-actor"),
    pytest.param("verb", DELETE, "verb", "verb: is required in a Statement", id="missing-verb"),
    pytest.param(
        "object", DELETE, "object", "object: is required in a Statement", id="missing-object"
    ),
    pytest.param(
        "foo", 1, "foo", "foo: is not a property of a Statement in xAPI 1.0.3", id="unknown-top-key"
    ),
    pytest.param(
        "Actor",
        {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"},
        "Actor",
        "Actor: is not a property of a Statement; property names are case-sensitive: use 'actor'",
        id="key-case",
    ),
    pytest.param(
        "context",
        None,
        "context",
        "context: must not be null (only extension values may be null)",
        id="null-context",
    ),
    pytest.param(
        "actor.name",
        None,
        "actor.name",
        "actor.name: must not be null (only extension values may be null)",
        id="null-nested",
    ),
    pytest.param(
        "id",
        "MA97B177-9383-4934-8543-0F91A7A02836",
        "id",
        "id: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 'MA97B177-9383-4934-8543-0F91A7A02836'",
        id="id-not-uuid-letter",
    ),
    pytest.param(
        "id",
        "AA97B177-9383-4934-8543-0F91A7A028368",
        "id",
        "id: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 'AA97B177-9383-4934-8543-0F91A7A028368'",
        id="id-too-many-digits",
    ),
    pytest.param(
        "id",
        12345,
        "id",
        "id: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 12345",
        id="id-number",
    ),
    pytest.param(
        "id",
        "aa97b177-9383-4934-8543-0f91a7a02836\n",
        "id",
        "id: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 'aa97b177-9383-4934-8543-0f91a7a02836\\n'",
        id="id-newline",
    ),
    pytest.param(
        "actor",
        "agent",
        "actor",
        "actor: must be an Agent or a Group (a JSON object), got 'agent'",
        id="actor-string",
    ),
    pytest.param(
        "actor.objectType",
        "agent",
        "actor.objectType",
        "actor.objectType: must be 'Agent' (values are case-sensitive), got 'agent'",
        id="actor-objecttype-case",
    ),
    pytest.param(
        "actor.objectType",
        123,
        "actor.objectType",
        "actor.objectType: must be one of 'Agent' or 'Group', got 123",
        id="actor-objecttype-number",
    ),
    pytest.param(
        "actor",
        {"name": "nobody"},
        "actor",
        "actor: an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), got none",
        id="actor-no-ifi",
    ),
    pytest.param(
        "actor",
        {
            "mbox": "mailto:a@example.com",
            "account": {"homePage": "http://www.example.com", "name": "a"},
        },
        "actor",
        "actor: an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), got 'mbox' and 'account'",
        id="actor-two-ifis",
    ),
    pytest.param(
        "actor.name",
        123,
        "actor.name",
        "actor.name: must be a string, got 123",
        id="actor-name-number",
    ),
    pytest.param(
        "actor.mbox",
        "mailto:should.fail.com",
        "actor.mbox",
        "actor.mbox: must be a mailto IRI ('mailto:' and an email address), got 'mailto:should.fail.com'",
        id="mbox-no-at",
    ),
    pytest.param(
        "actor.mbox",
        "http://should.fail.com",
        "actor.mbox",
        "actor.mbox: must be a mailto IRI ('mailto:' and an email address), got 'http://should.fail.com'",
        id="mbox-http",
    ),
    pytest.param(
        "actor",
        {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab97606"},
        "actor.mbox_sha1sum",
        "actor.mbox_sha1sum: must be the hex-encoded SHA-1 of a mailto IRI (40 hex digits), got 'cd9b00a5611f94eaa7b1661edab97606'",
        id="sha1-short",
    ),
    pytest.param(
        "actor",
        {"mbox_sha1sum": 12345},
        "actor.mbox_sha1sum",
        "actor.mbox_sha1sum: must be the hex-encoded SHA-1 of a mailto IRI (40 hex digits), got 12345",
        id="sha1-number",
    ),
    pytest.param(
        "actor",
        {"openid": "ab=c://should.fail.com"},
        "actor.openid",
        "actor.openid: must be a URI, got 'ab=c://should.fail.com'",
        id="openid-bad-scheme",
    ),
    pytest.param(
        "actor",
        {"openid": "open.id.com/testUser"},
        "actor.openid",
        "actor.openid: must be a URI, got 'open.id.com/testUser'",
        id="openid-no-scheme",
    ),
    pytest.param(
        "actor",
        {"account": {"homePage": "foo", "name": "a"}},
        "actor.account.homePage",
        "actor.account.homePage: must be an IRL (absolute URL), got 'foo'",
        id="account-homepage-foo",
    ),
    pytest.param(
        "actor",
        {"account": {"homePage": "homePage.com/testUser", "name": "123456"}},
        "actor.account.homePage",
        "actor.account.homePage: must be an IRL (absolute URL), got 'homePage.com/testUser'",
        id="account-homepage-noscheme",
    ),
    pytest.param(
        "actor",
        {"account": {"homePage": "http://www.example.com"}},
        "actor.account.name",
        "actor.account.name: is required in an Account",
        id="account-no-name",
    ),
    pytest.param(
        "actor",
        {"account": {"homePage": "http://www.example.com", "name": {"key": "invalid"}}},
        "actor.account.name",
        "actor.account.name: must be a string, got an object",
        id="account-name-object",
    ),
    pytest.param(
        "actor",
        {"account": {"homePage": "http://www.example.com", "name": "a", "id": 1}},
        "actor.account.id",
        "actor.account.id: is not a property of an Account in xAPI 1.0.3",
        id="account-extra",
    ),
    pytest.param(
        "actor",
        {
            "mbox": "mailto:a@example.com",
            "member": [{"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}],
        },
        "actor.member",
        'actor.member: is not a property of an Agent (a Group needs "objectType": "Group")',
        id="agent-with-member",
    ),
    pytest.param(
        "actor",
        {"objectType": "Group", "name": "g"},
        "actor.member",
        "actor.member: is required in an anonymous Group (one without mbox, mbox_sha1sum, openid or account)",
        id="group-anon-no-member",
    ),
    pytest.param(
        "actor",
        {
            "objectType": "Group",
            "member": {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"},
        },
        "actor.member",
        "actor.member: must be an array of Agents, got an object",
        id="group-member-not-array",
    ),
    pytest.param(
        "actor",
        {
            "objectType": "Group",
            "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}],
        },
        "actor.member[0]",
        "actor.member[0]: a Group's members must be Agents, got a Group",
        id="group-member-group",
    ),
    pytest.param(
        "actor",
        {"objectType": "Group", "member": [{"name": "no ifi"}]},
        "actor.member[0]",
        "actor.member[0]: an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), got none",
        id="group-member-bad-agent",
    ),
    pytest.param(
        "actor",
        {
            "objectType": "Group",
            "mbox": "mailto:g@example.com",
            "openid": "http://openid.example.org/1",
        },
        "actor",
        "actor: an identified Group must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), got 'mbox' and 'openid'",
        id="group-two-ifis",
    ),
    pytest.param(
        "actor",
        {"objectType": "Group", "member": []},
        "actor.member",
        "actor.member: an anonymous Group must list at least one member",
        id="group-empty-members",
    ),
    pytest.param(
        "verb.id", DELETE, "verb.id", "verb.id: is required in a Verb", id="verb-missing-id"
    ),
    pytest.param(
        "verb.id",
        "should fail",
        "verb.id",
        "verb.id: must be an IRI (absolute, with a scheme such as 'https:'), got 'should fail'",
        id="verb-id-not-iri",
    ),
    pytest.param(
        "verb.display",
        "a12345 attended",
        "verb.display",
        "verb.display: must be a language map (a JSON object), got 'a12345 attended'",
        id="verb-display-string",
    ),
    pytest.param(
        "verb.display",
        12345,
        "verb.display",
        "verb.display: must be a language map (a JSON object), got 12345",
        id="verb-display-number",
    ),
    pytest.param(
        "verb.display",
        {"a12345": "attended"},
        "verb.display",
        "verb.display: the key 'a12345' is not an RFC 5646 language tag (such as 'ja' or 'en-US')",
        id="verb-display-bad-tag",
    ),
    pytest.param(
        "verb.display",
        {"en-something-AU": "attended"},
        "verb.display",
        "verb.display: the key 'en-something-AU' is not an RFC 5646 language tag (such as 'ja' or 'en-US')",
        id="verb-display-long-subtag",
    ),
    pytest.param(
        "verb.display",
        {"zh-z-aaa-z-bbb-c-ccc": "x"},
        "verb.display",
        "verb.display: the key 'zh-z-aaa-z-bbb-c-ccc' is not an RFC 5646 language tag (such as 'ja' or 'en-US')",
        id="verb-display-dup-singleton",
    ),
    pytest.param(
        "verb.display",
        {"en-US": 1},
        "verb.display['en-US']",
        "verb.display['en-US']: must be a string, got 1",
        id="verb-display-value-number",
    ),
    pytest.param(
        "object.objectType",
        "activity",
        "object.objectType",
        "object.objectType: must be 'Activity' (values are case-sensitive), got 'activity'",
        id="object-type-case",
    ),
    pytest.param(
        "object.objectType",
        "Thing",
        "object.objectType",
        "object.objectType: must be one of 'Activity', 'Agent', 'Group', 'StatementRef' or 'SubStatement', got 'Thing'",
        id="object-type-unknown",
    ),
    pytest.param(
        "object",
        {"mbox": "mailto:a@example.com"},
        "object.objectType",
        "object.objectType: is required when the object is an Agent or a Group (without it the object is an Activity)",
        id="object-agent-no-type",
    ),
    pytest.param(
        "object.id",
        DELETE,
        "object.id",
        "object.id: is required in an Activity",
        id="activity-no-id",
    ),
    pytest.param(
        "object.id",
        "ab=c://should.fail.com",
        "object.id",
        "object.id: must be an IRI (absolute, with a scheme such as 'https:'), got 'ab=c://should.fail.com'",
        id="activity-id-not-iri",
    ),
    pytest.param(
        "object.id",
        "http://example.com/a b",
        "object.id",
        "object.id: must be an IRI (absolute, with a scheme such as 'https:'), got 'http://example.com/a b'",
        id="activity-id-space",
    ),
    pytest.param(
        "object.id",
        "http://example.com/%zz",
        "object.id",
        "object.id: must be an IRI (absolute, with a scheme such as 'https:'), got 'http://example.com/%zz'",
        id="activity-id-bad-escape",
    ),
    pytest.param(
        "object.definition",
        "definition",
        "object.definition",
        "object.definition: must be an Activity Definition (a JSON object), got 'definition'",
        id="definition-not-object",
    ),
    pytest.param(
        "object.definition",
        {"foo": 1},
        "object.definition.foo",
        "object.definition.foo: is not a property of an Activity Definition in xAPI 1.0.3",
        id="definition-unknown",
    ),
    pytest.param(
        "object.definition",
        {"name": "meeting"},
        "object.definition.name",
        "object.definition.name: must be a language map (a JSON object), got 'meeting'",
        id="definition-name-string",
    ),
    pytest.param(
        "object.definition",
        {"type": "meeting"},
        "object.definition.type",
        "object.definition.type: must be an IRI (absolute, with a scheme such as 'https:'), got 'meeting'",
        id="definition-type-not-iri",
    ),
    pytest.param(
        "object.definition",
        {"moreInfo": "urn:example:info"},
        "object.definition.moreInfo",
        "object.definition.moreInfo: must be an IRL (absolute URL), got 'urn:example:info'",
        id="definition-moreinfo-not-irl",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": "choiCe"},
        "object.definition.interactionType",
        "object.definition.interactionType: must be 'choice' (values are case-sensitive), got 'choiCe'",
        id="interaction-case",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": 12345},
        "object.definition.interactionType",
        "object.definition.interactionType: must be one of 'true-false', 'choice', 'fill-in', 'long-fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric' or 'other', got 12345",
        id="interaction-number",
    ),
    pytest.param(
        "object.definition",
        {"correctResponsesPattern": ["a"]},
        "object.definition.correctResponsesPattern",
        'object.definition.correctResponsesPattern: is only allowed with an "interactionType"',
        id="crp-without-interaction",
    ),
    pytest.param(
        "object.definition",
        {"choices": [{"id": "a"}]},
        "object.definition.choices",
        'object.definition.choices: is only allowed with an "interactionType"',
        id="choices-without-interaction",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": "likert", "choices": [{"id": "a"}]},
        "object.definition.choices",
        "object.definition.choices: is not used with interactionType 'likert' (only 'scale')",
        id="choices-on-likert",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": "true-false", "scale": [{"id": "a"}]},
        "object.definition.scale",
        "object.definition.scale: is not used with interactionType 'true-false' (no component lists)",
        id="scale-on-true-false",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "b"}, {"id": "a"}]},
        "object.definition.choices[2].id",
        "object.definition.choices[2].id: repeats the id 'a' of object.definition.choices[0] (ids must be distinct within a component list)",
        id="components-dup-id",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": "choice", "choices": [{"description": {"en-US": "A"}}]},
        "object.definition.choices[0].id",
        "object.definition.choices[0].id: is required in an interaction component",
        id="component-no-id",
    ),
    pytest.param(
        "object.definition",
        {"interactionType": "true-false", "correctResponsesPattern": [True]},
        "object.definition.correctResponsesPattern[0]",
        "object.definition.correctResponsesPattern[0]: must be a string, got true",
        id="crp-number",
    ),
    pytest.param(
        "object.definition",
        {"extensions": {"should fail": True}},
        "object.definition.extensions",
        "object.definition.extensions: the key 'should fail' is not an IRI (extension keys must be IRIs)",
        id="definition-ext-key",
    ),
    pytest.param(
        "object.definition",
        {"extensions": "ext"},
        "object.definition.extensions",
        "object.definition.extensions: must be an extensions map (a JSON object), got 'ext'",
        id="definition-ext-not-object",
    ),
    pytest.param(
        "object",
        {"objectType": "StatementRef"},
        "object.id",
        "object.id: is required in a StatementRef",
        id="statementref-no-id",
    ),
    pytest.param(
        "object",
        {"objectType": "StatementRef", "id": "not-a-uuid"},
        "object.id",
        "object.id: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 'not-a-uuid'",
        id="statementref-bad-id",
    ),
    pytest.param(
        "object",
        {
            "objectType": "StatementRef",
            "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0",
            "definition": {},
        },
        "object.definition",
        "object.definition: is not a property of a StatementRef in xAPI 1.0.3",
        id="statementref-extra",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {"id": "http://example.com/website"},
            "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0",
        },
        "object.id",
        "object.id: is not allowed in a SubStatement",
        id="sub-with-id",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {"id": "http://example.com/website"},
            "stored": "2013-05-18T05:32:34.804Z",
        },
        "object.stored",
        "object.stored: is not allowed in a SubStatement",
        id="sub-with-stored",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {"id": "http://example.com/website"},
            "version": "1.0.0",
        },
        "object.version",
        "object.version: is not allowed in a SubStatement",
        id="sub-with-version",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {"id": "http://example.com/website"},
            "authority": {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"},
        },
        "object.authority",
        "object.authority: is not allowed in a SubStatement",
        id="sub-with-authority",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:test@example.com"},
                "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
                "object": {"id": "http://example.com/website"},
            },
        },
        "object.object.objectType",
        "object.object.objectType: a SubStatement cannot contain a SubStatement",
        id="sub-nested",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {"id": "http://example.com/website"},
            "timestamp": "-00:00",
        },
        "object.timestamp",
        "object.timestamp: must be an ISO 8601 timestamp with a time zone, such as '2026-04-01T08:30:00.000Z', got '-00:00'",
        id="sub-bad-timestamp",
    ),
    pytest.param(
        "object",
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {"mbox": "mailto:a@example.com"},
        },
        "object.object.objectType",
        "object.object.objectType: is required when the object is an Agent or a Group (without it the object is an Activity)",
        id="sub-agent-object-no-type",
    ),
    pytest.param(
        "result",
        {"score": "50"},
        "result.score",
        "result.score: must be a Score (a JSON object), got '50'",
        id="result-score-string",
    ),
    pytest.param(
        "result",
        {"score": {"scaled": 1.01}},
        "result.score.scaled",
        "result.score.scaled: must be between -1 and 1 inclusive, got 1.01",
        id="result-scaled-big",
    ),
    pytest.param(
        "result",
        {"score": {"raw": "50"}},
        "result.score.raw",
        "result.score.raw: must be a number, got '50'",
        id="result-raw-string",
    ),
    pytest.param(
        "result",
        {"score": {"raw": True}},
        "result.score.raw",
        "result.score.raw: must be a number, got true",
        id="result-raw-true",
    ),
    pytest.param(
        "result",
        {"score": {"min": 10, "max": 5}},
        "result.score.min",
        "result.score.min: must be less than max (5), got 10",
        id="result-min-gt-max",
    ),
    pytest.param(
        "result",
        {"score": {"min": 5, "max": 5}},
        "result.score.min",
        "result.score.min: must be less than max (5), got 5",
        id="result-min-eq-max",
    ),
    pytest.param(
        "result",
        {"score": {"raw": 11, "max": 10}},
        "result.score.raw",
        "result.score.raw: must not be greater than max (10), got 11",
        id="result-raw-gt-max",
    ),
    pytest.param(
        "result",
        {"score": {"raw": -1, "min": 0}},
        "result.score.raw",
        "result.score.raw: must not be less than min (0), got -1",
        id="result-raw-lt-min",
    ),
    pytest.param(
        "result",
        {"success": "true"},
        "result.success",
        "result.success: must be a boolean (true or false), got 'true'",
        id="result-success-string",
    ),
    pytest.param(
        "result",
        {"completion": {"key": "value"}},
        "result.completion",
        "result.completion: must be a boolean (true or false), got an object",
        id="result-completion-object",
    ),
    pytest.param(
        "result",
        {"response": 12345},
        "result.response",
        "result.response: must be a string, got 12345",
        id="result-response-number",
    ),
    pytest.param(
        "result",
        {"duration": "P4W1D"},
        "result.duration",
        "result.duration: must be an ISO 8601 duration such as 'PT4H35M59.14S' or 'P4W', got 'P4W1D'",
        id="result-duration-weeks-days",
    ),
    pytest.param(
        "result",
        {"duration": "PA1H0M0S"},
        "result.duration",
        "result.duration: must be an ISO 8601 duration such as 'PT4H35M59.14S' or 'P4W', got 'PA1H0M0S'",
        id="result-duration-bad",
    ),
    pytest.param(
        "result",
        {"duration": "PT"},
        "result.duration",
        "result.duration: must be an ISO 8601 duration such as 'PT4H35M59.14S' or 'P4W', got 'PT'",
        id="result-duration-empty-t",
    ),
    pytest.param(
        "result",
        {"duration": "PT1.5H30M"},
        "result.duration",
        "result.duration: must be an ISO 8601 duration such as 'PT4H35M59.14S' or 'P4W', got 'PT1.5H30M'",
        id="result-duration-inner-fraction",
    ),
    pytest.param(
        "result",
        {"extensions": "ext"},
        "result.extensions",
        "result.extensions: must be an extensions map (a JSON object), got 'ext'",
        id="result-ext-string",
    ),
    pytest.param(
        "result",
        {"extensions": None},
        "result.extensions",
        "result.extensions: must not be null (only extension values may be null)",
        id="result-ext-null",
    ),
    pytest.param(
        "context",
        "context",
        "context",
        "context: must be a Context (a JSON object), got 'context'",
        id="context-string",
    ),
    pytest.param(
        "context",
        {"registration": "not-a-uuid"},
        "context.registration",
        "context.registration: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 'not-a-uuid'",
        id="context-registration-bad",
    ),
    pytest.param(
        "context",
        {"instructor": "teacher"},
        "context.instructor",
        "context.instructor: must be an Agent or a Group (a JSON object), got 'teacher'",
        id="context-instructor-string",
    ),
    pytest.param(
        "context",
        {"instructor": {"key": "should fail"}},
        "context.instructor.key",
        "context.instructor.key: is not a property of an Agent in xAPI 1.0.3",
        id="context-instructor-no-ifi",
    ),
    pytest.param(
        "context",
        {"team": {"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}},
        "context.team",
        'context.team: must be a Group ("objectType": "Group"), got an Agent',
        id="context-team-agent",
    ),
    pytest.param(
        "context",
        {"team": "team"},
        "context.team",
        'context.team: must be a Group ("objectType": "Group"), got \'team\'',
        id="context-team-string",
    ),
    pytest.param(
        "context",
        {"contextActivities": "parent"},
        "context.contextActivities",
        "context.contextActivities: must be a contextActivities map (a JSON object), got 'parent'",
        id="context-ca-string",
    ),
    pytest.param(
        "context",
        {"contextActivities": {"parents": [{"id": "http://example.com/p"}]}},
        "context.contextActivities.parents",
        "context.contextActivities.parents: is not a property of a contextActivities map in xAPI 1.0.3",
        id="context-ca-bad-key",
    ),
    pytest.param(
        "context",
        {"contextActivities": {"parent": "http://example.com/p"}},
        "context.contextActivities.parent",
        "context.contextActivities.parent: must be an Activity or an array of Activities, got 'http://example.com/p'",
        id="context-ca-string-value",
    ),
    pytest.param(
        "context",
        {"contextActivities": {"grouping": [{"definition": {}}]}},
        "context.contextActivities.grouping[0].id",
        "context.contextActivities.grouping[0].id: is required in an Activity",
        id="context-ca-activity-no-id",
    ),
    pytest.param(
        "context",
        {"contextActivities": {"other": [{"objectType": "Agent", "mbox": "mailto:a@example.com"}]}},
        "context.contextActivities.other[0].mbox",
        "context.contextActivities.other[0].mbox: is not a property of an Activity in xAPI 1.0.3",
        id="context-ca-agent",
    ),
    pytest.param(
        "context",
        {"revision": 1},
        "context.revision",
        "context.revision: must be a string, got 1",
        id="context-revision-number",
    ),
    pytest.param(
        "object+context",
        (
            {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
            {"platform": "web"},
        ),
        "context.platform",
        "context.platform: may only be used when the statement's object is an Activity, got a StatementRef",
        id="context-platform-statementref",
    ),
    pytest.param(
        "object+context",
        ({"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}, {"revision": "r1"}),
        "context.revision",
        "context.revision: may only be used when the statement's object is an Activity, got an Agent",
        id="context-revision-agent",
    ),
    pytest.param(
        "context",
        {"language": "something"},
        "context.language",
        "context.language: must be an RFC 5646 language tag (such as 'ja'), got 'something'",
        id="context-language-bad",
    ),
    pytest.param(
        "context",
        {"language": 12345},
        "context.language",
        "context.language: must be an RFC 5646 language tag (such as 'ja'), got 12345",
        id="context-language-number",
    ),
    pytest.param(
        "context",
        {"statement": "statementref"},
        "context.statement",
        "context.statement: must be a StatementRef (a JSON object), got 'statementref'",
        id="context-statement-string",
    ),
    pytest.param(
        "context",
        {
            "statement": {
                "objectType": "StatementRef",
                "id": "AA97B177-9383-4934-8543-0F91A7A028368",
            }
        },
        "context.statement.id",
        "context.statement.id: must be a UUID in standard form ('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', hex digits), got 'AA97B177-9383-4934-8543-0F91A7A028368'",
        id="context-statement-bad-id",
    ),
    pytest.param(
        "context",
        {"statement": {"id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}},
        "context.statement.objectType",
        "context.statement.objectType: is required in a StatementRef",
        id="context-statement-no-type",
    ),
    pytest.param(
        "context",
        {"extensions": {"should fail": 1}},
        "context.extensions",
        "context.extensions: the key 'should fail' is not an IRI (extension keys must be IRIs)",
        id="context-ext-key",
    ),
    pytest.param(
        "context",
        {"contextAgents": []},
        "context.contextAgents",
        "context.contextAgents: is a property of xAPI 2.0.0, not of xAPI 1.0.3",
        id="context-agents-in-103",
    ),
    pytest.param(
        "timestamp",
        "should fail",
        "timestamp",
        "timestamp: must be an ISO 8601 timestamp with a time zone, such as '2026-04-01T08:30:00.000Z', got 'should fail'",
        id="timestamp-string",
    ),
    pytest.param(
        "timestamp",
        "01/011/2015",
        "timestamp",
        "timestamp: must be an ISO 8601 timestamp with a time zone, such as '2026-04-01T08:30:00.000Z', got '01/011/2015'",
        id="timestamp-us-date",
    ),
    pytest.param(
        "timestamp",
        "2008-09-15T15:53:00.601-00",
        "timestamp",
        "timestamp: must not use the offset '-00', which means an unknown offset (use 'Z' or '+00:00' for UTC), got '2008-09-15T15:53:00.601-00'",
        id="timestamp-minus-00",
    ),
    pytest.param(
        "timestamp",
        "2008-09-15T15:53:00.601-0000",
        "timestamp",
        "timestamp: must not use the offset '-0000', which means an unknown offset (use 'Z' or '+00:00' for UTC), got '2008-09-15T15:53:00.601-0000'",
        id="timestamp-minus-0000",
    ),
    pytest.param(
        "timestamp",
        "2008-09-15T15:53:00.601-00:00",
        "timestamp",
        "timestamp: must not use the offset '-00:00', which means an unknown offset (use 'Z' or '+00:00' for UTC), got '2008-09-15T15:53:00.601-00:00'",
        id="timestamp-minus-00-00",
    ),
    pytest.param(
        "timestamp",
        "2008-09-15T15:53:00.601",
        "timestamp",
        "timestamp: must include a time zone ('Z' or an offset such as '+09:00'), got '2008-09-15T15:53:00.601'",
        id="timestamp-no-zone",
    ),
    pytest.param(
        "timestamp",
        "2023-02-30T12:00:00Z",
        "timestamp",
        "timestamp: is not a real date and time: '2023-02-30T12:00:00Z'",
        id="timestamp-feb-30",
    ),
    pytest.param(
        "timestamp",
        1234567890,
        "timestamp",
        "timestamp: must be an ISO 8601 timestamp string, got 1234567890",
        id="timestamp-number",
    ),
    pytest.param(
        "stored",
        "yesterday",
        "stored",
        "stored: must be an ISO 8601 timestamp with a time zone, such as '2026-04-01T08:30:00.000Z', got 'yesterday'",
        id="stored-bad",
    ),
    pytest.param(
        "authority",
        "authority",
        "authority",
        "authority: must be an Agent or a two-Agent Group (a JSON object), got 'authority'",
        id="authority-string",
    ),
    pytest.param(
        "authority",
        {
            "objectType": "Group",
            "name": "xAPI Group",
            "mbox": "mailto:xapigroup@example.com",
            "member": [
                {"mbox": "mailto:agentA@example.com"},
                {"mbox": "mailto:agentB@example.com"},
            ],
        },
        "authority",
        "authority: a Group authority (3-legged OAuth) must be an anonymous Group: no mbox, mbox_sha1sum, openid or account, got 'mbox'",
        id="authority-identified-group",
    ),
    pytest.param(
        "authority",
        {
            "objectType": "Group",
            "member": [{"objectType": "Agent", "mbox": "mailto:xapi@adlnet.gov"}],
        },
        "authority.member",
        "authority.member: a Group authority (3-legged OAuth) must have exactly two Agents, got 1",
        id="authority-one-member",
    ),
    pytest.param(
        "authority",
        {
            "objectType": "Group",
            "member": [
                {"mbox": "mailto:a@example.com"},
                {"mbox": "mailto:b@example.com"},
                {"mbox": "mailto:c@example.com"},
            ],
        },
        "authority.member",
        "authority.member: a Group authority (3-legged OAuth) must have exactly two Agents, got 3",
        id="authority-three-members",
    ),
    pytest.param(
        "authority",
        {"objectType": "Agent"},
        "authority",
        "authority: an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), got none",
        id="authority-no-ifi",
    ),
    pytest.param(
        "version",
        "0.9.9",
        "version",
        "version: must be a 1.0.x version such as '1.0.0', got '0.9.9'",
        id="version-0-9-9",
    ),
    pytest.param(
        "version",
        "1.1.0",
        "version",
        "version: must be a 1.0.x version such as '1.0.0', got '1.1.0'",
        id="version-1-1-0",
    ),
    pytest.param(
        "version",
        "2.0.0",
        "version",
        "version: must be a 1.0.x version such as '1.0.0', got '2.0.0'",
        id="version-2-0-0-in-103",
    ),
    pytest.param(
        "version",
        1.0,
        "version",
        "version: must be a 1.0.x version such as '1.0.0', got 1.0",
        id="version-number",
    ),
    pytest.param(
        "attachments",
        {"usageType": "http://example.com/attachment-usage/test"},
        "attachments",
        "attachments: must be an array of Attachments, got an object",
        id="attachments-not-array",
    ),
    pytest.param(
        "attachments",
        ["attachment"],
        "attachments[0]",
        "attachments[0]: must be an Attachment (a JSON object), got 'attachment'",
        id="attachment-string",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"en-US": "A"},
                "contentType": "text/plain",
                "length": 27,
            }
        ],
        "attachments[0].sha2",
        "attachments[0].sha2: is required in an Attachment",
        id="attachment-missing-sha2",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "should fail",
                "display": {"en-US": "A"},
                "contentType": "text/plain",
                "length": 27,
                "sha2": "ab",
            }
        ],
        "attachments[0].usageType",
        "attachments[0].usageType: must be an IRI (absolute, with a scheme such as 'https:'), got 'should fail'",
        id="attachment-usage-not-iri",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"en-US": "A"},
                "contentType": 12345,
                "length": 27,
                "sha2": "ab",
            }
        ],
        "attachments[0].contentType",
        "attachments[0].contentType: must be an Internet media type such as 'image/png', got 12345",
        id="attachment-content-type-number",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"en-US": "A"},
                "contentType": "text/plain",
                "length": "27",
                "sha2": "ab",
            }
        ],
        "attachments[0].length",
        "attachments[0].length: must be a non-negative integer, got '27'",
        id="attachment-length-string",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"en-US": "A"},
                "contentType": "text/plain",
                "length": 27.5,
                "sha2": "ab",
            }
        ],
        "attachments[0].length",
        "attachments[0].length: must be a non-negative integer, got 27.5",
        id="attachment-length-float",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"en-US": "A"},
                "contentType": "text/plain",
                "length": 27,
                "sha2": 12345,
            }
        ],
        "attachments[0].sha2",
        "attachments[0].sha2: must be a string, got 12345",
        id="attachment-sha2-number",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"en-US": "A"},
                "contentType": "text/plain",
                "length": 27,
                "sha2": "ab",
                "fileUrl": "should fail",
            }
        ],
        "attachments[0].fileUrl",
        "attachments[0].fileUrl: must be an IRL (absolute URL), got 'should fail'",
        id="attachment-fileurl-string",
    ),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/u",
                "display": {"a12345678": "A"},
                "contentType": "text/plain",
                "length": 27,
                "sha2": "ab",
            }
        ],
        "attachments[0].display",
        "attachments[0].display: the key 'a12345678' is not an RFC 5646 language tag (such as 'ja' or 'en-US')",
        id="attachment-display-bad-tag",
    ),
    pytest.param(
        "verb",
        {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object",
        "object: a voiding statement (verb 'http://adlnet.gov/expapi/verbs/voided') must have a StatementRef object, got an Activity",
        id="voided-activity",
    ),
]


@pytest.mark.parametrize(("where", "value", "path", "reason"), INVALID)
def test_an_invalid_statement_is_refused_with_its_path_and_reason(
    where: str, value: object, path: str, reason: str
) -> None:
    with pytest.raises(StatementInvalid) as refused:
        validate_statement(changed(where, value))
    assert (refused.value.path, refused.value.reason, refused.value.status) == (path, reason, 400)
    assert str(refused.value) == reason


def test_non_finite_numbers_are_refused() -> None:
    # json.loads accepts NaN and Infinity; no JSON document can carry them
    for number in (float("nan"), float("inf")):
        with pytest.raises(StatementInvalid) as refused:
            validate_statement(changed("result", {"score": {"raw": number}}))
        assert refused.value.path == "result.score.raw"


VALID = [
    pytest.param("actor", {"mbox": "mailto:xapi@adlnet.gov"}, id="actor-without-objectType"),
    pytest.param(
        "actor",
        {"objectType": "Group", "name": "Group Anonymous", "member": [AGENT]},
        id="anonymous-group-actor",
    ),
    pytest.param(
        "actor",
        {"objectType": "Group", "account": {"homePage": "http://www.example.com", "name": "g1"}},
        id="identified-group-without-members",
    ),
    pytest.param(
        "actor",
        {
            "objectType": "Group",
            "openid": "http://openid.example.org/12345",
            "member": [{"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}],
        },
        id="identified-group-with-members",
    ),
    pytest.param("object", SUB, id="substatement"),
    pytest.param(
        "object",
        {**SUB, "timestamp": "2099-01-01T00:00:00Z", "context": {"platform": "web"}},
        id="substatement-future-timestamp-and-context",
    ),
    pytest.param("object", SR, id="statementref"),
    pytest.param("object", {"objectType": "Agent", "mbox": "mailto:a@example.com"}, id="agent"),
    pytest.param("object", {"objectType": "Group", "member": [AGENT]}, id="anonymous-group-object"),
    pytest.param("object", {"id": "urn:uuid:8f87ccde-bb56-4c2e-ab83-44982ef22df0"}, id="urn-id"),
    pytest.param(
        "object",
        {"id": "https://例え.jp/教材/たしざん?q=1#3"},
        id="iri-with-non-ascii",
    ),
    pytest.param(
        "object",
        {
            "id": "http://example.com/q/1",
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "correctResponsesPattern": ["golf[,]tetris"],
                "choices": [
                    {"id": "golf", "description": {"en-US": "Golf Example"}},
                    {"id": "tetris", "description": {"ja": "テトリス"}},
                ],
            },
        },
        id="choice-interaction",
    ),
    pytest.param(
        "object",
        {
            "id": "http://example.com/q/2",
            "definition": {
                "interactionType": "matching",
                "correctResponsesPattern": ["ben[.]3"],
                "source": [{"id": "ben"}],
                "target": [{"id": "3"}],
            },
        },
        id="matching-interaction",
    ),
    pytest.param(
        "object",
        {
            "id": "http://example.com/q/3",
            "definition": {
                "interactionType": "likert",
                "scale": [{"id": "likert_0"}, {"id": "likert_1"}],
            },
        },
        id="likert-interaction",
    ),
    pytest.param(
        "object",
        {
            "id": "http://example.com/q/4",
            "definition": {"interactionType": "performance", "steps": [{"id": "pong"}]},
        },
        id="performance-interaction",
    ),
    pytest.param(
        "object",
        {
            "id": "http://example.com/q/5",
            "definition": {"interactionType": "numeric", "correctResponsesPattern": ["4[:]"]},
        },
        id="numeric-interaction",
    ),
    pytest.param(
        "object",
        {
            "id": "http://example.com/a",
            "definition": {
                "name": {"zh-Hans-CN": "例如会议", "sr-Latn-RS": "x", "ase": "y", "x-private": "z"},
                "moreInfo": "http://virtualmeeting.example.com/345256",
                "extensions": {
                    "http://example.com/null": None,
                    "http://example.com/empty": "",
                    "http://example.com/nested": {"a": [1, {"b": None}], "c": True},
                },
            },
        },
        id="definition-with-languages-and-extensions",
    ),
    pytest.param(
        "result",
        {
            "score": {"scaled": -1, "raw": 0, "min": 0, "max": 100.6767676},
            "success": False,
            "completion": True,
            "response": "",
            "duration": "P3Y1M29DT4H35M59.14S",
            "extensions": {},
        },
        id="result-bounds",
    ),
    pytest.param("result", {"duration": "P4W"}, id="duration-weeks"),
    pytest.param("result", {"duration": "PT16559.14S"}, id="duration-seconds"),
    pytest.param(
        "context",
        {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"objectType": "Group", "member": [AGENT]},
            "team": {"objectType": "Group", "mbox": "mailto:team@example.com"},
            "contextActivities": {
                "parent": {"id": "http://example.com/parent"},
                "grouping": [{"objectType": "Activity", "id": "http://example.com/g"}],
                "category": [],
                "other": [{"id": "http://example.com/o", "definition": {}}],
            },
            "revision": "r2",
            "platform": "まなびドリル",
            "language": "cmn",
            "statement": SR,
            "extensions": {"https://w3id.org/japan-xapi/extensions/grade": "P5"},
        },
        id="full-context",
    ),
    pytest.param("context", {"platform": "web"}, id="platform-with-activity-object"),
    pytest.param("timestamp", "2023-02-28T12:00:21.619+09:00", id="timestamp-offset"),
    pytest.param("timestamp", "2008-09-15T15:53:00.601+00:00", id="timestamp-rfc3339-utc"),
    pytest.param("timestamp", "2008-09-15T15:53:00.123456789Z", id="timestamp-nanoseconds"),
    pytest.param("timestamp", "2008-09-15T15:53:00-0530", id="timestamp-basic-offset"),
    pytest.param("timestamp", "2016-12-31T23:59:60Z", id="timestamp-leap-second"),
    pytest.param("stored", "2013-05-18T05:32:34.804Z", id="stored"),
    pytest.param("version", "1.0", id="version-1.0"),
    pytest.param("version", "1.0.9", id="version-1.0.9"),
    pytest.param(
        "authority",
        {
            "objectType": "Group",
            "member": [
                {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "x75db"}},
                {"mbox": "mailto:bob_authority@example.com"},
            ],
        },
        id="authority-oauth-group",
    ),
    pytest.param("authority", AGENT, id="authority-agent"),
    pytest.param(
        "attachments",
        [
            {
                "usageType": "http://example.com/attachment-usage/test",
                "display": {"en-US": "A test attachment"},
                "description": {"es": "Un adjunto"},
                "contentType": "text/plain; charset=ascii",
                "length": 27,
                "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
                "fileUrl": "http://over.there.com/file.txt",
            }
        ],
        id="attachment",
    ),
    pytest.param("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0", id="uppercase-uuid"),
]


@pytest.mark.parametrize(("where", "value"), VALID)
def test_a_valid_edge_case_is_accepted(where: str, value: object) -> None:
    validate_statement(changed(where, value))


def test_a_voiding_statement_with_a_statementref_is_accepted() -> None:
    voiding = changed("verb", {"id": "http://adlnet.gov/expapi/verbs/voided"})
    assert isinstance(voiding, dict)
    voiding["object"] = SR
    validate_statement(voiding)


def test_a_substatement_validates_on_its_own() -> None:
    validate_statement(SUB, substatement=True)
    with pytest.raises(StatementInvalid) as refused:
        validate_statement({**SUB, "objectType": "Activity"}, substatement=True)
    assert refused.value.reason == "objectType: must be 'SubStatement', got 'Activity'"


CONTEXT_AGENTS = {
    "contextAgents": [
        {
            "objectType": "contextAgent",
            "agent": {"mbox": "mailto:player-1@example.com"},
            "relevantTypes": ["https://example.com/types/coach"],
        }
    ],
    "contextGroups": [
        {"objectType": "contextGroup", "group": {"objectType": "Group", "member": [AGENT]}}
    ],
}


def test_xapi_2_0_additions_are_accepted_only_for_2_0_0() -> None:
    statement = changed("context", CONTEXT_AGENTS)
    validate_statement(statement, version="2.0.0")
    validate_statement(changed("version", "2.0.0"), version="2.0.0")
    with pytest.raises(StatementInvalid) as refused:
        validate_statement(statement)
    assert refused.value.reason == (
        "context.contextAgents: is a property of xAPI 2.0.0, not of xAPI 1.0.3"
    )


@pytest.mark.parametrize(
    ("entry", "path", "reason"),
    [
        (
            {"objectType": "Should fail", "agent": AGENT},
            "context.contextAgents[0].objectType",
            "context.contextAgents[0].objectType: must be 'contextAgent', got 'Should fail'",
        ),
        (
            {"objectType": "contextAgent", "agent": {"key": "Should fail"}},
            "context.contextAgents[0].agent.key",
            "context.contextAgents[0].agent.key: is not a property of an Agent in xAPI 2.0.0",
        ),
        (
            {"objectType": "contextAgent", "agent": AGENT, "relevantTypes": []},
            "context.contextAgents[0].relevantTypes",
            "context.contextAgents[0].relevantTypes: must list at least one IRI when present",
        ),
        (
            {"objectType": "contextAgent", "agent": AGENT, "relevantTypes": ["abc"]},
            "context.contextAgents[0].relevantTypes[0]",
            "context.contextAgents[0].relevantTypes[0]: must be an IRI (absolute, with a scheme "
            "such as 'https:'), got 'abc'",
        ),
    ],
)
def test_xapi_2_0_context_agents_are_validated(entry: object, path: str, reason: str) -> None:
    with pytest.raises(StatementInvalid) as refused:
        validate_statement(changed("context", {"contextAgents": [entry]}), version="2.0.0")
    assert (refused.value.path, refused.value.reason) == (path, reason)


def test_an_unknown_xapi_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=re.escape("unsupported xAPI version '0.95'")):
        validate_statement(BASE, version="0.95")


def test_context_activities_are_normalised_to_arrays_without_changing_the_input() -> None:
    single = {"id": "http://example.com/parent"}
    statement = changed("context", {"contextActivities": {"parent": single, "grouping": [single]}})
    assert isinstance(statement, dict)
    statement["object"] = {**SUB, "context": {"contextActivities": {"other": single}}}
    before = copy.deepcopy(statement)
    normalised = normalise_context_activities(statement)
    assert statement == before
    assert normalised["context"] == {
        "contextActivities": {"parent": [single], "grouping": [single]}
    }
    assert normalised["object"]["context"] == {"contextActivities": {"other": [single]}}
    assert normalised["actor"] is statement["actor"]
    assert normalise_context_activities(BASE) == BASE
