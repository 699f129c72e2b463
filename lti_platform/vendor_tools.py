"""A vendor's own tools (the vendor console, ``portal.vendor_console``): which tools are a
vendor's, a registration made by hand, the values a tool is configured with, its keys.

A registration made by hand is a Dynamic Registration typed by a person: the form's values
become client metadata, validated by ``protocol.registration.parse_client_metadata`` (the rules
of ``POST /lti/register``) and stored by ``tools_registry.services.save_dynamic_registration``
— a new tool waits for each board's approval (``tools_registry.grants``: every board decides
for itself); an approved one keeps its approvals when only its URLs or key change, and goes
back to review in those boards, launching with what they granted, when it asks for more. A public
key (JWK or PEM) may stand in for the JWKS URL. Every change is audited, platform-wide
(``org=None``): a vendor's tool is not one organisation's.

Access: only an account with the vendor role, only its own tools (``Tool.vendor``); anything
else is ``NotVendorTool`` — "not found", the same answer as a missing tool.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import trail
from dbtools.writelock import serialized_writes
from roster.models import Org, OrgType, RosterRole, User
from tools_registry import grants, tool_keys
from tools_registry.models import (
    ApprovalStatus,
    BoardApproval,
    Deployment,
    PrivacyLevel,
    Registration,
    Tool,
)
from tools_registry.services import find_dynamic_registration, save_dynamic_registration

from . import dynamic_registration
from .errors import NotFound, PlatformError
from .protocol import constants as c
from .protocol import registration as dr
from .tokens import SCOPES_BY_SERVICE, token_url

MIN_KEY_BITS = 2048

# The claims a tool asks for with each privacy level (``lti-tool-configuration.claims``).
CLAIMS_BY_PRIVACY: dict[str, tuple[str, ...]] = {
    PrivacyLevel.ID_ONLY: ("sub",),
    PrivacyLevel.NAME: ("sub", "name", "given_name", "family_name"),
    PrivacyLevel.NAME_EMAIL: ("sub", "name", "given_name", "family_name", "email"),
}

# Where the shared validator's errors belong: the field its description starts with.
_ERROR_FIELDS = (
    ("client_name", "name"),
    ("initiate_login_uri", "initiate_login_uri"),
    ("redirect_uris", "redirect_uris"),
    ("jwks_uri", "jwks_url"),
    ("scope", "services"),
    (f"{c.TOOL_CONFIGURATION}.domain", "domain"),
    (f"{c.TOOL_CONFIGURATION}.target_link_uri", "target_link_uri"),
    (f"{c.TOOL_CONFIGURATION}.description", "description"),
    (f"{c.TOOL_CONFIGURATION}.custom_parameters", "custom_parameters"),
    (f"{c.TOOL_CONFIGURATION}.messages", "deep_linking_url"),
)


class NotVendorTool(NotFound):
    """Not a vendor account, or not this vendor's tool (answered as "not found")."""


class ToolValuesInvalid(PlatformError):
    """One value of a registration made by hand is refused; ``field`` names the form field
    ("" for the form as a whole). Nothing was stored."""

    def __init__(self, description: str, *, field: str = "") -> None:
        super().__init__(description)
        self.field = field


@dataclass(frozen=True)
class ToolValues:
    """What a vendor types: the tool's name, URLs, key, parameters and what it asks for."""

    name: str
    description: str = ""
    domain: str = ""  # "" : the host of the initiate login URI
    initiate_login_uri: str = ""
    redirect_uris: tuple[str, ...] = ()
    target_link_uri: str = ""
    deep_linking_url: str = ""
    jwks_url: str = ""
    public_key: str = ""  # a JWK (JSON) or a PEM, instead of the JWKS URL
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = ()  # Service.AGS, Service.NRPS (Deep Linking: its URL)
    privacy_level: str = PrivacyLevel.ID_ONLY
    # The scopes asked before (an edit): a service kept asks for these of its scopes again,
    # not all of them, so changing a URL asks for nothing more (boards' approvals stay).
    scopes: tuple[str, ...] = ()


# --- access ------------------------------------------------------------------------------------


