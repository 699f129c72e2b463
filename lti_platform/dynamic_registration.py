"""LTI Dynamic Registration 1.0: the platform's OpenID configuration, registration tokens and
the registration endpoint's service (https://www.imsglobal.org/spec/lti-dr/v1p0/).

An operator (``manage.py start_dynamic_registration``), a board administrator or a vendor for
its own tools starts a registration: a single-use token, valid for ``TOKEN_LIFETIME``, is
added to the tool's registration URL with our configuration URL. The tool reads the
configuration and POSTs its client metadata with the token to ``/lti/register``; the tool is
stored pending (``tools_registry.services.save_dynamic_registration``) until a board approves
it, and cannot launch or get a service token before.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit import trail
from dbtools.writelock import serialized_writes
from roster.models import RosterRole, User
from tools_registry.models import Registration, RegistrationToken, Tool
from tools_registry.services import find_dynamic_registration, save_dynamic_registration

from .errors import BearerError, PlatformError
from .protocol import constants as c
from .protocol import registration as dr
from .protocol.claims import SUPPORTED_VARIABLES
from .services import PRODUCT_VERSION
from .tokens import SCOPES_BY_SERVICE, token_url

TOKEN_LIFETIME = datetime.timedelta(hours=1)
MAX_METADATA = 32 * 1024  # bytes of client metadata a registration request may carry

# The claims an id_token of ours can carry (OIDC and LTI), for ``claims_supported``.
CLAIMS_SUPPORTED = (
    "iss",
    "aud",
    "azp",
    "sub",
    "exp",
    "iat",
    "nonce",
    "locale",
    "name",
    "given_name",
    "family_name",
    "email",
)
MESSAGES_SUPPORTED: dict[str, tuple[str, ...]] = {
    c.MessageType.RESOURCE_LINK: (),
    c.MessageType.DEEP_LINKING: (c.PLACEMENT_CONTENT_AREA,),
    c.MessageType.SUBMISSION_REVIEW: (),
}


class RegistrationNotAllowed(PlatformError):
    """Only operators, board administrators and a vendor for its own tools start one."""

    error = "access_denied"
    status = HTTPStatus.FORBIDDEN


def service_scopes() -> tuple[str, ...]:
    return tuple(scope for scopes in SCOPES_BY_SERVICE.values() for scope in scopes)


def openid_configuration_url() -> str:
    return str(settings.LTI_ISSUER) + reverse("openid_configuration")


def platform_configuration() -> dict[str, Any]:
    issuer = str(settings.LTI_ISSUER)
    return dr.openid_configuration(
        dr.PlatformConfiguration(
            issuer=issuer,
            authorization_endpoint=issuer + reverse("lti_platform:authorize"),
            token_endpoint=token_url(),
            jwks_uri=issuer + reverse("lti_platform:jwks"),
            registration_endpoint=issuer + reverse("lti_platform:register"),
            product_family_code="manabi-hub",
            version=PRODUCT_VERSION,
            scopes=service_scopes(),
            claims=CLAIMS_SUPPORTED,
            messages=MESSAGES_SUPPORTED,
            variables=SUPPORTED_VARIABLES,
        )
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    url: str  # the tool's registration URL with openid_configuration and registration_token
    token: RegistrationToken


def _may_start(acting_user: User | None, vendor: User | None, tool: Tool | None) -> bool:
    if acting_user is None or acting_user.is_superuser:  # None: the operator's command
        return True
    if acting_user.role == RosterRole.DISTRICT_ADMINISTRATOR:
        # A new tool only: re-registering an existing tool (its URLs and key) is for the
        # tool's vendor or an operator, never a board that did not register it.
        return acting_user.is_active and tool is None
    return (
        acting_user.role == RosterRole.VENDOR
        and vendor is not None
        and vendor.pk == acting_user.pk
        and (tool is None or tool.vendor_id == acting_user.pk)
    )


def start_dynamic_registration(
    *,
    acting_user: User | None,
    tool_url: str,
    vendor: User | None = None,
    tool: Tool | None = None,
    now: datetime.datetime | None = None,
) -> Started:
    """Create a registration token and the URL to open in the browser.

    ``tool``: a vendor's tool to register again (new key or URLs) — the registration made with
    the token updates it. Raise RegistrationNotAllowed, or dr.FieldError for a bad URL."""
    if vendor is not None and vendor.role != RosterRole.VENDOR:
        raise RegistrationNotAllowed(f"{vendor.username} is not a vendor account")
    if tool is not None and vendor is None:
        vendor = tool.vendor
    if not _may_start(acting_user, vendor, tool):
        raise RegistrationNotAllowed("you may start a registration only for your own tools")
    url = dr.check_url(tool_url, "tool_url")
    if len(url) > dr.MAX_URL:  # RegistrationToken.tool_url
        raise dr.FieldError(f"tool_url: longer than {dr.MAX_URL} characters")
    now = now or timezone.now()
    secret = secrets.token_urlsafe(32)
    token = RegistrationToken.objects.create(
        token_hash=_hash(secret),
        tool_url=url,
        created_by=acting_user,
        vendor=vendor,
        tool=tool,
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    query = urlencode(
        {"openid_configuration": openid_configuration_url(), "registration_token": secret}
    )
    separator = "&" if urlsplit(url).query else "?"
    return Started(url=f"{url}{separator}{query}", token=token)


def _bearer(authorization: str) -> str:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise BearerError("a registration token is required", anonymous=True)
    return credentials.strip()


def check_token(authorization: str, *, now: datetime.datetime | None = None) -> RegistrationToken:
    """The unused, unexpired registration token of an ``Authorization: Bearer`` header."""
    secret = _bearer(authorization)
    token = (
        RegistrationToken.objects.select_related("vendor", "created_by")
        .filter(token_hash=_hash(secret))
        .first()
    )
    if token is None:
        raise BearerError("the registration token is unknown")
    if token.used_at is not None:
        raise BearerError("the registration token was already used")
    if token.expires_at <= (now or timezone.now()):
        raise BearerError("the registration token has expired")
    for account in (token.vendor, token.created_by):
        if account is not None and not account.is_active:
            raise BearerError("the registration token's account is deactivated")
    return token


def _may_update(existing: Registration, token: RegistrationToken) -> bool:
    """Whether a token not started for a tool may re-register ``existing``, the tool of the
    same domain ``find_dynamic_registration`` found: an operator's token, the tool's vendor's
    own, or one of the administrator whose earlier token registered it. Anyone else's (a
    board's token for a domain another board or the operator registered) makes a new tool."""
    creator = token.created_by
    if creator is None or creator.is_superuser:
        return True
    if existing.tool.vendor_id is not None and creator.pk == existing.tool.vendor_id:
        return True
    return RegistrationToken.objects.filter(registration=existing, created_by=creator).exists()


