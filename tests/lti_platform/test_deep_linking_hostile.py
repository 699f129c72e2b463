"""Hostile deep-linking responses: each is refused with its exact description, never a 500,
and nothing of it is written (SQLite would store a NUL that PostgreSQL refuses; both fail on
an unpaired surrogate and on dates out of ``datetime``'s range)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from assignments.models import Assignment
from lti_platform.models import LineItem
from lti_platform.protocol import constants as c
from tests.lti_platform.test_deep_linking import (
    LINK,
    World,
    nothing_written,
    post,
    refusal,
    request_claims,
    response_jwt,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["world"]  # the fixture, imported for this module's tests

ITEMS = c.CLAIM_DL_CONTENT_ITEMS
CLAIM = f"the JWT claim {ITEMS}[0]"
GRADED = {**LINK, "lineItem": {"scoreMaximum": 10}}
TOO_LATE = "9999-12-31T23:59:59-14:00"  # 10000-01-01 in UTC: out of datetime's range

CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "title NUL",
        {ITEMS: [{**LINK, "title": "a\x00b"}]},
        f"{CLAIM}.title contains a NUL character",
    ),
    (
        "title surrogate",
        {ITEMS: [{**LINK, "title": "a\ud800b"}]},
        f"{CLAIM}.title contains an unpaired surrogate",
    ),
    ("text NUL", {ITEMS: [{**LINK, "text": "\x00"}]}, f"{CLAIM}.text contains a NUL character"),
    (
        "url surrogate",
        {ITEMS: [{**LINK, "url": "https://x.example/\udfff"}]},
        f"{CLAIM}.url contains an unpaired surrogate",
    ),
    (
        "html NUL",
        {ITEMS: [{"type": "html", "html": "<p>\x00</p>"}]},
        f"{CLAIM}.html contains a NUL character",
    ),
    (
        "custom value NUL",
        {ITEMS: [{**LINK, "custom": {"a": "\x00"}}]},
        f"{CLAIM}.custom.a contains a NUL character",
    ),
    (
        "custom name surrogate",
        {ITEMS: [{**LINK, "custom": {"\ud800": "b"}}]},
        f"{CLAIM}.custom has a member name that contains an unpaired surrogate",
    ),
    (
        "curriculum code NUL",
        {ITEMS: [{**LINK, "curriculumCodes": ["\x00"]}]},
        f"{CLAIM}.curriculumCodes[0] contains a NUL character",
    ),
    (
        "msg surrogate",
        {c.CLAIM_DL_MSG: "\ud800"},
        f"the JWT claim {c.CLAIM_DL_MSG} contains an unpaired surrogate",
    ),
    ("nonce NUL", {"nonce": "\x00"}, "the JWT claim nonce contains a NUL character"),
    (
        "url bad IPv6",
        {ITEMS: [{**LINK, "url": "https://[::1/"}]},
        "content_items[0]: url must be an absolute http(s) URL",
    ),
    (
        "url port out of range",
        {ITEMS: [{**LINK, "url": "https://x.example:99999/"}]},
        "content_items[0]: url must be an absolute http(s) URL",
    ),
    (
        "url with a newline",
        {ITEMS: [{**LINK, "url": "https://x.example/a\nb"}]},
        "content_items[0]: url must not contain spaces or control characters",
    ),
    (
        "review url bad IPv6",
        {
            ITEMS: [
                {
                    **LINK,
                    "lineItem": {"scoreMaximum": 1, "submissionReview": {"url": "https://[::1"}},
                }
            ]
        },
        "content_items[0]: lineItem.submissionReview.url must be an absolute http(s) URL",
    ),
    (
        "scoreMaximum a string",
        {ITEMS: [{**LINK, "lineItem": {"scoreMaximum": "10"}}]},
        "content_items[0]: lineItem.scoreMaximum must be a number greater than 0",
    ),
    (
        "scoreMaximum NaN",
        {ITEMS: [{**LINK, "lineItem": {"scoreMaximum": float("nan")}}]},
        "content_items[0]: lineItem.scoreMaximum must be a number greater than 0",
    ),
    (
        "scoreMaximum 1e400",
        {ITEMS: [{**LINK, "lineItem": {"scoreMaximum": float("inf")}}]},
        "content_items[0]: lineItem.scoreMaximum must be at most 1,000,000",
    ),
    (
        "scoreMaximum 10**400",
        {ITEMS: [{**LINK, "lineItem": {"scoreMaximum": 10**400}}]},
        "content_items[0]: lineItem.scoreMaximum must be at most 1,000,000",
    ),
    (
        "start garbage",
        {ITEMS: [{**LINK, "available": {"startDateTime": "garbage"}}]},
        "content_items[0]: available.startDateTime must be an ISO 8601 date and time",
    ),
    (
        "start past year 9999 in UTC",
        {ITEMS: [{**LINK, "available": {"startDateTime": TOO_LATE}}]},
        "content_items[0]: available.startDateTime must be between the years 1970 and 2999",
    ),
    (
        "start before year 1 in UTC",
        {ITEMS: [{**LINK, "available": {"startDateTime": "0001-01-01T00:00:00+14:00"}}]},
        "content_items[0]: available.startDateTime must be between the years 1970 and 2999",
    ),
    (
        "submission end 9999 (a score would overflow end + grace)",
        {ITEMS: [{**GRADED, "submission": {"endDateTime": "9999-12-31T23:59:59Z"}}]},
        "content_items[0]: submission.endDateTime must be between the years 1970 and 2999",
    ),
    ("content_items an object", {ITEMS: {"0": LINK}}, "content_items must be an array"),
    (
        "custom nested",
        {ITEMS: [{**LINK, "custom": {"a": {"b": "c"}}}]},
        "content_items[0]: custom value 'a' must be a string",
    ),
    (
        "51 items",
        {ITEMS: [{"type": "link", "url": "https://x.example/"}] * 51},
        "at most 50 content items are accepted at once",
    ),
    (
        "exp 1e400",
        {"exp": float("inf")},
        "exp must be a NumericDate between 1970 and the year 3000",
    ),
    ("exp NaN", {"exp": float("nan")}, "exp must be a NumericDate between 1970 and the year 3000"),
    ("exp 10**20", {"exp": 10**20}, "exp must be a NumericDate between 1970 and the year 3000"),
    (
        "iat -1e400",
        {"iat": float("-inf")},
        "iat must be a NumericDate between 1970 and the year 3000",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "description"), CASES, ids=[x[0] for x in CASES])
def test_a_hostile_response_is_refused(
    world: World, case: str, overrides: dict[str, Any], description: str
) -> None:
    request = request_claims(world)
    response = post(world, response_jwt(world, request, [LINK], **overrides))
    assert refusal(response) == description
    nothing_written()


@pytest.mark.parametrize(
    "third",
    [{**LINK, "title": "\x00"}, {**LINK, "lineItem": {"scoreMaximum": float("inf")}}],
    ids=["NUL title", "infinite scoreMaximum"],
)
def test_a_bad_third_item_writes_none_of_the_three(world: World, third: dict[str, Any]) -> None:
    request = request_claims(world)
    items: list[dict[str, Any]] = [LINK, GRADED, third]
    response = post(world, response_jwt(world, request, items))
    assert refusal(response).startswith(("the JWT claim", "content_items[2]: "))
    nothing_written()


def test_an_untitled_item_with_a_long_url_gets_a_title_within_the_column(world: World) -> None:
    """PostgreSQL refuses a title over varchar(255); SQLite would have stored all 2000."""
    url = "https://dl-tool.example/" + "a" * 1970
    request = request_claims(world)
    item = {"type": "ltiResourceLink", "url": url, "lineItem": {"scoreMaximum": 5}}
    assert post(world, response_jwt(world, request, [item])).status_code == HTTPStatus.OK
    assignment = Assignment.objects.get()
    assert (assignment.url, assignment.title) == (url, url[:255])
    assert LineItem.objects.get().label == url[:255]