def is_vendor(user: User) -> bool:
    return user.is_active and user.role == RosterRole.VENDOR


def vendor_tool(acting_user: User, slug: str) -> Tool:
    """The acting vendor's tool ``slug`` (with its registration); NotVendorTool else."""
    if not is_vendor(acting_user):
        raise NotVendorTool("no such tool")
    tool = (
        Tool.objects.filter(slug=slug, vendor=acting_user, registration__isnull=False)
        .select_related("registration")
        .first()
    )
    if tool is None:
        raise NotVendorTool("no such tool")
    return tool


# --- what the console shows ----------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentRow:
    deployment_id: str
    org: Org
    is_active: bool
    placements: int


@dataclass(frozen=True)
class BoardRow:
    """One board's decision on the tool, as its vendor reads it."""

    board: Org
    status: str  # ApprovalStatus value
    status_text: str  # 承認待ち / 承認済み / 再審査待ち / 却下, in words
    reason: str  # the board's reason for a rejection, "" else


@dataclass(frozen=True)
class VendorTool:
    tool: Tool
    registration: Registration
    status: str  # a summary in words: approved by some board, else pending or rejected
    status_key: str  # the summary's ApprovalStatus value (the badge's colour)
    reason: str  # the reason when every board rejected it with one, "" else
    deployments: list[DeploymentRow]
    boards: list[BoardRow]

    @property
    def placements(self) -> int:
        return sum(d.placements for d in self.deployments)


STATUS_TEXT = {
    ApprovalStatus.PENDING: gettext_lazy("承認待ち"),
    ApprovalStatus.APPROVED: gettext_lazy("承認済み"),
    ApprovalStatus.REVIEW: gettext_lazy("再審査待ち（承認された範囲で使えます）"),
    ApprovalStatus.REJECTED: gettext_lazy("却下"),
}


def _boards() -> list[Org]:
    return list(Org.objects.filter(type=OrgType.DISTRICT).order_by("name", "pk"))


def _board_rows(registration: Registration, boards: list[Org]) -> list[BoardRow]:
    rows = {row.board_id: row for row in registration.board_approvals.all()}
    result = []
    for board in boards:
        decision = grants.decision_of(registration, rows.get(board.pk))
        result.append(
            BoardRow(
                board=board,
                status=decision.status,
                status_text=str(STATUS_TEXT[ApprovalStatus(decision.status)]),
                reason=decision.reason if decision.status == ApprovalStatus.REJECTED else "",
            )
        )
    return result


def _summary(boards: list[BoardRow]) -> tuple[str, str]:
    statuses = {b.status for b in boards}
    if statuses & grants.IN_FORCE:
        return str(ApprovalStatus.APPROVED), str(STATUS_TEXT[ApprovalStatus.APPROVED])
    if statuses == {ApprovalStatus.REJECTED}:
        return str(ApprovalStatus.REJECTED), str(STATUS_TEXT[ApprovalStatus.REJECTED])
    return str(ApprovalStatus.PENDING), str(STATUS_TEXT[ApprovalStatus.PENDING])


def _row(registration: Registration, boards: list[Org] | None = None) -> VendorTool:
    deployments = [
        DeploymentRow(
            deployment_id=d.deployment_id,
            org=d.org,
            is_active=d.is_active,
            placements=getattr(d, "placement_count", 0),
        )
        for d in registration.deployments.all()
    ]
    board_rows = _board_rows(registration, _boards() if boards is None else boards)
    summary, summary_text = _summary(board_rows)
    reasons = {b.reason for b in board_rows if b.reason}
    return VendorTool(
        tool=registration.tool,
        registration=registration,
        status=summary_text,
        status_key=summary,
        reason=reasons.pop() if summary == ApprovalStatus.REJECTED and len(reasons) == 1 else "",
        deployments=deployments,
        boards=board_rows,
    )


def _registrations() -> Any:
    deployments = (
        Deployment.objects.select_related("org")
        .annotate(placement_count=Count("placements"))
        .order_by("org__name", "deployment_id")
    )
    return Registration.objects.select_related("tool").prefetch_related(
        Prefetch("deployments", queryset=deployments),
        Prefetch("board_approvals", queryset=BoardApproval.objects.all()),
    )


