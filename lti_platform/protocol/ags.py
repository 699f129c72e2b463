"""Assignment and Grade Services 2.0: parsing and shaping line items, scores and results.

https://www.imsglobal.org/spec/lti-ags/v2p0 — every field is checked; bad input raises
AgsError with a description that names the field.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .constants import REVIEWABLE_ANY, ActivityProgress, GradingProgress
from .errors import ProtocolError
from .text import NUL, find_unencodable, text_problem

MAX_TEXT = 255
MAX_COMMENT = 4096


class AgsError(ProtocolError):
    error = "invalid_request"
    status = 400


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise AgsError("the request body must be a JSON object")
    bad = find_unencodable(body)  # every member, known or not, before any is used
    if bad:
        raise AgsError(bad.describe())
    return body


def _text(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    limit: int = MAX_TEXT,
    stored: bool = True,
) -> str:
    """A string member; ``stored`` ones (written to the database, sent to other tools) may
    not hold NUL, which PostgreSQL text cannot; lookup-only ones (userId) may."""
    value = body.get(name)
    if value is None:
        if required:
            raise AgsError(f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise AgsError(f"{name} must be a string")
    if required and not value.strip():
        raise AgsError(f"{name} must not be empty")
    if len(value) > limit:
        raise AgsError(f"{name} is longer than {limit} characters")
    if stored and text_problem(value, nul=True) == NUL:
        raise AgsError(f"{name} contains {NUL}")
    return value


def _number(body: Mapping[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AgsError(f"{name} must be a number")
    try:
        number = float(value)  # a JSON integer may be too large for a float
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise AgsError(f"{name} must be a number")
    return number


def parse_datetime(value: Any, name: str) -> datetime.datetime:
    """Parse an ISO 8601 date-time with a time zone (fractional seconds allowed)."""
    if not isinstance(value, str):
        raise AgsError(f"{name} must be an ISO 8601 date-time string")
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise AgsError(f"{name} is not an ISO 8601 date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise AgsError(f"{name} must include a time zone offset")
    try:
        return parsed.astimezone(datetime.UTC)  # 0001-01-01T00:00+09:00 is before year 1
    except OverflowError as exc:
        raise AgsError(f"{name} is out of range") from exc


def _optional_datetime(body: Mapping[str, Any], name: str) -> datetime.datetime | None:
    return None if body.get(name) is None else parse_datetime(body[name], name)


def format_datetime(value: datetime.datetime) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2026-04-10T09:30:00.123Z."""
    utc = value.astimezone(datetime.UTC)  # isoformat, unlike strftime, pads years to 4 digits
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True)
class LineItemData:
    label: str
    score_maximum: float
    resource_id: str
    tag: str
    resource_link_id: str
    start_date_time: datetime.datetime | None
    end_date_time: datetime.datetime | None
    grades_released: bool | None
    submission_review: dict[str, Any] | None = None


REVIEWABLE_STATUSES = (REVIEWABLE_ANY, *(a.value for a in ActivityProgress))
MAX_URL = 2048


def parse_submission_review(value: Any, *, where: str = "submissionReview") -> dict[str, Any]:
    """A line item's ``submissionReview`` (LTI Submission Review 1.0 §2): ``reviewableStatus``
    (activityProgress values or "Any"), ``label``, an absolute http(s) ``url`` and ``custom``
    string values; returned with only the members present."""
    if not isinstance(value, dict):
        raise AgsError(f"{where} must be an object")
    review: dict[str, Any] = {}
    statuses = value.get("reviewableStatus")
    if statuses is not None:
        if not isinstance(statuses, list) or not all(
            isinstance(s, str) and s in REVIEWABLE_STATUSES for s in statuses
        ):
            raise AgsError(
                f"{where}.reviewableStatus must be a list of {', '.join(REVIEWABLE_STATUSES)}"
            )
        review["reviewableStatus"] = list(dict.fromkeys(statuses))
    label = _text(value, "label")
    if label:
        review["label"] = label
    url = value.get("url")
    if url is not None:
        try:
            parts = urlsplit(url) if isinstance(url, str) else None
            _ = parts.port if parts is not None else None  # raises for a port out of range
        except ValueError:  # "https://[::1" and the like
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or len(url) > MAX_URL
            or text_problem(url, nul=True)
        ):
            raise AgsError(f"{where}.url must be an absolute http(s) URL")
        review["url"] = url
    custom = value.get("custom")
    if custom is not None:
        if not isinstance(custom, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_TEXT
            for k, v in custom.items()
        ):
            raise AgsError(f"{where}.custom must be an object of string values")
        if any(text_problem(k, nul=True) or text_problem(v, nul=True) for k, v in custom.items()):
            raise AgsError(f"{where}.custom contains {NUL}")
        review["custom"] = dict(custom)
    return review