def registration_of_token(authorization: str) -> Registration | None:
    """The registration an ``Authorization: Bearer`` registration token made or re-registers,
    used or not, expired or not (for the diagnostics of a refused registration); else None."""
    try:
        secret = _bearer(authorization)
    except BearerError:
        return None
    token = (
        RegistrationToken.objects.select_related("registration", "tool__registration")
        .filter(token_hash=_hash(secret))
        .first()
    )
    if token is None:
        return None
    if token.registration is not None:
        return token.registration
    if token.tool is not None:
        return Registration.objects.filter(tool=token.tool).first()
    return None


def _services(scopes: tuple[str, ...]) -> list[str]:
    return [
        service
        for service, offered in SCOPES_BY_SERVICE.items()
        if any(scope in offered for scope in scopes)
    ]


def client_response(registration: Registration) -> dict[str, Any]:
    """The stored client: ``client_id`` and the metadata as stored, with our deployment id
    when the registration has exactly one deployment."""
    body: dict[str, Any] = {"client_id": registration.client_id, **registration.client_metadata}
    tool_config = dict(body.get(c.TOOL_CONFIGURATION, {}))
    deployment_ids = list(registration.deployments.values_list("deployment_id", flat=True)[:2])
    if len(deployment_ids) == 1:
        tool_config["deployment_id"] = deployment_ids[0]
    body[c.TOOL_CONFIGURATION] = tool_config
    return body


def register_client(
    *, authorization: str, body: Any, now: datetime.datetime | None = None
) -> dict[str, Any]:
    """Validate the token and the client metadata, store the tool, spend the token; return
    the stored client. On any error nothing is written and the token stays unused."""
    now = now or timezone.now()
    token = check_token(authorization, now=now)
    metadata = dr.parse_client_metadata(
        body,
        dr.Supported(scopes=service_scopes(), claims=CLAIMS_SUPPORTED, messages=MESSAGES_SUPPORTED),
    )
    with serialized_writes(), transaction.atomic():
        spent = RegistrationToken.objects.filter(
            pk=token.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not spent:  # another request used it meanwhile
            raise BearerError("the registration token was already used")
        if token.vendor is not None:  # two registrations of one vendor's domain: one tool
            User.objects.select_for_update().filter(pk=token.vendor.pk).first()
        existing = find_dynamic_registration(
            domain=metadata.domain, vendor=token.vendor, tool=token.tool
        )
        if existing is not None and token.tool is None and not _may_update(existing, token):
            existing = None
        before = _audited(existing) if existing is not None else None
        registration = save_dynamic_registration(
            metadata=metadata,
            services=_services(metadata.scopes),
            vendor=token.vendor,
            tool=token.tool,
            create=existing is None,
            actor=token.created_by,
        )
        RegistrationToken.objects.filter(pk=token.pk).update(registration=registration)
        trail.record(
            actor=token.created_by,
            action="tool.dynamically_registered" if before is None else "tool.re_registered",
            target=registration.tool,
            org=None,
            before=before,
            after=_audited(Registration.objects.select_related("tool").get(pk=registration.pk)),
        )
    return client_response(registration)


def _audited(registration: Registration) -> dict[str, Any]:
    """What the audit row keeps of a registration the tool made (no key material: a JWKS
    URL; a stored PEM only as its SHA-256)."""
    pem = registration.public_key_pem
    return {
        "name": registration.tool.name,
        "status": registration.status,
        "is_active": registration.is_active,
        "initiate_login_uri": registration.initiate_login_uri,
        "redirect_uris": list(registration.redirect_uris),
        "target_link_uri": registration.target_link_uri,
        "deep_linking_url": registration.deep_linking_url,
        "jwks_url": registration.jwks_url,
        "public_key_sha256": hashlib.sha256(pem.encode()).hexdigest() if pem else "",
        "allowed_services": list(registration.allowed_services),
        "requested_scope": registration.client_metadata.get("scope", ""),
    }