def vendor_tools(acting_user: User) -> list[VendorTool]:
    """The acting vendor's tools with their status, deployments and placement counts."""
    if not is_vendor(acting_user):
        raise NotVendorTool("not a vendor account")
    registrations = _registrations().filter(tool__vendor=acting_user).order_by("tool__name", "pk")
    boards = _boards()
    return [_row(r, boards) for r in registrations]


def vendor_tool_row(tool: Tool) -> VendorTool:
    """One tool as ``vendor_tools`` shows it (``tool`` from ``vendor_tool``)."""
    return _row(_registrations().get(tool=tool))


@dataclass(frozen=True)
class ToolSheet:
    """The values a tool is configured with (a vendor's "LTI parameter sheet")."""

    issuer: str
    client_id: str
    authorization_url: str
    token_url: str
    jwks_url: str
    openid_configuration_url: str
    registration_url: str


def tool_sheet(registration: Registration) -> ToolSheet:
    issuer = str(settings.LTI_ISSUER)
    return ToolSheet(
        issuer=issuer,
        client_id=registration.client_id,
        authorization_url=issuer + reverse("lti_platform:authorize"),
        token_url=token_url(),
        jwks_url=issuer + reverse("lti_platform:jwks"),
        openid_configuration_url=dynamic_registration.openid_configuration_url(),
        registration_url=issuer + reverse("lti_platform:register"),
    )


def tool_values(registration: Registration) -> ToolValues:
    """The values of a stored registration, as the form shows them for an edit."""
    metadata = registration.client_metadata or {}
    config = metadata.get(c.TOOL_CONFIGURATION, {})
    scopes = str(metadata.get("scope", "")).split()
    if metadata:
        asked_services = grants.services_of_scopes(scopes, deep_linking=False)
        services = tuple(s for s in SCOPES_BY_SERVICE if s in asked_services)
    else:
        services = tuple(s for s in registration.allowed_services if s in SCOPES_BY_SERVICE)
    # What the boards read as asked (``grants.asked``): an edit asks for the same again.
    privacy = grants.asked(registration).privacy_level
    return ToolValues(
        name=registration.tool.name,
        description=registration.tool.description,
        domain=str(config.get("domain", "")),
        initiate_login_uri=registration.initiate_login_uri,
        redirect_uris=tuple(registration.redirect_uris),
        target_link_uri=registration.target_link_uri,
        deep_linking_url=registration.deep_linking_url,
        jwks_url=registration.jwks_url,
        public_key=registration.public_key_pem,
        custom_parameters=dict(registration.custom_parameters),
        services=services,
        privacy_level=privacy,
        scopes=tuple(scopes),
    )


# --- the registration made by hand ---------------------------------------------------------


def _domain_of(values: ToolValues) -> str:
    if values.domain:
        return values.domain
    for url in (values.initiate_login_uri, values.target_link_uri, *values.redirect_uris):
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            continue
        if host:
            return f"{host}:{port}" if port else host
    return ""


def _scopes_asked(values: ToolValues) -> list[str]:
    """Each chosen service's scopes: those asked before (``values.scopes``), else all."""
    asked: list[str] = []
    for service in values.services:
        offered = SCOPES_BY_SERVICE[service]
        kept = [s for s in offered if s in values.scopes]
        asked += kept or list(offered)
    return asked