def parse_line_item(body: Any) -> LineItemData:
    data = _object(body)
    label = _text(data, "label", required=True)
    maximum = _number(data, "scoreMaximum")
    if maximum is None:
        raise AgsError("scoreMaximum is required")
    if maximum <= 0:
        raise AgsError("scoreMaximum must be greater than 0")
    start = _optional_datetime(data, "startDateTime")
    end = _optional_datetime(data, "endDateTime")
    if start and end and end < start:
        raise AgsError("endDateTime must not be before startDateTime")
    released = data.get("gradesReleased")
    if released is not None and not isinstance(released, bool):
        raise AgsError("gradesReleased must be a boolean")
    review = data.get("submissionReview")
    return LineItemData(
        label=label,
        score_maximum=maximum,
        resource_id=_text(data, "resourceId"),
        tag=_text(data, "tag"),
        resource_link_id=_text(data, "resourceLinkId", stored=False),
        start_date_time=start,
        end_date_time=end,
        grades_released=released,
        submission_review=None if review is None else parse_submission_review(review),
    )


@dataclass(frozen=True)
class ScoreData:
    user_id: str
    score_given: float | None
    score_maximum: float | None
    activity_progress: str
    grading_progress: str
    comment: str
    timestamp: datetime.datetime


def parse_score(body: Any) -> ScoreData:
    data = _object(body)
    user_id = _text(data, "userId", required=True, stored=False)
    timestamp = parse_datetime(data.get("timestamp"), "timestamp") if "timestamp" in data else None
    if timestamp is None:
        raise AgsError("timestamp is required")
    activity = data.get("activityProgress")
    if activity is None:
        raise AgsError("activityProgress is required")
    if activity not in ActivityProgress.__members__.values():
        raise AgsError(
            f"activityProgress must be one of {', '.join(a.value for a in ActivityProgress)}"
        )
    grading = data.get("gradingProgress")
    if grading is None:
        raise AgsError("gradingProgress is required")
    if grading not in GradingProgress.__members__.values():
        raise AgsError(
            f"gradingProgress must be one of {', '.join(g.value for g in GradingProgress)}"
        )
    given = _number(data, "scoreGiven")
    maximum = _number(data, "scoreMaximum")
    if given is not None:
        if maximum is None:
            raise AgsError("scoreMaximum is required when scoreGiven is present")
        if given < 0:
            raise AgsError("scoreGiven must not be negative")
    if maximum is not None and maximum <= 0:
        raise AgsError("scoreMaximum must be greater than 0")
    return ScoreData(
        user_id=user_id,
        score_given=given,
        score_maximum=maximum,
        activity_progress=str(activity),
        grading_progress=str(grading),
        comment=_text(data, "comment", limit=MAX_COMMENT),
        timestamp=timestamp,
    )


def line_item_json(
    *,
    url: str,
    label: str,
    score_maximum: float,
    resource_id: str,
    tag: str,
    resource_link_id: str | None,
    start_date_time: datetime.datetime | None,
    end_date_time: datetime.datetime | None,
    grades_released: bool | None,
    submission_review: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": url, "label": label, "scoreMaximum": score_maximum}
    if resource_id:
        item["resourceId"] = resource_id
    if tag:
        item["tag"] = tag
    if resource_link_id:
        item["resourceLinkId"] = resource_link_id
    if start_date_time:
        item["startDateTime"] = format_datetime(start_date_time)
    if end_date_time:
        item["endDateTime"] = format_datetime(end_date_time)
    if grades_released is not None:
        item["gradesReleased"] = grades_released
    if submission_review is not None:
        item["submissionReview"] = dict(submission_review)
    return item


def result_json(
    *,
    line_item_url: str,
    user_id: str,
    score_given: float | None,
    score_maximum: float | None,
    line_item_maximum: float,
    comment: str,
    timestamp: datetime.datetime,
) -> dict[str, Any]:
    """A result: resultScore is scaled to the line item's scoreMaximum (AGS §3.3)."""
    result: dict[str, Any] = {
        "id": f"{line_item_url}/results/{user_id}",
        "scoreOf": line_item_url,
        "userId": user_id,
        "resultMaximum": line_item_maximum,
        "timestamp": format_datetime(timestamp),
    }
    if score_given is not None and score_maximum:
        result["resultScore"] = round(score_given / score_maximum * line_item_maximum, 6)
    if comment:
        result["comment"] = comment
    return result
