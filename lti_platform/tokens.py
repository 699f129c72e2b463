"""Service tokens: issue them at the token endpoint, authenticate Bearer requests with them."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from tools_registry import grants
from tools_registry.models import Registration
from tools_registry.tool_keys import ToolKeyError, tool_public_key

from . import services
from .config_cache import config_cache
from .errors import BearerError, InsufficientScope
from .models import AccessToken
from .protocol import oauth

TOKEN_LIFETIME = 3600

SCOPES_BY_SERVICE = grants.SCOPES_BY_SERVICE


def allowed_scopes(registration: Registration) -> tuple[str, ...]:
    """The scopes a token of the tool may carry: those the boards whose active deployments it
    has granted (``tools_registry.grants.active_grants``), in the specification's order."""
    granted: set[str] = set()
    for grant in grants.active_grants(registration):
        granted |= grant.scopes
    return tuple(grants.in_scope_order(granted))


def token_url() -> str:
    return str(settings.LTI_ISSUER) + "/lti/token"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_access_token(*, form: dict[str, str]) -> dict[str, object]:
    """Run the client_credentials grant; raise oauth.OAuthError with the RFC 6749 code."""
    request = oauth.parse_token_request(form)
    peek = oauth.peek_assertion(request.assertion)
    registration = (
        Registration.objects.filter(client_id=peek.client_id, is_active=True).first()
        if len(peek.client_id) <= 64
        else None
    )
    if registration is None:
        raise oauth.InvalidClient("client_id is unknown or not active")
    try:
        key = tool_public_key(registration, peek.kid)
    except ToolKeyError as exc:
        raise oauth.InvalidClient(str(exc)) from exc
    now = int(services.clock())
    verified = oauth.verify_assertion(
        request.assertion, key=key, client_id=registration.client_id, token_url=token_url(), now=now
    )
    deployed = grants.active_grants(registration)
    if not deployed:
        raise oauth.UnauthorizedClient("the tool has no active deployment")
    if not any(grant.approved for grant in deployed):
        raise oauth.UnauthorizedClient("no board where the tool is deployed has approved it")
    allowed = grants.in_scope_order(set().union(*(grant.scopes for grant in deployed)))
    granted = oauth.grant_scopes(request.scopes, allowed)
    jti_expiry = datetime.datetime.fromtimestamp(
        verified.expires_at + oauth.CLOCK_SKEW, tz=datetime.UTC
    )
    # The jti may be 255 characters; the one-time store's key holds 128: store its hash.
    jti_key = f"jti:{registration.pk}:{_hash(verified.jti)}"
    if not services.consume_once(jti_key, expires_at=jti_expiry):
        raise oauth.InvalidClient("client_assertion jti has already been used")
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        token_hash=_hash(token),
        registration=registration,
        scopes=list(granted),
        expires_at=timezone.now() + datetime.timedelta(seconds=TOKEN_LIFETIME),
    )
    return oauth.token_response(token, expires_in=TOKEN_LIFETIME, scopes=granted)


@dataclass(frozen=True)
class ServiceClient:
    registration: Registration
    scopes: frozenset[str]


def authenticate(authorization: str, *, any_of: tuple[str, ...]) -> ServiceClient:
    """Return the tool behind a Bearer token that carries one of ``any_of`` scopes."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BearerError("a Bearer access token is required", anonymous=True)
    row = config_cache.access_token(_hash(token.strip()))  # generation-checked, see there
    registration = config_cache.registration_by_pk(row[0]) if row is not None else None
    if row is None or row[2] <= timezone.now() or registration is None:
        raise BearerError("the access token is unknown or has expired")
    scopes = frozenset(row[1])
    if not scopes.intersection(any_of):
        raise InsufficientScope(f"this request needs one of the scopes {' '.join(any_of)}")
    return ServiceClient(registration=registration, scopes=scopes)


def registration_of_bearer(authorization: str) -> Registration | None:
    """The tool whose access token an ``Authorization: Bearer`` header carries, expired or not
    (for the diagnostics of a refused service call); None for an unknown token."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = AccessToken.objects.filter(token_hash=_hash(token.strip())).select_related("registration")
    found = row.first()
    return found.registration if found is not None else None
