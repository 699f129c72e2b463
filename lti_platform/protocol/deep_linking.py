"""Deep Linking 2.0: the request settings the platform sends and the checks of a tool's response.

Specification: https://www.imsglobal.org/spec/lti-dl/v2p0/. Pure Python: the caller verifies
the RS256 signature with the tool's key, passes the decoded header and claims, what it expects
(from the single-use ``data`` record) and the clock, and receives typed content items or a
``DeepLinkingError`` whose description says exactly what was wrong.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import constants as c
from .ags import AgsError, parse_submission_review
from .errors import ProtocolError
from .text import find_unencodable

ALGORITHM = "RS256"
MAX_ITEMS = 50
MAX_TITLE = 255
MAX_TEXT = 10_000
MAX_URL = 2000
MAX_HTML = 100_000
MAX_CUSTOM = 50
MAX_SCORE = 1_000_000
# NumericDate claims and item dates beyond these are refused: the platform adds grace periods
# and nonce lifetimes to them, which must not overflow ``datetime``.
MAX_NUMERIC_DATE = 32_503_680_000  # 3000-01-01T00:00:00Z
MIN_YEAR, MAX_YEAR = 1970, 2999
# Our extension: Japanese course-of-study codes (学習指導要領コード) of a content item, as a list
# property of the item or a comma-separated custom parameter.
ITEM_CURRICULUM_CODES = "curriculumCodes"
CUSTOM_CURRICULUM_CODES = "curriculum_codes"


class DeepLinkingError(ProtocolError):
    """A deep-linking response the platform refuses: nothing of it is written."""

    error = "invalid_request"


# --- the signed single-use ``data`` value ----------------------------------------------------


def _mac(key: str, secret: bytes) -> str:
    return hmac.new(secret, b"deep_linking_data:" + key.encode(), hashlib.sha256).hexdigest()[:40]


def make_data(key: str, *, secret: bytes) -> str:
    """Return the ``data`` value naming the request record ``key`` (signed, opaque)."""
    return f"{key}.{_mac(key, secret)}"


def read_data(value: object, *, secret: bytes) -> str | None:
    """Return the record key a ``data`` value names, or None if it is not one we signed."""
    if not isinstance(value, str) or value.count(".") != 1 or len(value) > 200:
        return None
    key, mac = value.split(".")
    return key if hmac.compare_digest(mac, _mac(key, secret)) else None


# --- the request ---------------------------------------------------------------------------


ACCEPT_TYPES: tuple[str, ...] = tuple(t.value for t in c.ContentItemType)
ACCEPT_TARGETS: tuple[str, ...] = (c.DocumentTarget.WINDOW.value, c.DocumentTarget.IFRAME.value)
# A tool that cannot keep its state without cookies fails inside a frame (third-party cookies
# are blocked): iframe is offered only to tools with platform storage (SPEC_NOTES.md).
WINDOW_ONLY: tuple[str, ...] = (c.DocumentTarget.WINDOW.value,)


def accept_targets(*, platform_storage: bool) -> tuple[str, ...]:
    """The presentation targets offered to a tool."""
    return ACCEPT_TARGETS if platform_storage else WINDOW_ONLY


@dataclass(frozen=True)
class Settings:
    """The ``deep_linking_settings`` claim of an LtiDeepLinkingRequest (DL 2.0 §4.4.1)."""

    deep_link_return_url: str
    data: str
    title: str = ""
    text: str = ""
    accept_types: Sequence[str] = ACCEPT_TYPES
    accept_presentation_document_targets: Sequence[str] = ACCEPT_TARGETS
    accept_multiple: bool = True
    accept_lineitem: bool = True
    auto_create: bool = False

    def claim(self) -> dict[str, Any]:
        return {
            "deep_link_return_url": self.deep_link_return_url,
            "accept_types": list(self.accept_types),
            "accept_presentation_document_targets": list(self.accept_presentation_document_targets),
            "accept_multiple": self.accept_multiple,
            "accept_lineitem": self.accept_lineitem,
            "auto_create": self.auto_create,
            "title": self.title,
            "text": self.text,
            "data": self.data,
        }


# --- the response --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a response must say: the registration's client_id, our issuer, the request's
    deployment, ``data`` and the settings it was sent with."""

    client_id: str
    issuer: str
    deployment_id: str
    data: str
    accept_types: Sequence[str] = ACCEPT_TYPES
    accept_presentation_document_targets: Sequence[str] = ACCEPT_TARGETS
    accept_multiple: bool = True
    accept_lineitem: bool = True
    skew: int = 60


@dataclass(frozen=True)
class LineItemSpec:
    score_maximum: float
    label: str = ""
    resource_id: str = ""
    tag: str = ""
    submission_review: dict[str, Any] | None = None  # protocol.ags.parse_submission_review


@dataclass(frozen=True)
class Window:
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None