def client_metadata(values: ToolValues) -> dict[str, Any]:
    """The client registration request a tool would POST with these values."""
    unknown = [s for s in values.services if s not in SCOPES_BY_SERVICE]
    if unknown:
        raise ToolValuesInvalid(
            _("このサービスは選べません: %s") % ", ".join(unknown), field="services"
        )
    if values.privacy_level not in CLAIMS_BY_PRIVACY:
        raise ToolValuesInvalid(_("個人情報の送信を選んでください。"), field="privacy_level")
    tool: dict[str, Any] = {
        "domain": _domain_of(values),
        "target_link_uri": values.target_link_uri,
        "description": values.description,
        "custom_parameters": dict(values.custom_parameters),
        "claims": list(CLAIMS_BY_PRIVACY[values.privacy_level]),
        "messages": (
            [
                {
                    "type": c.MessageType.DEEP_LINKING,
                    "target_link_uri": values.deep_linking_url,
                    "placements": [c.PLACEMENT_CONTENT_AREA],
                }
            ]
            if values.deep_linking_url
            else []
        ),
    }
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "client_name": values.name,
        "initiate_login_uri": values.initiate_login_uri,
        "redirect_uris": list(values.redirect_uris),
        "scope": " ".join(_scopes_asked(values)),
        c.TOOL_CONFIGURATION: tool,
    }
    if values.jwks_url:
        body["jwks_uri"] = values.jwks_url
    return body


def public_key_pem(text: str) -> str:
    """An RSA public key of at least ``MIN_KEY_BITS`` given as a JWK (JSON) or PEM, as PEM;
    raise ToolValuesInvalid (field ``public_key``)."""

    def refuse(message: str) -> ToolValuesInvalid:
        return ToolValuesInvalid(message, field="public_key")

    text = text.strip()
    if "PRIVATE KEY" in text or (text.startswith("{") and '"d"' in text):
        raise refuse(
            _("秘密鍵です。公開鍵だけを貼り付けてください（秘密鍵は誰にも渡さないでください）。")
        )
    key: object
    if text.startswith("{"):
        try:
            key = jwt.PyJWK(json.loads(text), algorithm="RS256").key
        except (ValueError, TypeError, jwt.PyJWKError, jwt.InvalidKeyError) as exc:
            raise refuse(
                _("JWK として読めません（RSA の公開鍵の JWK を貼り付けてください）。")
            ) from exc
    else:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise refuse(
                _("PEM の公開鍵として読めません（-----BEGIN PUBLIC KEY----- で始まる形）。")
            ) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise refuse(_("RSA の公開鍵ではありません（RS256 で署名する RSA の鍵が必要です）。"))
    if key.key_size < MIN_KEY_BITS:
        raise refuse(
            _("鍵が短すぎます（%(bits)d ビット。%(min)d ビット以上が必要です）。")
            % {"bits": key.key_size, "min": MIN_KEY_BITS}
        )
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


def _supported() -> dr.Supported:
    return dr.Supported(
        scopes=dynamic_registration.service_scopes(),
        claims=dynamic_registration.CLAIMS_SUPPORTED,
        messages=dynamic_registration.MESSAGES_SUPPORTED,
    )


def check_tool_values(values: ToolValues) -> tuple[dr.ClientMetadata, str]:
    """Validate the values by Dynamic Registration's rules; return the client metadata and
    the public key as PEM ("" with a JWKS URL). Raise ToolValuesInvalid."""
    if values.jwks_url and values.public_key:
        raise ToolValuesInvalid(
            _("JWKS URL と公開鍵は、どちらか一方だけを入力してください。"), field="public_key"
        )
    if not values.jwks_url and not values.public_key:
        raise ToolValuesInvalid(
            _("JWKS URL か公開鍵（JWK または PEM）のどちらかを入力してください。"),
            field="jwks_url",
        )
    try:
        metadata = dr.parse_client_metadata(
            client_metadata(values), _supported(), jwks_uri_required=False
        )
    except dr.InvalidClientMetadata as exc:
        name = next((f for prefix, f in _ERROR_FIELDS if exc.description.startswith(prefix)), "")
        raise ToolValuesInvalid(_rule_broken(exc.description), field=name) from exc
    return metadata, (public_key_pem(values.public_key) if values.public_key else "")


def _rule_broken(rule: str) -> str:
    """A Dynamic Registration rule the values break, said in the vendor's language, with the
    rule's own words after it (the metadata field and what it requires, as the spec names them,
    which is what the vendor's tool documentation and the Dynamic Registration error say too)."""
    if rule.endswith((": required", ": a non-empty array is required")):
        return _("入力してください（%(rule)s）。") % {"rule": rule}
    return _("LTI の登録の規則に合いません（%(rule)s）。") % {"rule": rule}


