"""Opaque ``login_hint`` and signed one-time ``lti_message_hint`` values.

The message hint is a compact HS256 JWT naming the launch being made. Its ``jti`` is consumed
once at the authorization endpoint (the caller keeps the one-time store).

Only this module makes and reads these tokens, so they are written and checked here directly
(RFC 7515 compact serialization, the one header below, HMAC-SHA256) rather than through a
general JWT library: two of them per launch, on the launch's hot path, and PyJWT's generic
checks (every algorithm, header and claim option, a per-character scan of each segment) cost
several times the HMAC itself (docs/benchmarks.md, issue 6). The tokens are byte for byte
those ``jwt.encode(payload, secret, algorithm="HS256")`` makes, so either can read the other's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from .errors import InvalidHintError

_HINT_AUDIENCE = "manabi-hub:lti_message_hint"
# The only header a hint has: {"alg":"HS256","typ":"JWT"}, base64url without padding.
_HEADER = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
_REQUIRED = ("exp", "jti", "sub", "cid", "dep", "rl")
_MALFORMED = "lti_message_hint is malformed or its signature is invalid"


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _mac(signing_input: bytes, secret: bytes) -> bytes:
    return _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())


def sign_hs256(payload: dict[str, Any], secret: bytes) -> str:
    """A compact HS256 JWS of ``payload`` with the header ``{"alg":"HS256","typ":"JWT"}``."""
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = _HEADER + b"." + body
    return (signing_input + b"." + _mac(signing_input, secret)).decode()


def verify_hs256(token: str, secret: bytes) -> dict[str, Any] | None:
    """The payload of a token ``sign_hs256`` made with ``secret``, or None: another header,
    a signature that does not match (compared in constant time), a payload that is no JSON
    object."""
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError:
        return None
    signing_input, dot, signature = raw.rpartition(b".")
    header, _, body = signing_input.partition(b".")
    if not dot or header != _HEADER or not body or b"." in body:
        return None
    if not hmac.compare_digest(signature, _mac(signing_input, secret)):
        return None
    try:  # our own bytes from here on: the signature covers them
        data = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
    return sign_hs256(payload, secret), hint


def read_message_hint(token: str, *, now: int, secret: bytes) -> MessageHint:
    """Verify a message hint's signature and lifetime; raise InvalidHintError otherwise."""
    data = verify_hs256(token, secret)
    if (
        data is None
        or data.get("aud") != _HINT_AUDIENCE
        or any(data.get(claim) is None for claim in _REQUIRED)
        or not isinstance(data["exp"], int)
        or isinstance(data["exp"], bool)
    ):
        raise InvalidHintError(_MALFORMED)
    if data["exp"] < now:
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
