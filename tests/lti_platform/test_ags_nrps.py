"""AGS 2.0 and NRPS 2.0 through the Django test client: access rules, every refusal, paging.

Each refusal answers ``{"error", "error_description"}`` with its exact status and writes
nothing. Tools only ever see their own deployments' contexts and line items.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from assignments.models import Assignment
from lti_platform.models import AccessToken, LineItem, Score, ScoreEvent
from lti_platform.protocol import constants as c
from roster import membership
from roster.models import Enrollment, EnrollmentStatus, Org, SchoolClass, User
from tests.lti_platform.service_helpers import (
    ISSUER,
    MIDORI,
    SAKURA,
    ags_url,
    bearer,
    counts,
    demo_roster,
    deployment,
    get_token,
    nrps_url,
    register_tool,
    school_class,
)
from tools_registry.models import Deployment, Placement, Registration

pytestmark = pytest.mark.django_db

JSON = "application/json"
NOT_FOUND = {"error": "not_found", "error_description": "no such context for this tool"}
NO_ITEM = {"error": "not_found", "error_description": "no such line item"}
NOT_MEMBER = {
    "error": "invalid_request",
    "error_description": "userId is not a learner of this context",
}
ACTIVITY_VALUES = (
    "activityProgress must be one of Initialized, Started, InProgress, Submitted, Completed"
)


def bad(description: str) -> dict[str, str]:
    return {"error": "invalid_request", "error_description": description}


@dataclass
class Api:
    """The test client acting as one tool: a Bearer token and one (deployment, class)."""

    client: Client
    token: str
    dep: Deployment
    klass: SchoolClass

    def url(self, suffix: str = "") -> str:
        return ags_url(self.dep, self.klass, suffix)

    def abs(self, suffix: str = "") -> str:
        return ISSUER + self.url(suffix)

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(path, params or {}, headers=bearer(self.token, **headers))

    def send(
        self,
        method: str,
        path: str,
        body: Any,
        content_type: str,
        **headers: str,
    ) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(
            path, data, content_type=content_type, headers=bearer(self.token, **headers)
        )

    def create(self, **item: Any) -> dict[str, Any]:
        body = {"label": "たしざん", "scoreMaximum": 10, **item}
        response = self.send("post", self.url(), body, c.MEDIA_LINEITEM)
        assert response.status_code == 201, response.content
        return dict(response.json())

    def score(self, item: dict[str, Any], user: User, **fields: Any) -> Any:
        body = {
            "userId": str(user.eportal_uuid),
            "timestamp": "2026-04-10T09:30:00.000Z",
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": 8,
            "scoreMaximum": 10,
            **fields,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return self.send("post", path_of(item) + "/scores", body, c.MEDIA_SCORE)


def path_of(item: dict[str, Any]) -> str:
    return str(item["id"]).removeprefix(ISSUER)


def refused(response: Any, status: int, body: dict[str, str], before: dict[str, int]) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == JSON
    assert response.json() == body
    assert counts() == before


@pytest.fixture
def roster(db: None) -> dict[str, User]:
    return demo_roster()


@pytest.fixture
def tool(roster: dict[str, User]) -> Registration:
    return register_tool("test-tool")


@pytest.fixture
def other(roster: dict[str, User]) -> Registration:
    return register_tool("other-tool")


@pytest.fixture
def api(client: Client, tool: Registration) -> Api:
    return Api(client, get_token(client, tool), deployment(tool), school_class("5-2"))


@pytest.fixture
def other_api(client: Client, other: Registration) -> Api:
    return Api(client, get_token(client, other), deployment(other), school_class("5-2"))


def placement(registration: Registration) -> Placement:
    return Placement.objects.get(deployment__registration=registration)


# --- Bearer authentication -----------------------------------------------------------------


def test_missing_credentials_are_401_without_error_in_the_challenge(api: Api) -> None:
    before = counts()
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        response = api.client.get(api.url(), headers=headers)
        refused(
            response,
            401,
            {"error": "invalid_token", "error_description": "a Bearer access token is required"},
            before,
        )
        assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer \x00", "Bearer " + "ま" * 300, "Bearer a b c"],
)
def test_unknown_token_is_401_invalid_token(api: Api, authorization: str) -> None:
    before = counts()
    response = api.client.get(api.url(), headers={"Authorization": authorization})
    description = "the access token is unknown or has expired"
    refused(response, 401, {"error": "invalid_token", "error_description": description}, before)
    assert response["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"'
    )


def test_expired_token_is_401(api: Api) -> None:
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    before = counts()
    response = api.get(api.url())
    description = "the access token is unknown or has expired"
    refused(response, 401, {"error": "invalid_token", "error_description": description}, before)
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_token_of_a_deactivated_tool_is_401(api: Api, tool: Registration) -> None:
    Registration.objects.filter(pk=tool.pk).update(is_active=False)
    before = counts()
    response = api.get(api.url())
    description = "the access token is unknown or has expired"
    refused(response, 401, {"error": "invalid_token", "error_description": description}, before)


def test_scheme_is_case_insensitive(api: Api) -> None:
    response = api.client.get(api.url(), headers={"Authorization": f"bearer {api.token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("scopes", "method", "suffix", "needed"),
    [
        ([c.SCOPE_SCORE], "get", "", [c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY]),
        ([c.SCOPE_LINEITEM_READONLY], "post", "", [c.SCOPE_LINEITEM]),
        ([c.SCOPE_NRPS], "get", "", [c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY]),
        ([c.SCOPE_LINEITEM], "post", "/{item}/scores", [c.SCOPE_SCORE]),
        ([c.SCOPE_LINEITEM], "get", "/{item}/results", [c.SCOPE_RESULT_READONLY]),
        ([c.SCOPE_LINEITEM_READONLY], "put", "/{item}", [c.SCOPE_LINEITEM]),
        ([c.SCOPE_LINEITEM_READONLY], "delete", "/{item}", [c.SCOPE_LINEITEM]),
    ],
)
def test_token_without_the_needed_scope_is_403(
    api: Api,
    tool: Registration,
    scopes: list[str],
    method: str,
    suffix: str,
    needed: list[str],
) -> None:
    item = api.create()
    item_pk = path_of(item).rsplit("/", 1)[1]
    narrow = Api(api.client, get_token(api.client, tool, scopes), api.dep, api.klass)
    before = counts()
    url = narrow.url(suffix.format(item=item_pk))
    if method in ("get", "delete"):
        response = getattr(narrow.client, method)(url, headers=bearer(narrow.token))
    else:
        response = narrow.send(method, url, {"label": "x"}, c.MEDIA_LINEITEM)
    description = f"this request needs one of the scopes {' '.join(needed)}"
    refused(
        response, 403, {"error": "insufficient_scope", "error_description": description}, before
    )
    assert response["WWW-Authenticate"] == (
        f'Bearer error="insufficient_scope", error_description="{description}"'
    )
    assert LineItem.objects.get().label == "たしざん"


def test_nrps_needs_the_nrps_scope(api: Api, tool: Registration) -> None:
    ags_token = get_token(api.client, tool, c.AGS_SCOPES)
    before = counts()
    response = api.client.get(nrps_url(api.dep, api.klass), headers=bearer(ags_token))
    description = f"this request needs one of the scopes {c.SCOPE_NRPS}"
    refused(
        response, 403, {"error": "insufficient_scope", "error_description": description}, before
    )


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    item = api.create()
    before = counts()
    response = api.send("post", path_of(item), {"label": "x"}, c.MEDIA_LINEITEM)
    refused(response, 405, bad("allowed methods: GET, PUT, DELETE"), before)
    assert response["Allow"] == "GET, PUT, DELETE"
    response = api.get(path_of(item) + "/scores")
    refused(response, 405, bad("allowed methods: POST"), before)
    assert response["Allow"] == "POST"
    response = api.send("delete", api.url(), "", c.MEDIA_LINEITEM)
    refused(response, 405, bad("allowed methods: GET, POST"), before)


# --- contexts: a tool only reaches its own deployments' classes -----------------------------


def test_another_tools_deployment_is_404_like_a_missing_one(api: Api, other: Registration) -> None:
    before = counts()
    theirs = ags_url(deployment(other), api.klass)
    missing = ags_url(Deployment(pk=999_999), api.klass)
    no_class = f"/lti/ags/{api.dep.pk}/{uuid.uuid4()}/lineitems"
    for url in (theirs, missing, no_class):
        refused(api.get(url), 404, NOT_FOUND, before)
        refused(
            api.send("post", url, {"label": "x", "scoreMaximum": 1}, c.MEDIA_LINEITEM),
            404,
            NOT_FOUND,
            before,
        )
    assert api.get(api.url()).status_code == 200


def test_inactive_deployment_is_404(api: Api) -> None:
    Deployment.objects.filter(pk=api.dep.pk).update(is_active=False)
    before = counts()
    refused(api.get(api.url()), 404, NOT_FOUND, before)


def test_class_outside_the_deployments_org_is_404(api: Api, tool: Registration) -> None:
    school_only = Deployment.objects.create(
        registration=tool, deployment_id="sakura-only", org=Org.objects.get(identifier=SAKURA)
    )
    sakura = Org.objects.get(identifier=SAKURA)
    Placement.objects.create(deployment=school_only, school=sakura, title="whole school")
    # A placement for a school the deployment does not cover never counts.
    Placement.objects.create(
        deployment=school_only, school=Org.objects.get(identifier=MIDORI), title="not covered"
    )
    junior_high = school_class("1-A")
    assert junior_high.school.identifier == MIDORI
    before = counts()
    response = api.get(ags_url(school_only, junior_high))
    refused(response, 404, NOT_FOUND, before)
    response = api.client.get(nrps_url(school_only, junior_high), headers=bearer(api.token))
    refused(response, 404, NOT_FOUND, before)
    # A school placement reaches every class of the school.
    assert api.get(ags_url(school_only, school_class("1-1"))).status_code == 200


def test_a_tool_placed_for_one_class_sees_no_other_class(api: Api) -> None:
    """The district deployment is placed for 5年2組 only: every other class of the same school
    (and of the other school) is "not found" for AGS and NRPS, and nothing is written."""
    item = api.create(label="5-2 quiz")
    student = User.objects.get(username="sakura-5-2-01")
    for code in ("1-1", "1-A"):
        other = school_class(code)
        before = counts()
        refused(api.get(ags_url(api.dep, other)), 404, NOT_FOUND, before)
        refused(
            api.send(
                "post", ags_url(api.dep, other), {"label": "x", "scoreMaximum": 1}, c.MEDIA_LINEITEM
            ),
            404,
            NOT_FOUND,
            before,
        )
        item_pk = path_of(item).rsplit("/", 1)[1]
        for suffix in (f"/{item_pk}", f"/{item_pk}/results"):
            refused(api.get(ags_url(api.dep, other, suffix)), 404, NOT_FOUND, before)
        score = {
            "userId": str(student.eportal_uuid),
            "timestamp": "2026-04-10T09:30:00Z",
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
        }
        refused(
            api.send("post", ags_url(api.dep, other, f"/{item_pk}/scores"), score, c.MEDIA_SCORE),
            404,
            NOT_FOUND,
            before,
        )
        refused(
            api.client.get(nrps_url(api.dep, other), headers=bearer(api.token)),
            404,
            NOT_FOUND,
            before,
        )


def test_removing_the_placement_closes_the_context(api: Api) -> None:
    Placement.objects.filter(deployment=api.dep).delete()
    before = counts()
    refused(api.get(api.url()), 404, NOT_FOUND, before)
    refused(
        api.client.get(nrps_url(api.dep, api.klass), headers=bearer(api.token)),
        404,
        NOT_FOUND,
        before,
    )


def test_a_score_for_a_teacher_is_refused(api: Api) -> None:
    item = api.create()
    teacher = User.objects.get(username="sakura-t-kato")
    assert Enrollment.objects.filter(user=teacher, school_class=api.klass).exists()
    before = counts()
    refused(api.score(item, teacher), 400, NOT_MEMBER, before)


def test_an_ended_enrollment_is_not_a_member(api: Api, roster: dict[str, User]) -> None:
    item = api.create()
    leaver = roster["sakura-5-2-03"]
    Enrollment.objects.filter(user=leaver).update(
        end_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    listed = {m["user_id"] for m in members_of(api.get(nrps_url(api.dep, api.klass)))}
    assert str(leaver.eportal_uuid) not in listed
    assert str(roster["sakura-5-2-01"].eportal_uuid) in listed
    before = counts()
    refused(api.score(item, leaver), 400, NOT_MEMBER, before)


def test_an_enrollment_not_yet_begun_and_a_past_school_year_do_not_count(
    api: Api, roster: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    today = timezone.localdate()
    monkeypatch.setattr(membership, "today", lambda: today)  # no midnight between the steps
    starter = roster["sakura-5-2-02"]
    Enrollment.objects.filter(user=starter).update(begin_date=today + datetime.timedelta(days=1))
    listed = {m["user_id"] for m in members_of(api.get(nrps_url(api.dep, api.klass)))}
    assert str(starter.eportal_uuid) not in listed
    assert str(roster["sakura-5-2-01"].eportal_uuid) in listed
    # The class's 年度 is over: nobody is a member any more.
    from roster.models import AcademicSession

    api.klass.terms.set([AcademicSession.school_year_for(api.klass.school, today.year - 3)])
    assert members_of(api.get(nrps_url(api.dep, api.klass))) == []


def test_another_tools_line_item_is_404(api: Api, other_api: Api) -> None:
    theirs = other_api.create(label="their item")
    their_pk = path_of(theirs).rsplit("/", 1)[1]
    student = User.objects.get(username="sakura-5-2-01")
    before = counts()
    for suffix in (f"/{their_pk}", f"/{their_pk}/results"):
        refused(api.get(api.url(suffix)), 404, NO_ITEM, before)
    refused(
        api.send(
            "put", api.url(f"/{their_pk}"), {"label": "mine", "scoreMaximum": 1}, c.MEDIA_LINEITEM
        ),
        404,
        NO_ITEM,
        before,
    )
    refused(
        api.client.delete(api.url(f"/{their_pk}"), headers=bearer(api.token)), 404, NO_ITEM, before
    )
    body = {
        "userId": str(student.eportal_uuid),
        "timestamp": "2026-04-10T09:30:00Z",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }
    refused(
        api.send("post", api.url(f"/{their_pk}/scores"), body, c.MEDIA_SCORE), 404, NO_ITEM, before
    )
    # Their own URL with our token: their deployment is not ours.
    refused(api.get(path_of(theirs)), 404, NOT_FOUND, before)
    assert LineItem.objects.get().label == "their item"
    assert api.get(api.url()).json() == []


def place(api: Api, code: str) -> SchoolClass:
    """Place the test tool for one more class of the same deployment."""
    klass = school_class(code)
    Placement.objects.create(
        deployment=api.dep, school=klass.school, school_class=klass, title=f"test {code}"
    )
    return klass


def test_line_item_of_another_class_is_404(api: Api) -> None:
    first_grade = Api(api.client, api.token, api.dep, place(api, "1-1"))
    item = first_grade.create()
    item_pk = path_of(item).rsplit("/", 1)[1]
    before = counts()
    refused(api.get(api.url(f"/{item_pk}")), 404, NO_ITEM, before)


def test_huge_ids_in_the_url_are_404_not_500(api: Api) -> None:
    big = "9" * 40
    before = counts()
    for url in (
        f"/lti/ags/{big}/{api.klass.sourced_id}/lineitems",
        api.url(f"/{big}"),
        api.url(f"/{big}/results"),
        f"/lti/nrps/{big}/{api.klass.sourced_id}/memberships",
    ):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert counts() == before


@pytest.mark.parametrize("suffix", ["/", "/{item}/", "/{item}/scores/", "/{item}/results/"])
def test_trailing_slash_is_404_never_a_redirect(api: Api, suffix: str) -> None:
    item_pk = path_of(api.create()).rsplit("/", 1)[1]
    url = api.url(suffix.format(item=item_pk))
    for response in (
        api.get(url),
        api.send("post", url, {"label": "x", "scoreMaximum": 1}, c.MEDIA_LINEITEM),
    ):
        assert response.status_code == 404
        assert "Location" not in response
    nrps = api.client.get(nrps_url(api.dep, api.klass) + "/", headers=bearer(api.token))
    assert nrps.status_code == 404
    assert "Location" not in nrps


# --- line items ----------------------------------------------------------------------------


def test_create_answers_201_with_location_and_the_exact_item(api: Api, tool: Registration) -> None:
    link = placement(tool)
    before = counts()
    body = {
        "label": "漢字テスト",
        "scoreMaximum": 20,
        "resourceId": "kanji-1",
        "tag": "quiz",
        "resourceLinkId": str(link.resource_link_id),
        "startDateTime": "2026-04-10T09:00:00+09:00",
        "endDateTime": "2026-04-17T09:00:00.5+09:00",
        "gradesReleased": True,
    }
    response = api.send("post", api.url(), body, c.MEDIA_LINEITEM, Accept=c.MEDIA_LINEITEM)
    assert response.status_code == 201
    assert response["Content-Type"] == c.MEDIA_LINEITEM
    item = LineItem.objects.get()
    url = api.abs(f"/{item.pk}")
    assert response["Location"] == url
    assert "?" not in url
    assert response.json() == {
        "id": url,
        "label": "漢字テスト",
        "scoreMaximum": 20.0,
        "resourceId": "kanji-1",
        "tag": "quiz",
        "resourceLinkId": str(link.resource_link_id),
        "startDateTime": "2026-04-10T00:00:00.000Z",
        "endDateTime": "2026-04-17T00:00:00.500Z",
        "gradesReleased": True,
    }
    assert "漢字テスト".encode() in response.content  # sent as UTF-8, not as \\u escapes
    assert counts() == {**before, "LineItem": 1}
    assert item.deployment == api.dep and item.school_class == api.klass


def test_minimal_create_has_only_the_given_fields(api: Api) -> None:
    item = api.create(label="a", scoreMaximum=0.5)
    assert item == {"id": item["id"], "label": "a", "scoreMaximum": 0.5}


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"scoreMaximum": 10}, "label is required"),
        ({"label": None, "scoreMaximum": 10}, "label is required"),
        ({"label": "", "scoreMaximum": 10}, "label must not be empty"),
        ({"label": "  ", "scoreMaximum": 10}, "label must not be empty"),
        ({"label": 5, "scoreMaximum": 10}, "label must be a string"),
        ({"label": "x" * 256, "scoreMaximum": 10}, "label is longer than 255 characters"),
        ({"label": "x"}, "scoreMaximum is required"),
        ({"label": "x", "scoreMaximum": None}, "scoreMaximum is required"),
        ({"label": "x", "scoreMaximum": 0}, "scoreMaximum must be greater than 0"),
        ({"label": "x", "scoreMaximum": -5}, "scoreMaximum must be greater than 0"),
        ({"label": "x", "scoreMaximum": "10"}, "scoreMaximum must be a number"),
        ({"label": "x", "scoreMaximum": True}, "scoreMaximum must be a number"),
        ({"label": "x", "scoreMaximum": [10]}, "scoreMaximum must be a number"),
        (
            {"label": "x", "scoreMaximum": 1, "resourceLinkId": str(uuid.uuid4())},
            "resourceLinkId is not a resource link of this tool",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "resourceLinkId": "not-a-uuid"},
            "resourceLinkId is not a resource link of this tool",
        ),
        (
            {
                "label": "x",
                "scoreMaximum": 1,
                "startDateTime": "2026-04-10T09:00:00Z",
                "endDateTime": "2026-04-10T08:59:59Z",
            },
            "endDateTime must not be before startDateTime",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "startDateTime": "2026-13-01T00:00:00Z"},
            "startDateTime is not an ISO 8601 date-time: '2026-13-01T00:00:00Z'",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "endDateTime": "next friday"},
            "endDateTime is not an ISO 8601 date-time: 'next friday'",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "endDateTime": 1775800000},
            "endDateTime must be an ISO 8601 date-time string",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "startDateTime": "2026-04-10T09:00:00"},
            "startDateTime must include a time zone offset",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "startDateTime": "2026-04-10"},
            "startDateTime must include a time zone offset",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "startDateTime": "0001-01-01T00:00:00+09:00"},
            "startDateTime is out of range",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "endDateTime": "9999-12-31T23:59:59-09:00"},
            "endDateTime is out of range",
        ),
        (
            {"label": "x", "scoreMaximum": 1, "gradesReleased": "yes"},
            "gradesReleased must be a boolean",
        ),
        ({"label": "x", "scoreMaximum": 1, "tag": 7}, "tag must be a string"),
        ({"label": "x", "scoreMaximum": 1, "resourceId": {"a": 1}}, "resourceId must be a string"),
        ([{"label": "x", "scoreMaximum": 1}], "the request body must be a JSON object"),
        ("null", "the request body must be a JSON object"),
        ('"label"', "the request body must be a JSON object"),
        ("{", "the body is not valid JSON"),
        (b"\xff\xfe{}", "the body is not valid JSON"),
        ("[" * 30000 + "]" * 30000, "the body is not valid JSON"),
        ('{"label": "x", "scoreMaximum": 1' + "0" * 400 + "}", "scoreMaximum must be a number"),
        ('{"label": "x", "scoreMaximum": 1e999}', "scoreMaximum must be a number"),
        ('{"label": "x", "scoreMaximum": NaN}', "scoreMaximum must be a number"),
        ('{"label": "x", "scoreMaximum": 1' + "0" * 5000 + "}", "the body is not valid JSON"),
    ],
)
def test_create_refusals(api: Api, body: Any, description: str) -> None:
    before = counts()
    response = api.send("post", api.url(), body, c.MEDIA_LINEITEM)
    refused(response, 400, bad(description), before)


def test_empty_body_is_not_json(api: Api) -> None:
    for method, url, media_type in (
        ("post", api.url(), c.MEDIA_LINEITEM),
        ("post", path_of(api.create()) + "/scores", c.MEDIA_SCORE),
    ):
        before = counts()
        response = getattr(api.client, method)(
            url, headers=bearer(api.token), CONTENT_TYPE=media_type
        )
        refused(response, 400, bad("the body is not valid JSON"), before)


def test_dates_keep_four_digit_years(api: Api) -> None:
    item = api.create(startDateTime="0999-01-01T00:00:00Z", endDateTime="9999-12-31T23:59:59Z")
    assert item["startDateTime"] == "0999-01-01T00:00:00.000Z"
    assert item["endDateTime"] == "9999-12-31T23:59:59.000Z"
    assert api.get(path_of(item)).json() == item


def test_create_with_another_tools_resource_link_is_refused(api: Api, other: Registration) -> None:
    before = counts()
    body = {
        "label": "x",
        "scoreMaximum": 1,
        "resourceLinkId": str(placement(other).resource_link_id),
    }
    response = api.send("post", api.url(), body, c.MEDIA_LINEITEM)
    refused(response, 400, bad("resourceLinkId is not a resource link of this tool"), before)


def _assignment(api: Api, klass: SchoolClass | None = None) -> Assignment:
    return Assignment.objects.create(
        school_class=klass or api.klass,
        deployment=api.dep,
        item_type="ltiResourceLink",
        title="かけざん",
        position=1,
    )


def test_create_for_an_assignments_resource_link_binds_the_item_to_it(api: Api) -> None:
    assignment = _assignment(api)
    item = api.create(
        label="かけざん", scoreMaximum=10, resourceLinkId=str(assignment.resource_link_id)
    )
    assert item["resourceLinkId"] == str(assignment.resource_link_id)
    stored = LineItem.objects.get()
    assert (stored.assignment_id, stored.placement_id) == (assignment.pk, None)
    # A PUT that leaves resourceLinkId out keeps the binding (the assignment's windows apply).
    response = api.send(
        "put", item["id"], {"label": "かけざん2", "scoreMaximum": 10}, c.MEDIA_LINEITEM
    )
    assert response.status_code == 200
    assert LineItem.objects.get().assignment_id == assignment.pk


@pytest.mark.parametrize("where", ["deleted", "another class"])
def test_create_for_an_assignment_not_of_this_context_is_refused(api: Api, where: str) -> None:
    if where == "deleted":
        assignment = _assignment(api)
        assignment.deleted_at = timezone.now()
        assignment.save()
    else:
        assignment = _assignment(api, school_class("1-1"))
    before = counts()
    body = {"label": "x", "scoreMaximum": 1, "resourceLinkId": str(assignment.resource_link_id)}
    response = api.send("post", api.url(), body, c.MEDIA_LINEITEM)
    refused(response, 400, bad("resourceLinkId is not a resource link of this tool"), before)


def test_create_with_a_resource_link_of_another_context_is_refused(
    api: Api, tool: Registration
) -> None:
    five_two = placement(tool)
    first_grade = Api(api.client, api.token, api.dep, place(api, "1-1"))
    before = counts()
    body = {
        "label": "x",
        "scoreMaximum": 1,
        "resourceLinkId": str(five_two.resource_link_id),
    }
    response = first_grade.send("post", first_grade.url(), body, c.MEDIA_LINEITEM)
    refused(response, 400, bad("resourceLinkId is not a resource link of this tool"), before)


@pytest.mark.parametrize(
    "content_type",
    [JSON, "text/plain", "application/x-www-form-urlencoded", c.MEDIA_SCORE],
)
def test_create_with_another_media_type_is_415(api: Api, content_type: str) -> None:
    before = counts()
    response = api.send("post", api.url(), {"label": "x", "scoreMaximum": 1}, content_type)
    refused(
        response,
        415,
        {
            "error": "unsupported_media_type",
            "error_description": f"the body must be {c.MEDIA_LINEITEM}",
        },
        before,
    )


def test_line_item_media_type_with_charset_is_accepted(api: Api) -> None:
    response = api.send(
        "post", api.url(), {"label": "x", "scoreMaximum": 1}, c.MEDIA_LINEITEM + "; charset=utf-8"
    )
    assert response.status_code == 201


def test_oversized_body_is_413(api: Api) -> None:
    before = counts()
    body = {"label": "x", "scoreMaximum": 1, "padding": "x" * (64 * 1024)}
    response = api.send("post", api.url(), body, c.MEDIA_LINEITEM)
    too_large = {
        "error": "request_too_large",
        "error_description": "the body is larger than 65536 bytes",
    }
    refused(response, 413, too_large, before)


def test_body_of_exactly_64_kib_is_read(api: Api) -> None:
    text = json.dumps({"label": "x", "scoreMaximum": 1, "padding": ""})
    text = text[:-3] + '"' + "x" * (64 * 1024 - len(text)) + '"}'
    assert len(text) == 64 * 1024
    assert api.send("post", api.url(), text, c.MEDIA_LINEITEM).status_code == 201


@pytest.mark.parametrize("accept", ["text/html", c.MEDIA_LINEITEM_CONTAINER, "image/*"])
def test_create_with_wrong_accept_is_406(api: Api, accept: str) -> None:
    before = counts()
    response = api.send(
        "post", api.url(), {"label": "x", "scoreMaximum": 1}, c.MEDIA_LINEITEM, Accept=accept
    )
    refused(
        response,
        406,
        {"error": "not_acceptable", "error_description": f"this resource is {c.MEDIA_LINEITEM}"},
        before,
    )


@pytest.mark.parametrize(
    "accept",
    [c.MEDIA_LINEITEM_CONTAINER, JSON, "*/*", "application/*", "", f"text/html, {JSON};q=0.5"],
)
def test_list_accepts_the_container_and_json(api: Api, accept: str) -> None:
    response = api.get(api.url(), Accept=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == c.MEDIA_LINEITEM_CONTAINER
    assert response.json() == []


def test_list_with_wrong_accept_is_406(api: Api) -> None:
    before = counts()
    response = api.get(api.url(), Accept=c.MEDIA_LINEITEM)
    refused(
        response,
        406,
        {
            "error": "not_acceptable",
            "error_description": f"this resource is {c.MEDIA_LINEITEM_CONTAINER}",
        },
        before,
    )


def test_list_filters(api: Api, tool: Registration) -> None:
    link = str(placement(tool).resource_link_id)
    a = api.create(label="a", resourceId="unit-1", tag="quiz", resourceLinkId=link)
    b = api.create(label="b", resourceId="unit-1", tag="final")
    c_ = api.create(label="c", resourceId="unit-2", tag="quiz")
    cases: list[tuple[dict[str, str], list[dict[str, Any]]]] = [
        ({}, [a, b, c_]),
        ({"resource_link_id": link}, [a]),
        ({"resource_link_id": str(uuid.uuid4())}, []),
        ({"resource_link_id": "junk\x00"}, []),
        ({"resource_id": "unit-1"}, [a, b]),
        ({"resource_id": "unit-3"}, []),
        ({"tag": "quiz"}, [a, c_]),
        ({"tag": "quiz", "resource_id": "unit-1"}, [a]),
        ({"tag": "クイズ\x00"}, []),
    ]
    for params, expected in cases:
        response = api.get(api.url(), params)
        assert response.status_code == 200, params
        assert response.json() == expected, params
        assert "Link" not in response


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"limit": "0"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "1001"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "abc"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "-1"}, "limit must be an integer from 1 to 1000"),
        ({"limit": ""}, "limit must be an integer from 1 to 1000"),
        ({"limit": "1.5"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "²"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "١٠"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "9" * 5000}, "limit must be an integer from 1 to 1000"),
        ({"limit": "\x00"}, "limit must be an integer from 1 to 1000"),
        ({"page": "0"}, "page must be an integer from 1 to 1000000"),
        ({"page": "9" * 5000}, "page must be an integer from 1 to 1000000"),
    ],
)
def test_paging_parameter_refusals(api: Api, params: dict[str, str], description: str) -> None:
    item = api.create()
    before = counts()
    for url in (api.url(), path_of(item) + "/results"):
        refused(api.get(url, params), 400, bad(description), before)


def test_list_paging_link_header(api: Api) -> None:
    items = [api.create(label=f"item {n}", tag="t") for n in range(5)]
    response = api.get(api.url(), {"limit": "2"})
    assert response.json() == items[:2]
    assert response["Link"] == f'<{api.abs()}?limit=2&page=2>; rel="next"'
    response = api.get(api.url(), {"limit": "2", "page": "2"})
    assert response.json() == items[2:4]
    assert response["Link"] == f'<{api.abs()}?limit=2&page=3>; rel="next"'
    response = api.get(api.url(), {"limit": "2", "page": "3"})
    assert response.json() == items[4:]
    assert "Link" not in response
    response = api.get(api.url(), {"limit": "2", "page": "4"})
    assert response.json() == []
    assert "Link" not in response
    # Filters are carried, every byte percent-encoded (survives pylti1p3's lowercasing).
    response = api.get(api.url(), {"tag": "t", "limit": "4"})
    assert response["Link"] == f'<{api.abs()}?tag=%74&limit=4&page=2>; rel="next"'
    assert re.fullmatch(r'<([^>]*)>;\s*rel="next"', response["Link"].lower())


def test_get_put_delete_one_line_item(api: Api, tool: Registration) -> None:
    item = api.create(label="a", tag="quiz", resourceId="r1")
    url = path_of(item)
    response = api.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == c.MEDIA_LINEITEM
    assert response.json() == item

    link = str(placement(tool).resource_link_id)
    before = counts()
    response = api.send(
        "put",
        url,
        {"id": item["id"], "label": "b", "scoreMaximum": 50, "resourceLinkId": link},
        c.MEDIA_LINEITEM,
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": item["id"],
        "label": "b",
        "scoreMaximum": 50.0,
        "resourceLinkId": link,
    }
    assert api.get(url).json() == response.json()
    assert counts() == before

    response = api.client.delete(url, headers=bearer(api.token))
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Type" not in response
    refused(api.get(url), 404, NO_ITEM, {**before, "LineItem": 0})
    refused(
        api.client.delete(url, headers=bearer(api.token)), 404, NO_ITEM, {**before, "LineItem": 0}
    )


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"id": "http://testserver/elsewhere", "label": "b", "scoreMaximum": 1},
            400,
            bad("id must not change"),
        ),
        ({"label": "", "scoreMaximum": 1}, 400, bad("label must not be empty")),
        ({"label": "b", "scoreMaximum": 0}, 400, bad("scoreMaximum must be greater than 0")),
        ([], 400, bad("the request body must be a JSON object")),
        ("{", 400, bad("the body is not valid JSON")),
    ],
)
def test_refused_update_changes_nothing(
    api: Api, body: Any, status: int, expected: dict[str, str]
) -> None:
    item = api.create(label="a")
    before = counts()
    response = api.send("put", path_of(item), body, c.MEDIA_LINEITEM)
    refused(response, status, expected, before)
    assert api.get(path_of(item)).json() == item


def test_update_with_wrong_media_type_is_415(api: Api) -> None:
    item = api.create(label="a")
    before = counts()
    response = api.send("put", path_of(item), {"label": "b", "scoreMaximum": 1}, JSON)
    refused(
        response,
        415,
        {
            "error": "unsupported_media_type",
            "error_description": f"the body must be {c.MEDIA_LINEITEM}",
        },
        before,
    )
    assert api.get(path_of(item)).json() == item


def test_deleting_a_line_item_removes_its_scores(api: Api) -> None:
    item = api.create()
    student = User.objects.get(username="sakura-5-2-01")
    assert api.score(item, student).status_code == 204
    assert api.client.delete(path_of(item), headers=bearer(api.token)).status_code == 204
    assert not Score.objects.exists() and not ScoreEvent.objects.exists()


# --- scores --------------------------------------------------------------------------------


@pytest.fixture
def item(api: Api) -> dict[str, Any]:
    return api.create(scoreMaximum=20)


@pytest.fixture
def student(roster: dict[str, User]) -> User:
    return roster["sakura-5-2-01"]


def test_score_is_stored_with_its_history(api: Api, item: dict[str, Any], student: User) -> None:
    before = counts()
    response = api.score(item, student, comment="よくできました")
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Type" not in response
    assert counts() == {**before, "Score": 1, "ScoreEvent": 1, "Event": before["Event"] + 1}
    score = Score.objects.get()
    assert (score.user, score.score_given, score.score_maximum) == (student, 8.0, 10.0)
    assert score.timestamp == datetime.datetime(2026, 4, 10, 9, 30, tzinfo=datetime.UTC)
    assert score.comment == "よくできました"


def test_score_media_type_with_charset_is_accepted(
    api: Api, item: dict[str, Any], student: User
) -> None:
    body = {
        "userId": str(student.eportal_uuid),
        "timestamp": "2026-04-10T09:30:00Z",
        "activityProgress": "Started",
        "gradingProgress": "NotReady",
    }
    response = api.send("post", path_of(item) + "/scores", body, c.MEDIA_SCORE + ";charset=UTF-8")
    assert response.status_code == 204


@pytest.mark.parametrize(
    ("fields", "description"),
    [
        (
            {"activityProgress": "Done"},
            ACTIVITY_VALUES,
        ),
        (
            {"activityProgress": "completed"},
            ACTIVITY_VALUES,
        ),
        (
            {"activityProgress": ["Completed"]},
            ACTIVITY_VALUES,
        ),
        (
            {"activityProgress": {"a": 1}},
            ACTIVITY_VALUES,
        ),
        ({"activityProgress": None}, "activityProgress is required"),
        (
            {"gradingProgress": "Graded"},
            "gradingProgress must be one of FullyGraded, Pending, PendingManual, Failed, NotReady",
        ),
        ({"gradingProgress": None}, "gradingProgress is required"),
        ({"timestamp": None}, "timestamp is required"),
        ({"timestamp": "2026-04-10T09:30:00"}, "timestamp must include a time zone offset"),
        ({"timestamp": "2026-04-10T09:30:00.123456"}, "timestamp must include a time zone offset"),
        ({"timestamp": "yesterday"}, "timestamp is not an ISO 8601 date-time: 'yesterday'"),
        (
            {"timestamp": "2026-04-10T09:30:00+25:00"},
            "timestamp is not an ISO 8601 date-time: '2026-04-10T09:30:00+25:00'",
        ),
        ({"timestamp": 1775813400}, "timestamp must be an ISO 8601 date-time string"),
        ({"timestamp": "0001-01-01T00:00:00+00:01"}, "timestamp is out of range"),
        ({"scoreMaximum": None}, "scoreMaximum is required when scoreGiven is present"),
        ({"scoreGiven": -1}, "scoreGiven must not be negative"),
        ({"scoreGiven": "8"}, "scoreGiven must be a number"),
        ({"scoreGiven": None, "scoreMaximum": 0}, "scoreMaximum must be greater than 0"),
        ({"scoreMaximum": -10}, "scoreMaximum must be greater than 0"),
        ({"userId": None}, "userId is required"),
        ({"userId": ""}, "userId must not be empty"),
        ({"userId": 42}, "userId must be a string"),
        ({"comment": "x" * 4097}, "comment is longer than 4096 characters"),
        ({"comment": 5}, "comment must be a string"),
    ],
)
def test_score_refusals(
    api: Api, item: dict[str, Any], student: User, fields: dict[str, Any], description: str
) -> None:
    before = counts()
    refused(api.score(item, student, **fields), 400, bad(description), before)


@pytest.mark.parametrize(
    "body",
    ["{", "[]", '"x"', b"\xc3\x28", "[" * 30000 + "]" * 30000],
)
def test_score_body_junk(api: Api, item: dict[str, Any], body: Any) -> None:
    before = counts()
    response = api.send("post", path_of(item) + "/scores", body, c.MEDIA_SCORE)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert counts() == before


def test_score_for_someone_outside_the_context_is_refused(
    api: Api, item: dict[str, Any], roster: dict[str, User]
) -> None:
    before = counts()
    other_school = roster["midori-1-a-01"]
    other_class = roster["sakura-1-1-01"]
    ghost = User(username="ghost")  # never saved: an unknown eportal_uuid
    for user in (other_school, other_class, ghost):
        refused(api.score(item, user), 400, NOT_MEMBER, before)
    for user_id in ("not-a-uuid", "\x00", "ま" * 200):
        refused(api.score(item, other_school, userId=user_id), 400, NOT_MEMBER, before)


def test_score_for_a_student_who_left_the_class_is_refused(
    api: Api, item: dict[str, Any], student: User
) -> None:
    Enrollment.objects.filter(user=student).update(status=EnrollmentStatus.TO_BE_DELETED)
    before = counts()
    refused(api.score(item, student), 400, NOT_MEMBER, before)


def test_score_with_wrong_media_type_is_415(api: Api, item: dict[str, Any], student: User) -> None:
    before = counts()
    body = {
        "userId": str(student.eportal_uuid),
        "timestamp": "2026-04-10T09:30:00Z",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }
    for content_type in (JSON, c.MEDIA_LINEITEM):
        response = api.send("post", path_of(item) + "/scores", body, content_type)
        refused(
            response,
            415,
            {
                "error": "unsupported_media_type",
                "error_description": f"the body must be {c.MEDIA_SCORE}",
            },
            before,
        )


def test_oversized_score_is_413(api: Api, item: dict[str, Any], student: User) -> None:
    before = counts()
    response = api.score(item, student, comment="x" * (64 * 1024))
    refused(
        response,
        413,
        {"error": "request_too_large", "error_description": "the body is larger than 65536 bytes"},
        before,
    )


def test_score_to_a_missing_line_item_is_404(api: Api, student: User) -> None:
    before = counts()
    refused(api.score({"id": api.abs("/999999")}, student), 404, NO_ITEM, before)


def test_older_score_does_not_overwrite_a_newer_one(
    api: Api, item: dict[str, Any], student: User
) -> None:
    assert (
        api.score(item, student, timestamp="2026-04-10T09:30:00.500Z", scoreGiven=9).status_code
        == 204
    )
    before = counts()
    response = api.score(item, student, timestamp="2026-04-10T18:30:00.499+09:00", scoreGiven=1)
    refused(
        response,
        409,
        {
            "error": "stale_score",
            "error_description": "a score with a later timestamp is already stored for this user "
            "(2026-04-10T09:30:00.500Z)",
        },
        before,
    )
    assert Score.objects.get().score_given == 9


def test_score_with_an_equal_timestamp_updates(
    api: Api, item: dict[str, Any], student: User
) -> None:
    assert api.score(item, student, scoreGiven=3).status_code == 204
    before = counts()
    response = api.score(
        item, student, timestamp="2026-04-10T18:30:00+09:00", scoreGiven=7, comment="再採点"
    )
    assert response.status_code == 204
    assert counts() == {
        **before,
        "ScoreEvent": before["ScoreEvent"] + 1,
        "Event": before["Event"] + 1,
    }
    score = Score.objects.get()
    assert (score.score_given, score.comment) == (7.0, "再採点")


def test_newer_score_updates(api: Api, item: dict[str, Any], student: User) -> None:
    assert api.score(item, student, scoreGiven=3).status_code == 204
    assert (
        api.score(item, student, timestamp="2026-04-10T09:30:00.001Z", scoreGiven=4).status_code
        == 204
    )
    assert Score.objects.get().score_given == 4
    assert [e.score_given for e in ScoreEvent.objects.all()] == [3, 4]


# --- results -------------------------------------------------------------------------------


def test_results_scale_to_the_line_item_maximum(
    api: Api, item: dict[str, Any], roster: dict[str, User]
) -> None:
    a, b, cc = (roster[f"sakura-5-2-0{n}"] for n in (1, 2, 3))
    api.score(item, a, scoreGiven=8, scoreMaximum=10, comment="good")
    api.score(item, b, scoreGiven=1, scoreMaximum=3)
    api.score(
        item,
        cc,
        scoreGiven=None,
        scoreMaximum=None,
        activityProgress="Started",
        gradingProgress="NotReady",
        timestamp="2026-04-10T09:30:00.25+09:00",
    )
    url = path_of(item) + "/results"
    response = api.get(url, Accept=c.MEDIA_RESULT_CONTAINER)
    assert response.status_code == 200
    assert response["Content-Type"] == c.MEDIA_RESULT_CONTAINER
    assert "Link" not in response

    def result(user: User, **extra: Any) -> dict[str, Any]:
        return {
            "id": f"{item['id']}/results/{user.eportal_uuid}",
            "scoreOf": item["id"],
            "userId": str(user.eportal_uuid),
            "resultMaximum": 20.0,
            "timestamp": "2026-04-10T09:30:00.000Z",
            **extra,
        }

    assert response.json() == [
        result(a, resultScore=16.0, comment="good"),
        result(b, resultScore=6.666667),
        result(cc, timestamp="2026-04-10T00:30:00.250Z"),
    ]
    only_b = api.get(url, {"user_id": str(b.eportal_uuid)})
    assert only_b.json() == [result(b, resultScore=6.666667)]
    for junk in (str(uuid.uuid4()), "nobody", "\x00"):
        assert api.get(url, {"user_id": junk}).json() == []


def test_results_paging_link_header(
    api: Api, item: dict[str, Any], roster: dict[str, User]
) -> None:
    users = [roster[f"sakura-5-2-0{n}"] for n in range(1, 6)]
    for user in users:
        assert api.score(item, user).status_code == 204
    url = path_of(item) + "/results"
    response = api.get(url, {"limit": "2"})
    assert [r["userId"] for r in response.json()] == [str(u.eportal_uuid) for u in users[:2]]
    assert response["Link"] == f'<{ISSUER}{url}?limit=2&page=2>; rel="next"'
    response = api.get(url, {"limit": "2", "page": "3"})
    assert [r["userId"] for r in response.json()] == [str(users[4].eportal_uuid)]
    assert "Link" not in response
    user_id = str(users[0].eportal_uuid)
    response = api.get(url, {"user_id": user_id, "limit": "1"})
    assert "Link" not in response


def test_results_with_wrong_accept_is_406(api: Api, item: dict[str, Any]) -> None:
    before = counts()
    response = api.get(path_of(item) + "/results", Accept=c.MEDIA_LINEITEM)
    refused(
        response,
        406,
        {
            "error": "not_acceptable",
            "error_description": f"this resource is {c.MEDIA_RESULT_CONTAINER}",
        },
        before,
    )


# --- NRPS ----------------------------------------------------------------------------------


def members_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return list(response.json()["members"])


def test_memberships_body_and_privacy_id_only(api: Api, roster: dict[str, User]) -> None:
    url = nrps_url(api.dep, api.klass)
    response = api.get(url, Accept=c.MEDIA_MEMBERSHIP_CONTAINER)
    assert response.status_code == 200
    assert response["Content-Type"] == c.MEDIA_MEMBERSHIP_CONTAINER
    body = response.json()
    teacher = roster["sakura-t-kato"]
    students = [roster[f"sakura-5-2-0{n}"] for n in range(1, 7)]
    assert body == {
        "id": ISSUER + url,
        "context": {"id": str(api.klass.sourced_id), "label": "5-2", "title": "5年2組"},
        "members": [
            {
                "status": "Active",
                "user_id": str(user.eportal_uuid),
                "roles": [
                    (c.Role.CONTEXT_INSTRUCTOR if user == teacher else c.Role.CONTEXT_LEARNER).value
                ],
                "lis_person_sourcedid": str(user.sourced_id),
            }
            for user in [teacher, *students]
        ],
    }


def test_privacy_name_and_name_email(api: Api, roster: dict[str, User]) -> None:
    url = nrps_url(api.dep, api.klass)
    teacher = roster["sakura-t-kato"]
    assert teacher.email
    Deployment.objects.filter(pk=api.dep.pk).update(privacy_level="name")
    for member in members_of(api.get(url)):
        assert {"name", "given_name", "family_name"} <= set(member)
        assert "email" not in member
    Deployment.objects.filter(pk=api.dep.pk).update(privacy_level="name_email")
    members = {m["user_id"]: m for m in members_of(api.get(url))}
    assert members[str(teacher.eportal_uuid)] == {
        "status": "Active",
        "user_id": str(teacher.eportal_uuid),
        "roles": [c.Role.CONTEXT_INSTRUCTOR.value],
        "lis_person_sourcedid": str(teacher.sourced_id),
        "name": "加藤\u3000健一",
        "given_name": "健一",
        "family_name": "加藤",
        "email": teacher.email,
    }
    student = roster["sakura-5-2-01"]
    assert not student.email
    assert "email" not in members[str(student.eportal_uuid)]
    assert "name" in members[str(student.eportal_uuid)]


def test_nrps_wrong_accept_is_406(api: Api) -> None:
    before = counts()
    response = api.get(nrps_url(api.dep, api.klass), Accept="text/html")
    refused(
        response,
        406,
        {
            "error": "not_acceptable",
            "error_description": f"this resource is {c.MEDIA_MEMBERSHIP_CONTAINER}",
        },
        before,
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("Instructor", ["sakura-t-kato"]),
        ("instructor", ["sakura-t-kato"]),
        (c.Role.CONTEXT_INSTRUCTOR.value, ["sakura-t-kato"]),
        (c.Role.CONTEXT_INSTRUCTOR.value.lower(), ["sakura-t-kato"]),
        ("Learner", [f"sakura-5-2-0{n}" for n in range(1, 7)]),
        (c.Role.CONTEXT_LEARNER.value, [f"sakura-5-2-0{n}" for n in range(1, 7)]),
        ("Mentor", []),
    ],
)
def test_role_filter_short_and_full(
    api: Api, roster: dict[str, User], role: str, expected: list[str]
) -> None:
    members = members_of(api.get(nrps_url(api.dep, api.klass), {"role": role}))
    assert [m["user_id"] for m in members] == [str(roster[u].eportal_uuid) for u in expected]


@pytest.mark.parametrize(
    "role",
    ["Teacher", "", c.Role.INSTITUTION_FACULTY.value, "\x00", "ま" * 1000, "Learner#"],
)
def test_unknown_role_is_400(api: Api, role: str) -> None:
    before = counts()
    response = api.get(nrps_url(api.dep, api.klass), {"role": role})
    refused(response, 400, bad("role is not a context role"), before)


def differences_since(link: str, base: str) -> str:
    """The differences cursor: Unix time with microseconds."""
    match = re.search(rf"<{re.escape(base)}\?since=(\d+\.\d{{6}})>; rel=\"differences\"$", link)
    assert match, link
    return match.group(1)


def test_nrps_paging_link_header(api: Api) -> None:
    url = nrps_url(api.dep, api.klass)
    base = ISSUER + url
    start = time.time()
    response = api.get(url, {"limit": "3"})
    assert len(members_of(response)) == 3
    since = differences_since(response["Link"], base)
    assert start - 0.001 <= float(since) <= time.time()
    assert response["Link"] == (
        f'<{base}?limit=3&page=2>; rel="next", <{base}?since={since}>; rel="differences"'
    )
    pages = [members_of(response)]
    response = api.get(url, {"limit": "3", "page": "2"})
    pages.append(members_of(response))
    assert response["Link"].startswith(f'<{base}?limit=3&page=3>; rel="next", ')
    response = api.get(url, {"limit": "3", "page": "3"})
    pages.append(members_of(response))
    since = differences_since(response["Link"], base)
    assert response["Link"] == f'<{base}?since={since}>; rel="differences"'
    everyone = members_of(api.get(url))
    assert [m for page in pages for m in page] == everyone
    assert len(everyone) == 7
    # pylti1p3 lowercases the header and matches this pattern.
    found = re.search(r'<([^>]*)>;\s*rel="next"', api.get(url, {"limit": "3"})["Link"].lower())
    assert found and found.group(1) == f"{base}?limit=3&page=2".lower()


def test_nrps_next_link_keeps_the_role_filter(api: Api) -> None:
    url = nrps_url(api.dep, api.klass)
    base = ISSUER + url
    response = api.get(url, {"role": "Learner", "limit": "4"})
    assert response["Link"].startswith(
        f'<{base}?role=%4C%65%61%72%6E%65%72&limit=4&page=2>; rel="next", <{base}?since='
    )
    follow = api.client.get(
        f"{url}?role=%4C%65%61%72%6E%65%72&limit=4&page=2", headers=bearer(api.token)
    )
    assert len(members_of(follow)) == 2


def test_differences_report_who_left(api: Api, roster: dict[str, User]) -> None:
    Enrollment.objects.update(date_last_modified=timezone.now() - datetime.timedelta(days=1))
    url = nrps_url(api.dep, api.klass)
    link = api.get(url)["Link"]
    since = differences_since(link, ISSUER + url)
    leaving = Enrollment.objects.get(user=roster["sakura-5-2-03"])
    leaving.status = EnrollmentStatus.TO_BE_DELETED
    leaving.save()
    changed = members_of(api.get(url, {"since": since}))
    assert [(m["user_id"], m["status"]) for m in changed] == [
        (str(roster["sakura-5-2-03"].eportal_uuid), "Deleted")
    ]
    assert len(members_of(api.get(url))) == 6


@pytest.mark.parametrize(
    "since",
    ["abc", "-1", "1.5", "1.1234567", "1.", ".5", "²", "9" * 5000, "99999999999999", ""],
)
def test_junk_since_is_400(api: Api, since: str) -> None:
    before = counts()
    response = api.get(nrps_url(api.dep, api.klass), {"since": since})
    refused(response, 400, bad("since must be a Unix time"), before)


def test_rlid_adds_the_launch_message(api: Api, tool: Registration) -> None:
    link = placement(tool)
    members = members_of(
        api.get(nrps_url(api.dep, api.klass), {"rlid": str(link.resource_link_id)})
    )
    assert len(members) == 7
    assert members[1]["message"] == [
        {c.CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest", c.CLAIM_CUSTOM: {"grade": "P5"}}
    ]


def test_rlid_of_another_tool_or_class_is_400(
    api: Api, tool: Registration, other: Registration
) -> None:
    first_grade = school_class("1-1")
    ours_elsewhere = Placement.objects.create(
        deployment=api.dep, school=first_grade.school, school_class=first_grade, title="1-1"
    )
    ours_junior_high = Placement.objects.create(
        deployment=api.dep, school=Org.objects.get(identifier=MIDORI), title="midori"
    )
    before = counts()
    for rlid in (
        placement(other).resource_link_id,
        ours_elsewhere.resource_link_id,
        ours_junior_high.resource_link_id,
        uuid.uuid4(),
        "not-a-uuid",
        "\x00",
    ):
        response = api.get(nrps_url(api.dep, api.klass), {"rlid": str(rlid)})
        refused(response, 400, bad("rlid is not a resource link of this context"), before)


def test_another_tools_token_is_404(api: Api, other_api: Api) -> None:
    before = counts()
    response = other_api.get(nrps_url(api.dep, api.klass))
    refused(response, 404, NOT_FOUND, before)
    response = other_api.get(api.url())
    refused(response, 404, NOT_FOUND, before)


def test_nrps_limit_validation(api: Api) -> None:
    before = counts()
    url = nrps_url(api.dep, api.klass)
    for limit in ("0", "1001", "abc", "9" * 5000, "²"):
        refused(
            api.get(url, {"limit": limit}),
            400,
            bad("limit must be an integer from 1 to 1000"),
            before,
        )
    assert len(members_of(api.get(url, {"limit": "1000"}))) == 7


# --- junk never answers 500 ----------------------------------------------------------------


def test_junk_query_parameters_never_500(api: Api, item: dict[str, Any]) -> None:
    junk = ["\x00", "ま" * 2000, "%00", "' OR 1=1 --", "9" * 5000, "-0", "\ud7ff", "１０"]
    urls = [api.url(), path_of(item) + "/results", nrps_url(api.dep, api.klass)]
    before = counts()
    for url in urls:
        for value in junk:
            for name in (
                "limit",
                "page",
                "tag",
                "resource_id",
                "resource_link_id",
                "user_id",
                "role",
                "rlid",
                "since",
            ):
                response = api.get(url, {name: value})
                assert response.status_code in (200, 400), (url, name, value, response.content)
                assert response["Content-Type"] != "text/html; charset=utf-8"
    assert counts() == before


def test_junk_headers_never_500(api: Api, item: dict[str, Any]) -> None:
    before = counts()
    for accept in ("\x00", ",,,;;;", "ま", "*/*;q=abc", "a" * 10000):
        response = api.get(api.url(), Accept=accept)
        assert response.status_code in (200, 406)
    for authorization in ("\x00", "Bearer", "Bearer\tx", "Bearer " + "a" * 100_000):
        assert (
            api.client.get(api.url(), headers={"Authorization": authorization}).status_code == 401
        )
    for length in ("-1", "abc", "99999999999999999999"):
        response = api.client.post(
            api.url(),
            "{}",
            content_type=c.MEDIA_LINEITEM,
            headers=bearer(api.token),
            CONTENT_LENGTH=length,
        )
        assert response.status_code in (400, 413)
    assert counts() == before