@dataclass(frozen=True)
class ContentItem:
    type: str
    title: str = ""
    text: str = ""
    url: str = ""
    html: str = ""
    custom: Mapping[str, str] = field(default_factory=dict)
    target: str = c.DocumentTarget.WINDOW.value
    line_item: LineItemSpec | None = None
    available: Window = Window()
    submission: Window = Window()
    curriculum_codes: Sequence[str] = ()


@dataclass(frozen=True)
class Response:
    nonce: str
    expires_at: int
    items: Sequence[ContentItem]
    msg: str = ""
    log: str = ""
    errormsg: str = ""
    errorlog: str = ""


def _fail(description: str) -> DeepLinkingError:
    return DeepLinkingError(description)


def check_encodable(header: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    """Refuse a JWT any of whose strings (names or values, in the header or the claims) holds
    an unpaired surrogate or a NUL character: it could be neither stored nor shown."""
    for subject, value in (("the JWT header", header), ("the JWT claim", claims)):
        bad = find_unencodable(value, nul=True)
        if bad is not None:
            raise _fail(bad.describe(subject if bad.path else "", whole=subject))


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{name} is missing or not a number")
    if not (isinstance(value, int) or math.isfinite(value)) or not (0 <= value <= MAX_NUMERIC_DATE):
        raise _fail(f"{name} must be a NumericDate between 1970 and the year 3000")
    return int(value)


def _check_envelope(
    header: Mapping[str, Any], claims: Mapping[str, Any], e: Expected, now: int
) -> None:
    if header.get("alg") != ALGORITHM:
        raise _fail("the JWT must be signed with RS256")
    if claims.get("iss") != e.client_id:
        raise _fail("iss is not the tool's client_id")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if e.issuer not in audiences:
        raise _fail("aud does not contain the platform's issuer")
    if len(audiences) > 1 and claims.get("azp") != e.issuer:
        raise _fail("azp must be the platform's issuer when aud has several values")
    exp = _int_claim(claims, "exp")
    iat = _int_claim(claims, "iat")
    if exp + e.skew < now:
        raise _fail("the JWT has expired (exp)")
    if iat - e.skew > now:
        raise _fail("the JWT was issued in the future (iat)")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce or len(nonce) > 200:
        raise _fail("nonce is missing")
    if claims.get(c.CLAIM_DEPLOYMENT_ID) != e.deployment_id:
        raise _fail("deployment_id is not the deployment of the deep-linking request")
    if claims.get(c.CLAIM_MESSAGE_TYPE) != c.MessageType.DEEP_LINKING_RESPONSE:
        raise _fail("message_type must be LtiDeepLinkingResponse")
    if claims.get(c.CLAIM_VERSION) != c.LTI_VERSION:
        raise _fail("version must be 1.3.0")
    if claims.get(c.CLAIM_DL_DATA) != e.data:
        raise _fail("data is not the value the platform sent")


def _text(item: Mapping[str, Any], name: str, limit: int, *, where: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(f"{where}: {name} must be a string")
    if len(value) > limit:
        raise _fail(f"{where}: {name} is longer than {limit} characters")
    return value


def _url(item: Mapping[str, Any], *, required: bool, where: str) -> str:
    url = _text(item, "url", MAX_URL, where=where)
    if not url:
        if required:
            raise _fail(f"{where}: url is required")
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError as exc:
        raise _fail(f"{where}: url must be an absolute http(s) URL") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _fail(f"{where}: url must be an absolute http(s) URL")
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise _fail(f"{where}: url must not contain spaces or control characters")
    return url


def _datetime(value: object, *, where: str) -> datetime.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(f"{where} must be an ISO 8601 date and time")
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise _fail(f"{where} must be an ISO 8601 date and time") from exc
    if parsed.tzinfo is None:
        raise _fail(f"{where} must have a time zone")
    try:
        utc = parsed.astimezone(datetime.UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise _fail(f"{where} must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return utc


def _window(item: Mapping[str, Any], name: str, *, where: str) -> Window:
    raw = item.get(name)
    if raw is None:
        return Window()
    if not isinstance(raw, dict):
        raise _fail(f"{where}: {name} must be an object")
    window = Window(
        _datetime(raw.get("startDateTime"), where=f"{where}: {name}.startDateTime"),
        _datetime(raw.get("endDateTime"), where=f"{where}: {name}.endDateTime"),
    )
    if window.start and window.end and window.start > window.end:
        raise _fail(f"{where}: {name} ends before it starts")
    return window


def _custom(item: Mapping[str, Any], *, where: str) -> dict[str, str]:
    raw = item.get("custom")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_CUSTOM:
        raise _fail(f"{where}: custom must be an object of at most {MAX_CUSTOM} values")
    for key, value in raw.items():
        if not isinstance(value, str) or len(value) > MAX_URL or len(key) > 100:
            raise _fail(f"{where}: custom value {key!r} must be a string")
    return dict(raw)


def _line_item(item: Mapping[str, Any], e: Expected, *, where: str) -> LineItemSpec | None:
    raw = item.get("lineItem")
    if raw is None:
        return None
    if not e.accept_lineitem:
        raise _fail(f"{where}: lineItem was not accepted (accept_lineitem is false)")
    if not isinstance(raw, dict):
        raise _fail(f"{where}: lineItem must be an object")
    maximum = raw.get("scoreMaximum")
    if isinstance(maximum, bool) or not isinstance(maximum, int | float) or not maximum > 0:
        raise _fail(f"{where}: lineItem.scoreMaximum must be a number greater than 0")
    if not maximum <= MAX_SCORE:  # also Infinity (1e400 in JSON) and 10**400, which float() fails
        raise _fail(f"{where}: lineItem.scoreMaximum must be at most {MAX_SCORE:,}")
    review = raw.get("submissionReview")
    if review is not None:
        try:
            review = parse_submission_review(review, where="lineItem.submissionReview")
        except AgsError as exc:
            raise _fail(f"{where}: {exc.description}") from exc
        except ValueError as exc:  # urlsplit of a malformed url ("https://[::1")
            raise _fail(
                f"{where}: lineItem.submissionReview.url must be an absolute http(s) URL"
            ) from exc
    return LineItemSpec(
        score_maximum=float(maximum),
        label=_text(raw, "label", MAX_TITLE, where=f"{where}: lineItem"),
        resource_id=_text(raw, "resourceId", MAX_TITLE, where=f"{where}: lineItem"),
        tag=_text(raw, "tag", MAX_TITLE, where=f"{where}: lineItem"),
        submission_review=review,
    )


def _target(item: Mapping[str, Any], e: Expected, *, where: str) -> str:
    target = c.DocumentTarget.IFRAME.value if "iframe" in item else c.DocumentTarget.WINDOW.value
    if target not in e.accept_presentation_document_targets:
        raise _fail(f"{where}: presentation target {target!r} was not accepted")
    return target


def _curriculum_codes(
    item: Mapping[str, Any], custom: Mapping[str, str], *, where: str
) -> tuple[str, ...]:
    raw = item.get(ITEM_CURRICULUM_CODES)
    if raw is None:
        raw = [s.strip() for s in custom.get(CUSTOM_CURRICULUM_CODES, "").split(",")]
    if not isinstance(raw, list) or not all(isinstance(s, str) and len(s) <= 64 for s in raw):
        raise _fail(f"{where}: {ITEM_CURRICULUM_CODES} must be a list of strings")
    return tuple(s for s in raw if s)


def _content_item(raw: object, index: int, e: Expected) -> ContentItem:
    where = f"content_items[{index}]"
    if not isinstance(raw, dict):
        raise _fail(f"{where} must be an object")
    kind = raw.get("type")
    if kind not in ACCEPT_TYPES or kind not in e.accept_types:
        raise _fail(f"{where}: type {kind!r} was not accepted")
    custom = _custom(raw, where=where) if kind == c.ContentItemType.LTI_RESOURCE_LINK else {}
    html = _text(raw, "html", MAX_HTML, where=where)
    if kind == c.ContentItemType.HTML and not html:
        raise _fail(f"{where}: html is required")
    return ContentItem(
        type=str(kind),
        title=_text(raw, "title", MAX_TITLE, where=where),
        text=_text(raw, "text", MAX_TEXT, where=where),
        url=_url(raw, required=kind not in ("ltiResourceLink", "html"), where=where),
        html=html if kind == c.ContentItemType.HTML else "",
        custom=custom,
        target=_target(raw, e, where=where),
        line_item=_line_item(raw, e, where=where) if kind == "ltiResourceLink" else None,
        available=_window(raw, "available", where=where),
        submission=_window(raw, "submission", where=where),
        curriculum_codes=_curriculum_codes(raw, custom, where=where),
    )


def verify_response(
    header: Mapping[str, Any], claims: Mapping[str, Any], expected: Expected, *, now: int
) -> Response:
    """Check a signature-verified LtiDeepLinkingResponse (DL 2.0 §4.5) against the request.

    The nonce is returned for the caller to consume once; everything else is checked here.
    """
    check_encodable(header, claims)
    _check_envelope(header, claims, expected, now)
    raw_items = claims.get(c.CLAIM_DL_CONTENT_ITEMS)
    if raw_items is None:
        raw_items = []
    if not isinstance(raw_items, list):
        raise _fail("content_items must be an array")
    if len(raw_items) > 1 and not expected.accept_multiple:
        raise _fail("several content items were sent but accept_multiple is false")
    if len(raw_items) > MAX_ITEMS:
        raise _fail(f"at most {MAX_ITEMS} content items are accepted at once")
    items = [_content_item(raw, i, expected) for i, raw in enumerate(raw_items)]
    texts = {}
    for name, claim in (
        ("msg", c.CLAIM_DL_MSG),
        ("log", c.CLAIM_DL_LOG),
        ("errormsg", c.CLAIM_DL_ERRORMSG),
        ("errorlog", c.CLAIM_DL_ERRORLOG),
    ):
        texts[name] = _text(claims, claim, MAX_TEXT, where="the response")
    return Response(
        nonce=str(claims["nonce"]),
        expires_at=_int_claim(claims, "exp"),
        items=items,
        **texts,
    )
