"""Opaque ``login_hint`` and signed one-time ``lti_message_hint`` values.

The message hint is a compact HS256 JWT naming the launch being made. Its ``jti`` is consumed
once at the authorization endpoint (the caller keeps the one-time store).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from .errors import InvalidHintError

_HINT_AUDIENCE = "manabi-hub:lti_message_hint"


def login_hint_for(user_key: str, *, secret: bytes) -> str:
    """Return the opaque login_hint of a user (an HMAC, never an id or e-mail)."""
    return hmac.new(secret, b"login_hint:" + user_key.encode(), hashlib.sha256).hexdigest()[:40]


def login_hint_matches(hint: str, user_key: str, *, secret: bytes) -> bool:
    return hmac.compare_digest(hint, login_hint_for(user_key, secret=secret))


@dataclass(frozen=True)
class MessageHint:
    jti: str
    user: str  # e-portal UUID of the user the launch is for
    client_id: str
    deployment_id: str
    placement: str  # resource link id
    context: str  # class sourcedId
    expires_at: int
    deep_linking: bool = False  # an LtiDeepLinkingRequest (``placement`` names the tool's
    accept_multiple: bool = True  # placement in the class), with its accept_multiple setting
    review_item: int = 0  # an LtiSubmissionReviewRequest: the line item's pk, and the
    review_for: str = ""  # e-portal UUID of the learner whose submission is reviewed


def make_message_hint(
    *,
    user: str,
    client_id: str,
    deployment_id: str,
    placement: str,
    context: str,
    now: int,
    lifetime: int,
    secret: bytes,
    deep_linking: bool = False,
    accept_multiple: bool = True,
    review_item: int = 0,
    review_for: str = "",
) -> tuple[str, MessageHint]:
    hint = MessageHint(
        jti=secrets.token_urlsafe(16),
        user=user,
        client_id=client_id,
        deployment_id=deployment_id,
        placement=placement,
        context=context,
        expires_at=now + lifetime,
        deep_linking=deep_linking,
        accept_multiple=accept_multiple,
        review_item=review_item,
        review_for=review_for,
    )
    payload: dict[str, Any] = {
        "aud": _HINT_AUDIENCE,
        "jti": hint.jti,
        "sub": user,
        "cid": client_id,
        "dep": deployment_id,
        "rl": placement,
        "ctx": context,
        "iat": now,
        "exp": hint.expires_at,
    }
    if deep_linking:
        payload["dl"] = {"multiple": accept_multiple}
    if review_item:
        payload["sr"] = {"li": review_item, "for": review_for}
    return jwt.encode(payload, secret, algorithm="HS256"), hint


def read_message_hint(token: str, *, now: int, secret: bytes) -> MessageHint:
    """Verify a message hint's signature and lifetime; raise InvalidHintError otherwise."""
    try:
        data: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=_HINT_AUDIENCE,
            options={"verify_exp": False, "require": ["exp", "jti", "sub", "cid", "dep", "rl"]},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidHintError("lti_message_hint is malformed or its signature is invalid") from exc
    if int(data["exp"]) < now:
        raise InvalidHintError("lti_message_hint has expired")
    review: dict[str, Any] = data["sr"] if isinstance(data.get("sr"), dict) else {}
    return MessageHint(
        jti=str(data["jti"]),
        user=str(data["sub"]),
        client_id=str(data["cid"]),
        deployment_id=str(data["dep"]),
        placement=str(data["rl"]),
        context=str(data.get("ctx", "")),
        expires_at=int(data["exp"]),
        deep_linking=isinstance(data.get("dl"), dict),
        accept_multiple=bool(data["dl"].get("multiple", True))
        if isinstance(data.get("dl"), dict)
        else True,
        review_item=int(review.get("li") or 0),
        review_for=str(review.get("for") or ""),
    )