def _snapshot(registration: Registration) -> dict[str, Any]:
    """What the audit row keeps of a registration (the key as its SHA-256)."""
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
        "custom_parameters": dict(registration.custom_parameters),
        "allowed_services": list(registration.allowed_services),
        "requested_scope": registration.client_metadata.get("scope", ""),
        "requested_claims": registration.client_metadata.get(c.TOOL_CONFIGURATION, {}).get(
            "claims", []
        ),
    }


def save_vendor_tool(
    *, acting_user: User, values: ToolValues, tool: Tool | None = None
) -> Registration:
    """Register a new tool of the acting vendor (``tool`` None) or change one of theirs.

    Raise NotVendorTool, or ToolValuesInvalid naming the field; nothing is stored then."""
    if tool is not None:
        tool = vendor_tool(acting_user, tool.slug)
        if not values.scopes:
            asked = str(tool.registration.client_metadata.get("scope", "")).split()
            values = dataclasses.replace(values, scopes=tuple(asked))
    elif not is_vendor(acting_user):
        raise NotVendorTool("not a vendor account")
    metadata, pem = check_tool_values(values)
    with serialized_writes(), transaction.atomic():
        # Two new tools of one domain at once: the second waits here and is refused below.
        User.objects.select_for_update().filter(pk=acting_user.pk).first()
        if tool is None:
            taken = find_dynamic_registration(domain=metadata.domain, vendor=acting_user)
            if taken is not None:
                raise ToolValuesInvalid(
                    _(
                        "このドメインのツール「%(name)s」はもう登録されています。"
                        "そのツールを編集してください。"
                    )
                    % {"name": taken.tool.name},
                    field="domain",
                )
            before = None
        else:
            before = _snapshot(Registration.objects.select_for_update().get(tool=tool))
        registration = save_dynamic_registration(
            metadata=metadata,
            services=list(values.services),
            vendor=acting_user,
            tool=tool,
            actor=acting_user,
        )
        if pem:
            Registration.objects.filter(pk=registration.pk).update(jwks_url="", public_key_pem=pem)
        registration = Registration.objects.select_related("tool").get(pk=registration.pk)
        trail.record(
            actor=acting_user,
            action="tool.registered" if before is None else "tool.changed",
            target=registration.tool,
            org=None,
            before=before,
            after=_snapshot(registration),
        )
    return registration


# --- Dynamic Registration and keys ---------------------------------------------------------


def start_tool_registration(
    *, acting_user: User, tool: Tool | None, tool_url: str
) -> dynamic_registration.Started:
    """Start a Dynamic Registration that updates ``tool`` (the vendor's own), or registers a
    new tool of the vendor's (``tool`` None): the URL to open. Raise NotVendorTool, or
    dr.FieldError for a bad URL."""
    if tool is not None:
        tool = vendor_tool(acting_user, tool.slug)
    elif not is_vendor(acting_user):
        raise NotVendorTool("not a vendor account")
    with transaction.atomic():
        started = dynamic_registration.start_dynamic_registration(
            acting_user=acting_user, tool_url=tool_url, vendor=acting_user, tool=tool
        )
        trail.record(
            actor=acting_user,
            action="tool.registration_started",
            target=tool if tool is not None else acting_user,
            target_type="tool" if tool is not None else "vendor",
            org=None,
            after={"tool_url": started.token.tool_url, "expires_at": str(started.token.expires_at)},
        )
    return started


def refresh_vendor_tool_keys(*, acting_user: User, tool: Tool) -> Sequence[str]:
    """Forget the cached JWKS of the vendor's tool and fetch it now (``tool_keys``); return
    the kids found. Raise NotVendorTool, or ToolKeyError (JwksUnreachable with its reason)."""
    tool = vendor_tool(acting_user, tool.slug)
    kids = tool_keys.refresh_tool_keys(tool.registration)
    with transaction.atomic():
        trail.record(
            actor=acting_user,
            action="tool.keys_refreshed",
            target=tool,
            org=None,
            after={"jwks_url": tool.registration.jwks_url, "kids": list(kids)},
        )
    return kids
