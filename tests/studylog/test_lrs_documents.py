"""The LRS endpoint's About, document resources (State, Activity Profile, Agent Profile),
Activities and Agents, through the HTTP client, with two demo tools' credentials."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import urllib.parse
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from roster.models import User
from studylog.lrs import access
from studylog.lrs.auth import issue_credential
from studylog.models import LinkKind, Origin, Statement, StatementLink, XapiDocument
from tests.factories import StudentFactory
from tools_registry.models import Registration

JSON = "application/json; charset=utf-8"
ACTIVITY = "https://drill.example/units/add-1"
OTHER_ACTIVITY = "https://drill.example/units/add-2"
REG = "6f1e5a52-2c3b-4bb3-9b7e-2f5d9f6c1a10"
STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"


def agent_of(user: User) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "account": {"homePage": "https://drill.example", "name": str(user.eportal_uuid)},
    }


def sha1(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()  # noqa: S324


class Lrs:
    """A tool at the LRS endpoint: its Basic credentials and the version header."""

    def __init__(self, client: Client, registration: Registration) -> None:
        credential, secret = issue_credential(registration=registration)
        token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
        self.client = client
        self.authorization = f"Basic {token}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": self.authorization,
            "X-Experience-API-Version": "1.0.3",
            **(extra or {}),
        }

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = body.encode() if isinstance(body, str) else body
        kwargs: dict[str, Any] = {"headers": self.headers(headers)}
        if content_type is not None:
            kwargs["content_type"] = content_type
        return self.client.generic(method, url, data, **kwargs)

    def put_json(self, path: str, params: dict[str, Any], doc: Any, **headers: str) -> Any:
        return self.call(
            "PUT", path, params, json.dumps(doc), content_type="application/json", headers=headers
        )

    def post_json(self, path: str, params: dict[str, Any], doc: Any, **headers: str) -> Any:
        return self.call(
            "POST", path, params, json.dumps(doc), content_type="application/json", headers=headers
        )

    def get(self, path: str, params: dict[str, Any]) -> Any:
        return self.call("GET", path, params)


@pytest.fixture(autouse=True)
def _fresh_access_cache() -> None:
    access.clear_cache()


@pytest.fixture
def drill(demo_school: dict[str, User]) -> Registration:
    return Registration.objects.get(tool__slug="demo-drill")


@pytest.fixture
def cbt(demo_school: dict[str, User]) -> Registration:
    return Registration.objects.get(tool__slug="demo-cbt")


@pytest.fixture
def lrs(client: Client, drill: Registration) -> Lrs:
    return Lrs(client, drill)


@pytest.fixture
def other_lrs(client: Client, cbt: Registration) -> Lrs:
    return Lrs(client, cbt)


@pytest.fixture
def child(demo_school: dict[str, User]) -> User:
    """A child of 5年2組, where both the drill (school-wide) and the CBT are placed."""
    return demo_school["sakura-5-2-01"]


@pytest.fixture
def state(child: User) -> dict[str, Any]:
    return {"activityId": ACTIVITY, "agent": agent_of(child), "stateId": "progress"}


def documents() -> list[tuple[Any, ...]]:
    return sorted(
        (d.owner_id, d.kind, d.document_id, d.registration_key, bytes(d.content), d.etag)
        for d in XapiDocument.objects.all()
    )


def refused(response: Any, status: int, description: str, before: list[tuple[Any, ...]]) -> None:
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 409: "conflict"}
    codes |= {412: "precondition_failed", 413: "payload_too_large", 401: "unauthorized"}
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert response.json() == {"error": codes[status], "error_description": description}
    assert documents() == before


def no_content(response: Any) -> None:
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Type" not in response
    assert response["X-Experience-API-Version"] == "1.0.3"


def document(response: Any, content: bytes, content_type: str) -> None:
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == content_type
    assert response["ETag"] == f'"{sha1(content)}"'
    assert response["Cache-Control"] == "no-store"
    assert response["X-Experience-API-Version"] == "1.0.3"


# -- About ---------------------------------------------------------------------------------


def test_about_needs_no_credentials_nor_version(client: Client, db: None) -> None:
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert response["Content-Type"] == JSON
    assert response["X-Experience-API-Version"] == "1.0.3"
    assert response.json() == {"version": ["1.0.3", "2.0.0"], "extensions": {}}
    assert client.post("/xapi/about").status_code == 405


# -- State ---------------------------------------------------------------------------------


def test_state_put_get_and_replace_without_preconditions(lrs: Lrs, state: dict[str, Any]) -> None:
    no_content(lrs.put_json(STATE, state, {"page": 3}))
    response = lrs.get(STATE, state)
    document(response, b'{"page": 3}', "application/json")
    row = XapiDocument.objects.get()
    assert response["Last-Modified"] == row.updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert (row.kind, row.activity_id, row.document_id, row.registration_key, row.etag) == (
        "state",
        ACTIVITY,
        "progress",
        "",
        sha1(b'{"page": 3}'),
    )
    assert row.agent_key == f"account:https://drill.example|{state['agent']['account']['name']}"
    # the State needs no If-Match: a PUT without one replaces the document (3.1.s3)
    no_content(lrs.put_json(STATE, state, {"page": 4}))
    document(lrs.get(STATE, state), b'{"page": 4}', "application/json")
    assert XapiDocument.objects.count() == 1


def test_state_head_answers_the_headers_only(lrs: Lrs, state: dict[str, Any]) -> None:
    lrs.put_json(STATE, state, {"page": 3})
    response = lrs.call("HEAD", STATE, state)
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == '"' + sha1(b'{"page": 3}') + '"'


def test_state_other_content_types_are_kept_byte_for_byte(lrs: Lrs, state: dict[str, Any]) -> None:
    content = bytes(range(256))
    no_content(lrs.call("PUT", STATE, state, content, content_type="application/octet-stream"))
    document(lrs.get(STATE, state), content, "application/octet-stream")
    text = "まなび".encode()
    no_content(lrs.call("PUT", STATE, state, text, content_type="text/plain; charset=utf-8"))
    document(lrs.get(STATE, state), text, "text/plain; charset=utf-8")


def test_state_get_of_a_missing_document_is_404(lrs: Lrs, state: dict[str, Any]) -> None:
    refused(lrs.get(STATE, state), 404, "no document 'progress' here", [])


def test_state_preconditions(lrs: Lrs, state: dict[str, Any]) -> None:
    lrs.put_json(STATE, state, {"page": 3})
    etag = '"' + sha1(b'{"page": 3}') + '"'
    before = documents()
    wrong = '"1111111111111111111111111111111111111111"'
    changed = (
        "If-Match does not match the document's ETag \""
        + sha1(b'{"page": 3}')
        + '": it changed since you read it; GET it again and retry with its ETag'
    )
    refused(lrs.put_json(STATE, state, {"page": 9}, If_Match=wrong), 412, changed, before)
    refused(lrs.post_json(STATE, state, {"page": 9}, If_Match=wrong), 412, changed, before)
    refused(lrs.call("DELETE", STATE, state, headers={"If-Match": wrong}), 412, changed, before)
    exists = f"If-None-Match: * but the document exists (ETag {etag})"
    refused(lrs.put_json(STATE, state, {"page": 9}, If_None_Match="*"), 412, exists, before)
    matches = f"If-None-Match matches the document's ETag {etag}"
    refused(lrs.put_json(STATE, state, {"page": 9}, If_None_Match=etag), 412, matches, before)
    # a weak tag never matches If-Match (strong comparison)
    refused(lrs.put_json(STATE, state, {"page": 9}, If_Match="W/" + etag), 412, changed, before)
    no_content(lrs.put_json(STATE, state, {"page": 5}, If_Match=f'"x", {etag}'))
    document(lrs.get(STATE, state), b'{"page": 5}', "application/json")
    no_content(lrs.call("DELETE", STATE, state, headers={"If-Match": "*"}))
    assert documents() == []
    refused(
        lrs.put_json(STATE, state, {"page": 1}, If_Match="*"),
        412,
        "If-Match: * but there is no such document",
        [],
    )
    no_content(lrs.put_json(STATE, state, {"page": 1}, If_None_Match="*"))


def test_state_post_merges_json_objects(lrs: Lrs, state: dict[str, Any]) -> None:
    no_content(lrs.post_json(STATE, state, {"x": "foo", "y": "bar", "n": {"a": 1, "b": 2}}))
    no_content(lrs.post_json(STATE, state, {"x": "bash", "z": "faz", "n": {"c": 3}}))
    merged = b'{"x":"bash","y":"bar","n":{"c":3},"z":"faz"}'
    document(lrs.get(STATE, state), merged, "application/json")


def test_state_post_refuses_what_it_cannot_merge(lrs: Lrs, state: dict[str, Any]) -> None:
    lrs.post_json(STATE, state, {"x": "foo"})
    before = documents()
    refused(
        lrs.call("POST", STATE, state, "abcdefg", content_type="not/json"),
        400,
        "a POST to an existing document merges JSON: send the document as application/json "
        "(got 'not/json'), or PUT to replace it",
        before,
    )
    refused(
        lrs.call("POST", STATE, state, '{"x": 1}{', content_type="application/json"),
        400,
        "the posted document is application/json but not valid JSON: Extra data: line 1 "
        "column 9 (char 8)",
        before,
    )
    refused(
        lrs.post_json(STATE, state, ["x"]),
        400,
        "the posted document must be a JSON object to be merged (POST)",
        before,
    )
    other = {**state, "stateId": "raw"}
    no_content(lrs.call("PUT", STATE, other, "/ asdf /", content_type="application/octet-stream"))
    before = documents()
    refused(
        lrs.post_json(STATE, other, {"x": 1}),
        400,
        "the existing document is 'application/octet-stream', not application/json: it cannot "
        "be merged; PUT to replace it",
        before,
    )
    document(lrs.get(STATE, other), b"/ asdf /", "application/octet-stream")


def test_state_post_of_a_new_document_stores_it(lrs: Lrs, state: dict[str, Any]) -> None:
    no_content(lrs.call("POST", STATE, state, "plain", content_type="text/plain"))
    document(lrs.get(STATE, state), b"plain", "text/plain")


def test_state_ids_since_and_registration(lrs: Lrs, state: dict[str, Any]) -> None:
    scope = {"activityId": ACTIVITY, "agent": state["agent"]}
    for state_id in ("a", "b", "c"):
        lrs.put_json(STATE, {**scope, "stateId": state_id}, {})
    lrs.put_json(STATE, {**scope, "stateId": "r", "registration": REG.upper()}, {})
    lrs.put_json(STATE, {**scope, "activityId": OTHER_ACTIVITY, "stateId": "elsewhere"}, {})
    base = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)
    for minutes, state_id in enumerate(("a", "b", "c", "r")):
        XapiDocument.objects.filter(document_id=state_id).update(
            updated=base + datetime.timedelta(minutes=minutes)
        )
    response = lrs.get(STATE, scope)
    assert response.status_code == 200
    assert response.json() == ["a", "b", "c", "r"]  # every registration's, without one
    assert response["ETag"] == f'"{sha1(response.content)}"'
    assert response["Last-Modified"] == "Fri, 01 May 2026 09:03:00 GMT"
    # since is exclusive
    response = lrs.get(STATE, {**scope, "since": "2026-05-01T09:01:00.000Z"})
    assert response.json() == ["c", "r"]
    assert response["Last-Modified"] == "Fri, 01 May 2026 09:03:00 GMT"
    assert lrs.get(STATE, {**scope, "since": "2026-05-01T18:01:00+09:00"}).json() == ["c", "r"]
    response = lrs.get(STATE, {**scope, "since": "2026-06-01T00:00:00Z"})
    assert response.json() == []
    assert "Last-Modified" not in response
    assert lrs.get(STATE, {**scope, "registration": REG}).json() == ["r"]
    assert lrs.get(STATE, {**scope, "registration": str(uuid.uuid4())}).json() == []
    # one document: the registration is part of its key
    assert lrs.get(STATE, {**scope, "stateId": "r"}).status_code == 404
    assert lrs.get(STATE, {**scope, "stateId": "r", "registration": REG}).status_code == 200
    row = XapiDocument.objects.get(document_id="r")
    assert row.registration_key == REG
    before = documents()
    refused(
        lrs.get(STATE, {**scope, "since": "yesterday"}),
        400,
        "since must be an ISO 8601 timestamp with a time zone, such as "
        "'2026-04-01T08:30:00.000Z', got 'yesterday'",
        before,
    )
    refused(
        lrs.get(STATE, {**scope, "registration": "not-a-uuid"}),
        400,
        "registration must be a UUID, got 'not-a-uuid'",
        before,
    )
    refused(
        lrs.call("DELETE", STATE, {**scope, "since": "2026-05-01T09:01:00Z"}),
        400,
        "since is a parameter of GET only, not of DELETE",
        before,
    )


def test_state_delete_without_state_id_deletes_the_context(lrs: Lrs, state: dict[str, Any]) -> None:
    scope = {"activityId": ACTIVITY, "agent": state["agent"]}
    for state_id in ("a", "b"):
        lrs.put_json(STATE, {**scope, "stateId": state_id}, {})
    lrs.put_json(STATE, {**scope, "stateId": "r", "registration": REG}, {})
    lrs.put_json(STATE, {**scope, "activityId": OTHER_ACTIVITY, "stateId": "kept"}, {})
    no_content(lrs.call("DELETE", STATE, {**scope, "registration": REG}))
    assert lrs.get(STATE, scope).json() == ["a", "b"]
    no_content(lrs.call("DELETE", STATE, scope))
    assert lrs.get(STATE, scope).json() == []
    assert [d[2] for d in documents()] == ["kept"]
    # deleting what is not there is no error
    no_content(lrs.call("DELETE", STATE, {**scope, "stateId": "gone"}))


def test_tools_never_see_each_others_documents(
    lrs: Lrs, other_lrs: Lrs, state: dict[str, Any], drill: Registration, cbt: Registration
) -> None:
    lrs.put_json(STATE, state, {"tool": "drill"})
    profile = {"activityId": ACTIVITY, "profileId": "p"}
    lrs.put_json(ACTIVITY_PROFILE, profile, {"tool": "drill"}, If_None_Match="*")
    before = documents()
    assert other_lrs.get(STATE, state).status_code == 404
    assert other_lrs.get(STATE, {"activityId": ACTIVITY, "agent": state["agent"]}).json() == []
    assert other_lrs.get(ACTIVITY_PROFILE, profile).status_code == 404
    assert other_lrs.get(ACTIVITY_PROFILE, {"activityId": ACTIVITY}).json() == []
    no_content(other_lrs.call("DELETE", STATE, {"activityId": ACTIVITY, "agent": state["agent"]}))
    no_content(other_lrs.call("DELETE", ACTIVITY_PROFILE, profile))
    assert documents() == before
    # the same ids are the other tool's own documents: If-None-Match: * succeeds
    no_content(other_lrs.put_json(STATE, state, {"tool": "cbt"}, If_None_Match="*"))
    no_content(other_lrs.put_json(ACTIVITY_PROFILE, profile, {"tool": "cbt"}, If_None_Match="*"))
    document(lrs.get(STATE, state), b'{"tool": "drill"}', "application/json")
    document(other_lrs.get(STATE, state), b'{"tool": "cbt"}', "application/json")
    assert sorted(XapiDocument.objects.values_list("owner_id", flat=True)) == sorted(
        [drill.pk, drill.pk, cbt.pk, cbt.pk]
    )


def test_alternate_request_syntax_put(client: Client, lrs: Lrs, state: dict[str, Any]) -> None:
    form = {
        "Authorization": lrs.authorization,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        "content": '{"page": 7}',
        "activityId": ACTIVITY,
        "agent": json.dumps(state["agent"]),
        "stateId": "progress",
    }
    response = client.post(
        STATE + "?method=PUT",
        urllib.parse.urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    no_content(response)
    document(lrs.get(STATE, state), b'{"page": 7}', "application/json")
    profile = {"activityId": ACTIVITY, "profileId": "p"}
    form = {**form, "If-None-Match": "*", "profileId": "p"}
    del form["agent"], form["stateId"]
    response = client.post(
        ACTIVITY_PROFILE + "?method=PUT",
        urllib.parse.urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    no_content(response)
    document(lrs.get(ACTIVITY_PROFILE, profile), b'{"page": 7}', "application/json")


# -- profiles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        (ACTIVITY_PROFILE, {"activityId": ACTIVITY}),
        (AGENT_PROFILE, {"agent": "child"}),
    ],
)
def test_profile_concurrency(lrs: Lrs, child: User, path: str, scope: dict[str, Any]) -> None:
    if scope.get("agent") == "child":
        scope = {"agent": agent_of(child)}
    params = {**scope, "profileId": "settings"}
    # a PUT must send If-Match or If-None-Match: 400 while the document does not exist
    refused(
        lrs.put_json(path, params, {"v": 1}),
        400,
        "a PUT to a profile must send If-Match (the ETag of the document it replaces) or "
        "If-None-Match: * (to create it only if it does not exist)",
        [],
    )
    no_content(lrs.put_json(path, params, {"v": 1}, If_None_Match="*"))
    etag = '"' + sha1(b'{"v": 1}') + '"'
    before = documents()
    # ... and 409 once it exists (3.1.s4.b13)
    refused(
        lrs.put_json(path, params, {"v": 2}),
        409,
        "the document 'settings' already exists: GET it to check its current content, then "
        "PUT again with If-Match set to its ETag (or POST to merge JSON)",
        before,
    )
    refused(
        lrs.put_json(path, params, {"v": 2}, If_None_Match="*"),
        412,
        f"If-None-Match: * but the document exists (ETag {etag})",
        before,
    )
    no_content(lrs.put_json(path, params, {"v": 2}, If_Match=etag))
    document(lrs.get(path, params), b'{"v": 2}', "application/json")
    # POST and DELETE need no precondition (SHOULD* only)
    no_content(lrs.post_json(path, params, {"w": 3}))
    document(lrs.get(path, params), b'{"v":2,"w":3}', "application/json")
    no_content(lrs.post_json(path, {**params, "profileId": "other"}, {"o": 1}))
    assert lrs.get(path, scope).json() == ["other", "settings"]
    no_content(lrs.call("DELETE", path, params))
    assert lrs.get(path, scope).json() == ["other"]
    before = documents()
    refused(
        lrs.call("DELETE", path, scope),
        400,
        "the parameter profileId is required",
        before,
    )


def test_profile_since(lrs: Lrs) -> None:
    for profile_id in ("old", "new"):
        lrs.post_json(ACTIVITY_PROFILE, {"activityId": ACTIVITY, "profileId": profile_id}, {})
    XapiDocument.objects.filter(document_id="old").update(
        updated=timezone.now() - datetime.timedelta(hours=1)
    )
    since = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    response = lrs.get(ACTIVITY_PROFILE, {"activityId": ACTIVITY, "since": since})
    assert response.json() == ["new"]


# -- parameters ----------------------------------------------------------------------------


def test_parameters_are_checked(
    lrs: Lrs, state: dict[str, Any], child: User, demo_school: dict[str, User]
) -> None:
    lrs.put_json(STATE, state, {"page": 3})
    before = documents()
    refused(
        lrs.put_json(STATE, {"stateId": "x"}, {}),
        400,
        "the parameters activityId, agent are required",
        before,
    )
    refused(
        lrs.put_json(STATE, {**state, "stateid": "x"}, {}),
        400,
        "unknown parameter stateid: this resource takes activityId, agent, registration, "
        "stateId (names are case-sensitive)",
        before,
    )
    refused(
        lrs.put_json(STATE, {**state, "stateId": ""}, {}),
        400,
        "stateId must not be empty",
        before,
    )
    refused(
        lrs.put_json(STATE, {k: v for k, v in state.items() if k != "stateId"}, {}),
        400,
        "the parameter stateId is required",
        before,
    )
    refused(
        lrs.put_json(STATE, {**state, "activityId": "not an iri"}, {}),
        400,
        "activityId must be an IRI (such as 'https://…'), got 'not an iri'",
        before,
    )
    refused(
        lrs.put_json(STATE, {**state, "agent": "{not json"}, {}),
        400,
        "agent must be an Agent object in JSON: Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)",
        before,
    )
    refused(
        lrs.put_json(STATE, {**state, "agent": {"objectType": "Agent"}}, {}),
        400,
        "agent: an Agent must have exactly one inverse functional identifier (mbox, "
        "mbox_sha1sum, openid or account), got none",
        before,
    )
    group = {"objectType": "Group", "member": [agent_of(child)]}
    refused(
        lrs.put_json(STATE, {**state, "agent": group}, {}),
        400,
        "agent: must be an Agent, not a Group",
        before,
    )
    refused(
        lrs.put_json(STATE, {**state, "agent": {"mbox": "mailto:child@example.com"}}, {}),
        400,
        "agent: must be identified by an account whose name is the person's e-portal UUID "
        "(the LTI launch's sub); e-mail, openid and mbox_sha1sum are not accepted here",
        before,
    )
    stranger = StudentFactory.create()  # a child of another board's school
    refused(
        lrs.put_json(STATE, {**state, "agent": agent_of(stranger)}, {}),
        400,
        "agent: is not a learner or teacher of a class where this tool is placed "
        f"(account.name {stranger.eportal_uuid})",
        before,
    )
    refused(
        lrs.call("PATCH", STATE, state),
        405,
        "this resource answers GET, HEAD, PUT, POST, DELETE",
        before,
    )
    response = lrs.call("GET", STATE, state, headers={"X-Experience-API-Version": ""})
    refused(response, 400, "the X-Experience-API-Version header is required", before)
    response = lrs.call("PUT", STATE, state, "{}", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    refused(response, 401, "unknown or inactive credentials", before)


def test_the_cbt_may_not_name_a_child_of_a_class_it_is_not_placed_in(
    other_lrs: Lrs, demo_school: dict[str, User]
) -> None:
    first_grader = demo_school["sakura-1-1-01"]
    refused(
        other_lrs.get(STATE, {"activityId": ACTIVITY, "agent": agent_of(first_grader)}),
        400,
        "agent: is not a learner or teacher of a class where this tool is placed "
        f"(account.name {first_grader.eportal_uuid})",
        [],
    )


def test_bodies_over_the_limit_are_refused(lrs: Lrs, state: dict[str, Any], settings: Any) -> None:
    settings.XAPI_MAX_REQUEST_BYTES = 64
    refused(
        lrs.call("PUT", STATE, state, b"x" * 65, content_type="text/plain"),
        413,
        "the request body is larger than 64 bytes",
        [],
    )


# -- Activities and Agents -----------------------------------------------------------------


def stored(registration: Registration, n: int, activity: dict[str, Any]) -> None:
    body: dict[str, Any] = {
        "id": str(uuid.UUID(int=n)),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://d", "name": "x"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": activity,
        "context": {"contextActivities": {"parent": [{"id": "https://drill.example/units"}]}},
    }
    now = timezone.now() + datetime.timedelta(seconds=n)
    statement = Statement.objects.create(
        id=uuid.UUID(int=n),
        body=json.dumps(body).encode(),
        origin=Origin.TOOL,
        verb=body["verb"]["id"],
        object_id=activity["id"],
        timestamp=now,
        stored=now,
        registration=registration,
        tool=registration.tool,
    )
    for key in (activity["id"], "https://drill.example/units"):
        StatementLink.objects.create(statement=statement, kind=LinkKind.ACTIVITY, key=key)


def test_activities(lrs: Lrs, other_lrs: Lrs, drill: Registration, cbt: Registration) -> None:
    response = lrs.get("/xapi/activities", {"activityId": ACTIVITY})
    assert response.status_code == 200
    assert response.json() == {"objectType": "Activity", "id": ACTIVITY}
    assert response["ETag"] == f'"{sha1(response.content)}"'
    definition = {"name": {"ja": "たし算 1"}, "type": "http://adlnet.gov/expapi/activities/cmi"}
    stored(drill, 1, {"id": ACTIVITY, "definition": definition})
    stored(
        drill,
        2,
        {"objectType": "Activity", "id": ACTIVITY, "definition": {"name": {"en": "Add 1"}}},
    )
    stored(cbt, 3, {"id": ACTIVITY, "definition": {"name": {"ja": "CBT の名前"}}})
    assert lrs.get("/xapi/activities", {"activityId": ACTIVITY}).json() == {
        "objectType": "Activity",
        "id": ACTIVITY,
        "definition": {
            "name": {"ja": "たし算 1", "en": "Add 1"},
            "type": "http://adlnet.gov/expapi/activities/cmi",
        },
    }
    assert other_lrs.get("/xapi/activities", {"activityId": ACTIVITY}).json() == {
        "objectType": "Activity",
        "id": ACTIVITY,
        "definition": {"name": {"ja": "CBT の名前"}},
    }
    # named only as a parent, without a definition
    assert lrs.get("/xapi/activities", {"activityId": "https://drill.example/units"}).json() == {
        "objectType": "Activity",
        "id": "https://drill.example/units",
    }
    refused(lrs.get("/xapi/activities", {}), 400, "the parameter activityId is required", [])
    refused(
        lrs.get("/xapi/activities", {"activityId": ACTIVITY, "agent": "{}"}),
        400,
        "unknown parameter agent: this resource takes activityId (names are case-sensitive)",
        [],
    )


def test_agents_name_only_as_the_privacy_level_allows(
    lrs: Lrs, other_lrs: Lrs, child: User
) -> None:
    agent = agent_of(child)
    response = lrs.get("/xapi/agents", {"agent": agent})  # the drill: names
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "objectType": "Person",
        "name": [f"{child.last_name}\u3000{child.first_name}"],
        "account": [agent["account"]],
    }
    response = other_lrs.get("/xapi/agents", {"agent": agent})  # the CBT: ids only
    assert response.json() == {"objectType": "Person", "account": [agent["account"]]}
    stranger = StudentFactory.create()
    refused(
        lrs.get("/xapi/agents", {"agent": agent_of(stranger)}),
        400,
        "agent: is not a learner or teacher of a class where this tool is placed "
        f"(account.name {stranger.eportal_uuid})",
        [],
    )
    refused(lrs.get("/xapi/agents", {}), 400, "the parameter agent is required", [])


def test_xapi_2_0_0_requests_are_accepted(lrs: Lrs, state: dict[str, Any]) -> None:
    version = {"X-Experience-API-Version": "2.0.0"}
    no_content(
        lrs.call("PUT", STATE, state, "{}", content_type="application/json", headers=version)
    )
    response = lrs.call("GET", STATE, state, headers=version)
    document(response, b"{}", "application/json")
