"""Input that cannot be stored or sent gets the endpoint's normal 400, never a 500.

A JSON string may spell an unpaired surrogate (``"\\ud800"``): Python decodes it to a ``str``
that UTF-8 cannot encode, and the database driver, a hash or the response encoder used to fail
on it (a 500 at ``/lti/token`` for anyone, with no authentication). NUL is refused where the
text is stored. Percent-encoded invalid UTF-8 (``%ED%A0%80``) in a form, a query, a header or
a path is decoded by Django to U+FFFD and answered like any other wrong value.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict
from django.test import Client, RequestFactory

from lti_platform import service_views, views
from lti_platform.protocol import constants as c
from lti_platform.protocol import oauth
from lti_platform.protocol.text import Unencodable, find_unencodable, find_unencodable_field
from roster.models import User
from tests.lti_platform.service_helpers import (
    ALL_SCOPES,
    FORM,
    ISSUER,
    TOKEN_URL,
    ags_url,
    assertion,
    bearer,
    counts,
    demo_roster,
    deployment,
    get_token,
    nrps_url,
    post_token,
    private_key,
    register_tool,
    school_class,
    token_form,
)
from tools_registry.models import Registration

pytestmark = pytest.mark.django_db

JSON = "application/json"
SURROGATE = "\ud800"


def body(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


def refused(response: Any, status: int, expected: dict[str, str], before: dict[str, int]) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert response.json() == expected
    assert counts() == before


@pytest.fixture
def roster(db: None) -> dict[str, User]:
    return demo_roster()


@pytest.fixture
def tool(roster: dict[str, User]) -> Registration:
    return register_tool("test-tool")


@pytest.fixture
def token(client: Client, tool: Registration) -> str:
    return get_token(client, tool)


# --- the pure helper -----------------------------------------------------------------------


def test_find_unencodable_names_the_first_bad_string() -> None:
    assert find_unencodable({"a": "ok", "b": ["まなび", {"c": "x\udfffy"}]}) == Unencodable(
        "b[1].c", in_name=False, problem="an unpaired surrogate"
    )
    assert find_unencodable({"ok": {"\ud83d": 1}}) == Unencodable(
        "ok", in_name=True, problem="an unpaired surrogate"
    )
    assert find_unencodable(SURROGATE) == Unencodable("", False, "an unpaired surrogate")
    assert find_unencodable({"a": "x\x00"}) is None
    assert find_unencodable({"a": "x\x00"}, nul=True) == Unencodable("a", False, "a NUL character")
    # A paired surrogate is one character in Python: an emoji is fine.
    assert find_unencodable({"emoji": "🌱", "n": 1, "f": 1.5, "t": True, "z": None}) is None


def test_find_unencodable_walks_deep_nesting_without_recursion() -> None:
    deep: Any = SURROGATE
    for _ in range(5000):
        deep = [deep]
    found = find_unencodable(deep)
    assert found is not None
    assert found.path == "[0]" * 5000


def test_find_unencodable_field_and_descriptions() -> None:
    fields = [("scope", "ok"), ("grant_type", SURROGATE)]
    found = find_unencodable_field(fields)
    assert found is not None
    assert found.describe(whole="the form") == "grant_type contains an unpaired surrogate"
    named = find_unencodable_field([(SURROGATE, "x")])
    assert named is not None
    assert (
        named.describe(whole="the query", name="parameter name")
        == "the query has a parameter name that contains an unpaired surrogate"
    )


def test_the_token_form_is_checked_before_it_is_used() -> None:
    with pytest.raises(oauth.InvalidRequest) as refused_form:
        oauth.parse_token_request({"grant_type": "client_credentials", "scope": SURROGATE})
    assert refused_form.value.description == "scope contains an unpaired surrogate"


# --- /lti/token: the client assertion --------------------------------------------------------


def post_assertion(client: Client, signed: str) -> Any:
    return post_token(client, token_form(signed, ALL_SCOPES))


def assert_oauth_refused(
    response: Any, before: dict[str, int], error: str, description: str
) -> None:
    refused(response, 400, body(error, description), before)
    assert response["Cache-Control"] == "no-store"


def test_unknown_caller_with_a_surrogate_iss_is_invalid_client(client: Client, db: None) -> None:
    """No registration, no authentication: the request that used to be a 500."""
    before = counts()
    for iss in (SURROGATE, "tool" + SURROGATE, "\udfff\ud800"):
        signed = assertion(iss, key=private_key("nobody"))
        assert_oauth_refused(
            post_assertion(client, signed),
            before,
            "invalid_client",
            "client_assertion iss contains an unpaired surrogate",
        )


@pytest.mark.parametrize(
    ("claims", "headers", "description"),
    [
        ({"sub": SURROGATE}, {}, "client_assertion sub contains an unpaired surrogate"),
        ({"aud": TOKEN_URL + SURROGATE}, {}, "client_assertion aud contains an unpaired surrogate"),
        (
            {"aud": [TOKEN_URL, SURROGATE]},
            {},
            "client_assertion aud[1] contains an unpaired surrogate",
        ),
        ({"jti": "j-" + SURROGATE}, {}, "client_assertion jti contains an unpaired surrogate"),
        (
            {"ext": {"note": ["ok", "\udc00"]}},
            {},
            "client_assertion ext.note[1] contains an unpaired surrogate",
        ),
        (
            {SURROGATE: "x"},
            {},
            "client_assertion has a claim name that contains an unpaired surrogate",
        ),
        ({}, {"kid": SURROGATE}, "client_assertion header kid contains an unpaired surrogate"),
        (
            {},
            {"x5u": ["\udbff"]},
            "client_assertion header x5u[0] contains an unpaired surrogate",
        ),
    ],
)
def test_a_surrogate_anywhere_in_a_signed_assertion_is_invalid_client(
    client: Client,
    tool: Registration,
    claims: dict[str, Any],
    headers: dict[str, Any],
    description: str,
) -> None:
    """Correctly signed by the registered tool: only the surrogate is wrong."""
    before = counts()
    signed = assertion(tool.client_id, key=private_key("test-tool"), headers=headers, **claims)
    assert_oauth_refused(post_assertion(client, signed), before, "invalid_client", description)
    # The same assertion without the surrogate is accepted (the check is what refused it).
    assert (
        post_assertion(client, assertion(tool.client_id, key=private_key("test-tool"))).json()[
            "token_type"
        ]
        == "Bearer"
    )


def test_percent_encoded_surrogates_in_the_token_form_are_ordinary_refusals(
    client: Client, tool: Registration
) -> None:
    before = counts()
    signed = assertion(tool.client_id, key=private_key("test-tool"))
    grant = token_form(signed, ALL_SCOPES)
    base = "&".join(f"{k}={v}" for k, v in grant.items() if k != "grant_type")
    response = client.post("/lti/token", "grant_type=%ED%A0%80&" + base, content_type=FORM)
    assert_oauth_refused(
        response,
        before,
        "unsupported_grant_type",
        "only grant_type=client_credentials is supported",
    )
    form = {**grant, "client_assertion": "%ED%A0%80"}
    response = client.post(
        "/lti/token", "&".join(f"{k}={v}" for k, v in form.items()), content_type=FORM
    )
    assert_oauth_refused(
        response, before, "invalid_client", "client_assertion is not a well-formed JWT"
    )


# --- AGS -----------------------------------------------------------------------------------


def send(client: Client, method: str, url: str, data: str | bytes, media: str, token: str) -> Any:
    return getattr(client, method)(url, data, content_type=media, headers=bearer(token))


def lineitems_url(tool: Registration) -> str:
    return ags_url(deployment(tool), school_class("5-2"))


def create_item(client: Client, tool: Registration, token: str) -> str:
    url = lineitems_url(tool)
    response = send(
        client,
        "post",
        url,
        json.dumps({"label": "たしざん", "scoreMaximum": 10}),
        c.MEDIA_LINEITEM,
        token,
    )
    assert response.status_code == 201
    return str(response.json()["id"]).removeprefix(ISSUER)


@pytest.mark.parametrize(
    ("item", "description"),
    [
        ({"label": SURROGATE}, "label contains an unpaired surrogate"),
        ({"label": "たし" + SURROGATE + "ざん"}, "label contains an unpaired surrogate"),
        ({"tag": "\udfff"}, "tag contains an unpaired surrogate"),
        ({"resourceId": SURROGATE}, "resourceId contains an unpaired surrogate"),
        ({"resourceLinkId": SURROGATE}, "resourceLinkId contains an unpaired surrogate"),
        ({"startDateTime": SURROGATE}, "startDateTime contains an unpaired surrogate"),
        ({"x-ext": {"a": [SURROGATE]}}, "x-ext.a[0] contains an unpaired surrogate"),
        ({SURROGATE: 1}, "the body has a member name that contains an unpaired surrogate"),
        ({"label": "たし\x00ざん"}, "label contains a NUL character"),
        ({"tag": "quiz\x00"}, "tag contains a NUL character"),
        ({"resourceId": "\x00"}, "resourceId contains a NUL character"),
    ],
)
def test_line_item_text_that_cannot_be_stored_is_400(
    client: Client, tool: Registration, token: str, item: dict[str, Any], description: str
) -> None:
    url = lineitems_url(tool)
    existing = create_item(client, tool, token)
    before = counts()
    data = json.dumps({"label": "たしざん", "scoreMaximum": 10, **item})
    expected = body("invalid_request", description)
    refused(send(client, "post", url, data, c.MEDIA_LINEITEM, token), 400, expected, before)
    refused(send(client, "put", existing, data, c.MEDIA_LINEITEM, token), 400, expected, before)
    assert client.get(existing, headers=bearer(token)).json()["label"] == "たしざん"


@pytest.mark.parametrize(
    ("fields", "description"),
    [
        ({"comment": SURROGATE}, "comment contains an unpaired surrogate"),
        ({"comment": "よく" + "\udc80" + "できました"}, "comment contains an unpaired surrogate"),
        ({"userId": SURROGATE}, "userId contains an unpaired surrogate"),
        ({"timestamp": SURROGATE}, "timestamp contains an unpaired surrogate"),
        ({"activityProgress": SURROGATE}, "activityProgress contains an unpaired surrogate"),
        ({"ext": {SURROGATE: 1}}, "ext has a member name that contains an unpaired surrogate"),
        ({"comment": "よく\x00できました"}, "comment contains a NUL character"),
    ],
)
def test_score_text_that_cannot_be_stored_is_400(
    client: Client,
    tool: Registration,
    token: str,
    roster: dict[str, User],
    fields: dict[str, Any],
    description: str,
) -> None:
    item = create_item(client, tool, token)
    before = counts()
    score = {
        "userId": str(roster["sakura-5-2-01"].eportal_uuid),
        "timestamp": "2026-04-10T09:30:00.000Z",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 8,
        "scoreMaximum": 10,
        **fields,
    }
    response = send(client, "post", item + "/scores", json.dumps(score), c.MEDIA_SCORE, token)
    refused(response, 400, body("invalid_request", description), before)


def test_a_utf8_encoded_surrogate_in_a_body_is_found_too(
    client: Client, tool: Registration, token: str
) -> None:
    """json.loads decodes bytes with "surrogatepass": ED A0 80 becomes U+D800."""
    before = counts()
    data = b'{"label": "\xed\xa0\x80", "scoreMaximum": 10}'
    response = send(client, "post", lineitems_url(tool), data, c.MEDIA_LINEITEM, token)
    expected = body("invalid_request", "label contains an unpaired surrogate")
    refused(response, 400, expected, before)
    response = send(client, "post", lineitems_url(tool), b"\xff{}", c.MEDIA_LINEITEM, token)
    refused(response, 400, body("invalid_request", "the body is not valid JSON"), before)


# --- query strings, headers and paths under /lti/ -----------------------------------------


def service_request(url: str, token: str, query: dict[str, str]) -> Any:
    """A request whose query holds what no HTTP request can (Django decodes invalid UTF-8 to
    U+FFFD): the check must not depend on that."""
    request = RequestFactory().get(url, headers=bearer(token))
    values = QueryDict(mutable=True)
    for name, value in query.items():
        values[name] = value
    request.GET = values  # type: ignore[assignment]  # the stubs type GET as immutable
    return request


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ({"role": SURROGATE}, "role contains an unpaired surrogate"),
        ({"rlid": "x" + SURROGATE}, "rlid contains an unpaired surrogate"),
        ({"since": SURROGATE}, "since contains an unpaired surrogate"),
        ({"limit": "1", "other": SURROGATE}, "other contains an unpaired surrogate"),
        ({SURROGATE: "1"}, "the query has a parameter name that contains an unpaired surrogate"),
    ],
)
def test_nrps_query_with_a_surrogate_is_400(
    tool: Registration, token: str, query: dict[str, str], description: str
) -> None:
    dep, klass = deployment(tool), school_class("5-2")
    before = counts()
    request = service_request(nrps_url(dep, klass), token, query)
    response = service_views.memberships(request, deployment=dep.pk, context=klass.sourced_id)
    assert response.status_code == 400
    assert response["Content-Type"] == JSON
    assert json.loads(response.content) == body("invalid_request", description)
    assert counts() == before


def test_ags_query_with_a_surrogate_is_400(tool: Registration, token: str) -> None:
    dep, klass = deployment(tool), school_class("5-2")
    request = service_request(ags_url(dep, klass), token, {"tag": SURROGATE})
    response = service_views.lineitems(request, deployment=dep.pk, context=klass.sourced_id)
    assert response.status_code == 400
    assert json.loads(response.content) == body(
        "invalid_request", "tag contains an unpaired surrogate"
    )


def test_percent_encoded_surrogates_in_queries_headers_and_paths(
    client: Client, tool: Registration, token: str
) -> None:
    dep, klass = deployment(tool), school_class("5-2")
    url = nrps_url(dep, klass)
    before = counts()
    refused(
        client.get(url + "?role=%ED%A0%80", headers=bearer(token)),
        400,
        body("invalid_request", "role is not a context role"),
        before,
    )
    refused(
        client.get(url + "?since=%ED%A0%80", headers=bearer(token)),
        400,
        body("invalid_request", "since must be a Unix time"),
        before,
    )
    refused(
        client.get(url + "?rlid=%ED%A0%80", headers=bearer(token)),
        400,
        body("invalid_request", "rlid is not a resource link of this context"),
        before,
    )
    response = client.get(lineitems_url(tool) + "?tag=%ED%A0%80%00", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == []
    # Header values are Latin-1 text to Django: these bytes are three odd characters.
    refused(
        client.get(url, headers={"Authorization": "Bearer \xed\xa0\x80"}),
        401,
        body("invalid_token", "the access token is unknown or has expired"),
        before,
    )
    for path in ("/lti/%ED%A0%80", f"/lti/ags/{dep.pk}/%ED%A0%80/lineitems", "/lti/%00"):
        refused(client.get(path), 404, body("not_found", "no such endpoint"), before)


# --- the authentication endpoint -------------------------------------------------------------


def test_authorize_with_a_surrogate_is_an_error_page_not_a_redirect(
    tool: Registration,
) -> None:
    before = counts()
    for method in ("get", "post"):
        request = getattr(RequestFactory(), method)("/lti/authorize")
        request.user = AnonymousUser()
        source = QueryDict(mutable=True)
        source.update(
            {
                "client_id": tool.client_id,
                "redirect_uri": tool.redirect_uris[0],
                "scope": "openid",
                "state": "st-" + SURROGATE,
            }
        )
        setattr(request, method.upper(), source)
        response = views.authorize(request)
        assert response.status_code == 400
        assert "Location" not in response
        page = response.content.decode()
        assert "state contains an unpaired surrogate" in page
        assert counts() == before


def test_authorize_with_percent_encoded_surrogates_is_an_ordinary_refusal(
    client: Client, tool: Registration
) -> None:
    response = client.get("/lti/authorize?client_id=%ED%A0%80&state=%ED%A0%80")
    assert response.status_code == 400
    assert "client_id is unknown or not active" in response.content.decode()
