"""OAuth 2.0 client credentials with a private_key_jwt assertion (1EdTech Security Framework §4.1,
RFC 7523 §2.2 and §3, RFC 6749 §4.4 and §5.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from .constants import CLIENT_ASSERTION_TYPE
from .errors import ProtocolError
from .text import find_unencodable, find_unencodable_field

CLOCK_SKEW = 60  # seconds accepted on exp, iat and nbf
MAX_ASSERTION_LIFETIME = 3600


class OAuthError(ProtocolError):
    """An RFC 6749 §5.2 error; subclasses carry the wire code and HTTP status."""

    error = "invalid_request"
    status = 400


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (RFC 7523 §3.2: any invalid client assertion).

    Answered with 400: RFC 6749 §5.2 requires 401 only for clients that authenticated with
    the Authorization header, which assertion clients do not use.
    """

    error = "invalid_client"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


@dataclass(frozen=True)
class TokenRequest:
    assertion: str
    scopes: tuple[str, ...]


def parse_token_request(form: Mapping[str, str]) -> TokenRequest:
    bad = find_unencodable_field(form.items())
    if bad:
        raise InvalidRequest(bad.describe(whole="the form", name="field name"))
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    if grant_type != "client_credentials":
        raise UnsupportedGrantType("only grant_type=client_credentials is supported")
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise InvalidRequest(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise InvalidRequest("client_assertion is required")
    scopes = tuple(dict.fromkeys(form.get("scope", "").split()))
    if not scopes:
        raise InvalidScope("scope is required")
    return TokenRequest(assertion=assertion, scopes=scopes)


@dataclass(frozen=True)
class UnverifiedAssertion:
    client_id: str
    kid: str | None


def peek_assertion(assertion: str) -> UnverifiedAssertion:
    """Read the client_id (``iss``/``sub``) and ``kid`` before the signature can be checked."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise InvalidClient("client_assertion is not a well-formed JWT") from exc
    # Before any claim is used: an unpaired surrogate (a JSON escape) fails in the database
    # driver, a hash or the response encoder.
    bad = find_unencodable(header)
    if bad:
        raise InvalidClient(bad.describe("client_assertion header", name="parameter name"))
    bad = find_unencodable(claims)
    if bad:
        raise InvalidClient(bad.describe("client_assertion", name="claim name"))
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or not iss:
        raise InvalidClient("client_assertion has no iss")
    if sub != iss:
        raise InvalidClient("client_assertion sub must equal iss (the client_id)")
    if header.get("alg") != "RS256":
        raise InvalidClient("client_assertion must be signed with RS256")
    kid = header.get("kid")
    return UnverifiedAssertion(client_id=iss, kid=kid if isinstance(kid, str) else None)


@dataclass(frozen=True)
class VerifiedAssertion:
    client_id: str
    jti: str
    expires_at: int


def verify_assertion(
    assertion: str, *, key: Any, client_id: str, token_url: str, now: int
) -> VerifiedAssertion:
    """Check signature, iss = sub = client_id, aud contains the token URL, exp/iat, jti."""
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=["RS256"],
            audience=token_url,
            issuer=client_id,
            leeway=CLOCK_SKEW,
            # exp and iat are checked below against ``now`` (the platform clock), with types.
            options={
                "require": ["iss", "sub", "aud", "exp", "iat", "jti"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidAudienceError as exc:
        raise InvalidClient(f"client_assertion aud must contain {token_url}") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidClient(f"client_assertion is missing the {exc.claim} claim") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidClient("client_assertion signature is invalid") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidClient(f"client_assertion is invalid: {exc}") from exc
    if claims["sub"] != client_id:
        raise InvalidClient("client_assertion sub must equal iss (the client_id)")
    iat, exp = claims["iat"], claims["exp"]
    if not _is_time(exp):
        raise InvalidClient("client_assertion exp must be a number")
    if not _is_time(iat):
        raise InvalidClient("client_assertion iat must be a number")
    if exp < now - CLOCK_SKEW:
        raise InvalidClient("client_assertion has expired")
    if iat > now + CLOCK_SKEW:
        raise InvalidClient("client_assertion iat is in the future")
    if exp - iat > MAX_ASSERTION_LIFETIME:
        raise InvalidClient("client_assertion lifetime is longer than one hour")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise InvalidClient("client_assertion jti must be a non-empty string")
    return VerifiedAssertion(client_id=client_id, jti=jti, expires_at=int(exp))


def _is_time(value: Any) -> bool:
    """A NumericDate: a finite JSON number (not a string, a boolean, NaN or Infinity)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def grant_scopes(requested: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    granted = tuple(s for s in requested if s in allowed)
    if not granted:
        raise InvalidScope("none of the requested scopes is allowed for this tool")
    return granted


def token_response(access_token: str, *, expires_in: int, scopes: Sequence[str]) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": " ".join(scopes),
    }


def error_body(exc: OAuthError) -> dict[str, str]:
    return {"error": exc.error, "error_description": exc.description}
