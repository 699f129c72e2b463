"""The demo tools' Deep Linking 2.0 answer, built with pylti1p3.

pylti1p3's ``DeepLinkResource`` sends ``type``, ``title``, ``url``, ``custom``, ``lineItem`` and
``icon`` only (its ``target`` is never sent); ``ContentItem`` adds ``text``, the presentation
(``window`` or ``iframe``) and the ``available`` / ``submission`` windows of an
``ltiResourceLink`` (Deep Linking 2.0 §3.4.1), and drops what a ``link`` item may not carry.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from .catalogue import Offer

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
TARGETS = ("window", "iframe")  # what the demo tools can be shown in, preferred first


@dataclass(frozen=True)
class Window:
    """An opening and closing time (ISO 8601 with the school's offset)."""

    start: datetime.datetime
    end: datetime.datetime

    def as_claim(self) -> dict[str, str]:
        return {"startDateTime": self.start.isoformat(), "endDateTime": self.end.isoformat()}


@dataclass(frozen=True)
class Settings:
    """The parts of ``deep_linking_settings`` the picker obeys."""

    accept_types: tuple[str, ...]
    targets: tuple[str, ...]
    accept_multiple: bool
    accept_lineitem: bool
    title: str
    text: str

    @classmethod
    def from_claim(cls, claim: dict[str, Any]) -> Settings:
        def flag(name: str, default: bool) -> bool:
            value = claim.get(name, default)
            return value is True or value == "true"

        offered = claim.get("accept_presentation_document_targets") or []
        return cls(
            accept_types=tuple(str(t) for t in claim.get("accept_types") or []),
            targets=tuple(t for t in TARGETS if t in offered),
            # Absent accept_multiple: one item is always safe.
            accept_multiple=flag("accept_multiple", False),
            # Absent accept_lineitem: no assumption either way, so send the line item.
            accept_lineitem=flag("accept_lineitem", True),
            title=str(claim.get("title") or ""),
            text=str(claim.get("text") or ""),
        )


class ContentItem(DeepLinkResource):
    """A content item with the Deep Linking 2.0 fields pylti1p3 does not send."""

    def __init__(self, extra: dict[str, Any]) -> None:
        self._extra = extra

    def to_dict(self) -> dict[str, object]:
        item = {k: v for k, v in super().to_dict().items() if v is not None}
        if item["type"] != "ltiResourceLink" or not item.get("custom"):
            item.pop("custom", None)
        item.update(self._extra)
        return item


def content_item(
    offer: Offer, *, url: str, target: str, window: Window | None, lineitem: bool
) -> ContentItem:
    """Turn one picked offer into a content item shown in ``target``."""
    presentation: dict[str, Any] = (
        {"window": {"targetName": "_blank"}}
        if target == "window"
        else {"iframe": {"width": 1024, "height": 768}}
    )
    if offer.type == "link" and target == "iframe":
        presentation["iframe"]["src"] = url
    extra: dict[str, Any] = {"text": offer.text, **presentation}
    if window is not None and offer.type == "ltiResourceLink":
        extra["available"] = window.as_claim()
        extra["submission"] = window.as_claim()
    item = ContentItem(extra)
    item.set_type(offer.type).set_title(offer.title).set_url(url)
    if offer.custom:
        item.set_custom_params(dict(offer.custom))
    if lineitem and offer.line_item is not None:
        spec = offer.line_item
        line_item = (
            LineItem()
            .set_score_maximum(spec.score_maximum)
            .set_label(spec.label)
            .set_resource_id(spec.resource_id)
            .set_tag(spec.tag)
        )
        if spec.reviewable:  # LTI Submission Review: a submitted attempt can be reviewed
            line_item.set_submission_review(["Submitted", "Completed"], label="こたえを見る")
        item.set_lineitem(line_item)
    return item


def response_jwt(deep_link: DeepLink, items: list[ContentItem], *, msg: str) -> str:
    """Sign the LtiDeepLinkingResponse with the tool's key (pylti1p3 builds the claims).

    ``data`` is echoed only when the request carried it (pylti1p3 would send ``null``).
    """
    message = deep_link.get_message_jwt(items)
    if message.get(DL + "data") is None:
        message.pop(DL + "data", None)
    if msg:
        message[DL + "msg"] = msg
    return str(deep_link.encode_jwt(message))
