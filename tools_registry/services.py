"""Register and deploy a tool from a declarative spec (JSON), so boards can version it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from audit import trail
from lti_platform.protocol import constants as c
from lti_platform.protocol import deployment_ids
from lti_platform.protocol import registration as rules
from roster.models import Org, OrgType, SchoolClass, User

from . import grants
from .errors import ToolSpecError
from .models import (
    DEFAULT_TILE_COLOR,
    TILE_COLOR_PATTERN,
    ApprovalStatus,
    BoardApproval,
    Deployment,
    Placement,
    PrivacyLevel,
    Registration,
    RegistrationStatus,
    Service,
    Tool,
    ToolKind,
)
from .visibility import deployment_covers


def _url(value: Any, field: str, *, required: bool = True) -> str:
    try:
        return rules.check_url(value, field, required=required)
    except rules.FieldError as exc:
        raise ToolSpecError(str(exc)) from exc


def _color(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.match(TILE_COLOR_PATTERN, value):
        raise ToolSpecError(
            f"{field}: a colour written #rrggbb (e.g. #2f6fde) is required, not {value!r}"
        )
    return value.lower()


def _expand(value: Any, base_url: str) -> Any:
    if isinstance(value, str):
        return value.replace("{base_url}", base_url.rstrip("/"))
    if isinstance(value, list):
        return [_expand(v, base_url) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, base_url) for k, v in value.items()}
    return value


def _custom(value: Any, field: str) -> None:
    try:
        rules.check_custom(value, field)
    except rules.FieldError as exc:
        raise ToolSpecError(str(exc)) from exc


def default_deployment_id(org: Org) -> str:
    """The deployment id the platform gives a deployment for ``org`` when none is chosen: the
    学習eポータル標準モデル's form (``lti_platform.protocol.deployment_ids``), ``S_`` + a
    school's 学校コード or ``B_`` + a board's 地方公共団体コード; an org whose code breaks that
    rule gets its bare code (a legacy id, which ``register_tool`` warns about), one with no code
    "" (the caller refuses then). Every place that creates a deployment without a given id
    calls this one function."""
    school = org.type == OrgType.SCHOOL
    level = deployment_ids.OrgLevel.SCHOOL if school else deployment_ids.OrgLevel.BOARD
    try:
        return deployment_ids.standard_deployment_id(level, org.identifier)
    except deployment_ids.DeploymentIdError:
        return org.identifier


def _deployment_id(value: Any, org: Org, field: str) -> str:
    """A deployment's id: the given one, checked (a legacy id is kept), else the default."""
    if value is None or value == "":
        deployment_id = default_deployment_id(org)
        if not deployment_id:
            raise ToolSpecError(f"{field}: required when the org has no code")
        return deployment_id
    try:
        return deployment_ids.parse_deployment_id(value).value
    except deployment_ids.DeploymentIdError as exc:
        raise ToolSpecError(f"{field}: {exc}") from exc


def _org(ref: str, field: str) -> Org:
    org = Org.objects.filter(identifier=ref).first() or Org.objects.filter(name=ref).first()
    if org is None:
        raise ToolSpecError(f"{field}: no org with identifier or name {ref!r}")
    return org


@transaction.atomic
def register_tool_from_spec(spec: Mapping[str, Any], *, base_url: str = "") -> Registration:
    """Create or update a tool, its registration, deployments and placements from ``spec``.

    Idempotent: the tool is found by its ``slug``; its client_id never changes. Invalid specs
    raise ToolSpecError and write nothing.
    """
    spec = _expand(spec, base_url)
    tool_spec = spec.get("tool") or {}
    reg_spec = spec.get("registration") or {}
    slug = tool_spec.get("slug")
    if not slug:
        raise ToolSpecError("tool.slug: required")
    kind = tool_spec.get("kind", ToolKind.OTHER)
    if kind not in ToolKind.values:
        raise ToolSpecError(f"tool.kind: must be one of {ToolKind.values}")
    tool, _ = Tool.objects.update_or_create(
        slug=slug,
        defaults={
            "name": tool_spec.get("name") or slug,
            "name_en": tool_spec.get("name_en", ""),
            "description": tool_spec.get("description", ""),
            "kind": kind,
            "icon": tool_spec.get("icon", "📘"),
            "color": _color(tool_spec.get("color", DEFAULT_TILE_COLOR), "tool.color"),
        },
    )
    redirect_uris = reg_spec.get("redirect_uris") or []
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise ToolSpecError("registration.redirect_uris: a non-empty list is required")
    redirect_uris = [
        _url(u, f"registration.redirect_uris[{i}]") for i, u in enumerate(redirect_uris)
    ]
    jwks_url = _url(reg_spec.get("jwks_url"), "registration.jwks_url", required=False)
    public_key = reg_spec.get("public_key_pem", "")
    if public_key and "BEGIN PUBLIC KEY" not in public_key:
        raise ToolSpecError("registration.public_key_pem: not a PEM public key")
    services = reg_spec.get("allowed_services", [])
    unknown = set(services) - set(Service.values)
    if unknown:
        raise ToolSpecError(f"registration.allowed_services: unknown {sorted(unknown)}")
    privacy = reg_spec.get("privacy_level", PrivacyLevel.ID_ONLY)
    if privacy not in PrivacyLevel.values:
        raise ToolSpecError(f"registration.privacy_level: must be one of {PrivacyLevel.values}")
    custom = reg_spec.get("custom_parameters", {})
    _custom(custom, "registration.custom_parameters")
    platform_storage = reg_spec.get("platform_storage", False)
    if not isinstance(platform_storage, bool):
        raise ToolSpecError("registration.platform_storage: true or false")
    registration, _ = Registration.objects.update_or_create(
        tool=tool,
        defaults={
            "initiate_login_uri": _url(
                reg_spec.get("initiate_login_uri"), "registration.initiate_login_uri"
            ),
            "redirect_uris": redirect_uris,
            "target_link_uri": _url(
                reg_spec.get("target_link_uri"), "registration.target_link_uri"
            ),
            "jwks_url": jwks_url,
            "public_key_pem": public_key,
            "deep_linking_url": _url(
                reg_spec.get("deep_linking_url"), "registration.deep_linking_url", required=False
            ),
            "custom_parameters": custom,
            "allowed_services": services,
            "privacy_level": privacy,
            "platform_storage": platform_storage,
        },
    )
    # The spec is the platform's decision for every board: an approval nobody made by hand
    # (migration 0007's copy of the old one) gives way to it; a board's own decision stays.
    BoardApproval.objects.filter(registration=registration, decided_by__isnull=True).delete()
    for i, dep in enumerate(spec.get("deployments", [])):
        field = f"deployments[{i}]"
        org = _org(dep.get("org", ""), field + ".org")
        deployment_id = _deployment_id(dep.get("deployment_id"), org, field + ".deployment_id")
        dep_privacy = dep.get("privacy_level", "")
        if dep_privacy and dep_privacy not in PrivacyLevel.values:
            raise ToolSpecError(f"{field}.privacy_level: must be one of {PrivacyLevel.values}")
        deployment, _ = Deployment.objects.update_or_create(
            registration=registration,
            deployment_id=deployment_id,
            defaults={"org": org, "privacy_level": dep_privacy},
        )
        for j, plc in enumerate(dep.get("placements", [])):
            pfield = f"{field}.placements[{j}]"
            school = _org(plc.get("school", ""), pfield + ".school")
            if not deployment_covers(deployment, school):
                raise ToolSpecError(f"{pfield}.school: not covered by the deployment's org")
            school_class = None
            if plc.get("class"):
                school_class = SchoolClass.objects.filter(
                    school=school, class_code=plc["class"]
                ).first()
                if school_class is None:
                    raise ToolSpecError(f"{pfield}.class: no class {plc['class']!r} in {school}")
            Placement.objects.update_or_create(
                deployment=deployment,
                school=school,
                school_class=school_class,
                defaults={
                    "title": plc.get("title") or tool.name,
                    "description": plc.get("description", ""),
                    "audience": plc.get("audience", "all"),
                    "position": plc.get("position", 0),
                },
            )
    return registration


def _dynamic_slug(domain: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", domain.lower()).strip("-")[:40] or "tool"
    return f"dr-{base}-{secrets.token_hex(3)}"


def find_dynamic_registration(
    *, domain: str, vendor: User | None, tool: Tool | None = None
) -> Registration | None:
    """The registration a Dynamic Registration updates instead of creating one: ``tool``'s
    (a token started for that tool), else the one this vendor (or, with none, the
    operators) registered dynamically for the same domain."""
    if tool is not None:
        return Registration.objects.filter(tool=tool).first()
    candidates = Registration.objects.filter(tool__vendor=vendor).exclude(client_metadata={})
    for candidate in candidates.select_related("tool").order_by("pk"):
        tool_config = candidate.client_metadata.get(c.TOOL_CONFIGURATION, {})
        if tool_config.get("domain") == domain:
            return candidate
    return None


@transaction.atomic
def _approval_values(row: BoardApproval) -> dict[str, Any]:
    return {
        "status": row.status,
        "privacy_level": row.privacy_level,
        "granted_scopes": list(row.granted_scopes),
        "deep_linking": row.deep_linking,
    }


def reopen_reviews(
    registration: Registration, *, before: grants.Asked, actor: User | None
) -> list[BoardApproval]:
    """After a registration's request changed (``before``: what it asked for until now): in
    each board that approved it, a wider request (a new scope, more personal data, a new
    message type) waits for review (``review``; launches keep what was granted); a board that
    rejected it reviews it again (``pending``). A change of keys or URLs alone changes no
    approval. Each change is audited; return the rows changed."""
    wider = grants.asked(registration).wider_than(before)
    changed = []
    for row in BoardApproval.objects.filter(registration=registration).select_related("board"):
        if row.status == ApprovalStatus.REJECTED:
            new_status = ApprovalStatus.PENDING
        elif row.status == ApprovalStatus.APPROVED and wider:
            new_status = ApprovalStatus.REVIEW
        else:
            continue
        old = _approval_values(row)
        row.status = new_status
        row.save(update_fields=["status"])
        trail.record(
            actor=actor,
            action="registration.review_reopened",
            target=registration,
            org=row.board,
            before=old,
            after=_approval_values(row),
        )
        changed.append(row)
    return changed


def save_dynamic_registration(
    *,
    metadata: rules.ClientMetadata,
    services: Sequence[str],
    vendor: User | None,
    tool: Tool | None = None,
    create: bool = False,
    actor: User | None = None,
) -> Registration:
    """Store a validated Dynamic Registration: a new tool waits for approval (pending,
    inactive); a known one (``find_dynamic_registration``) gets the new URLs and key in place
    and keeps its client_id and its boards' approvals unless it asks for more
    (``reopen_reviews``: audited with ``actor``, the account that started the registration);
    a platform-approved tool is never granted a service it did not have, a rejected one is
    pending again. ``create``: a new tool even when one of the same domain is known (the
    caller decided the registrant may not update it)."""
    existing = (
        None
        if create
        else find_dynamic_registration(domain=metadata.domain, vendor=vendor, tool=tool)
    )
    deep_linking = metadata.message(c.MessageType.DEEP_LINKING)
    asked = list(dict.fromkeys([*services, *([Service.DEEP_LINKING] if deep_linking else [])]))
    fields: dict[str, Any] = {
        "initiate_login_uri": metadata.initiate_login_uri,
        "redirect_uris": list(metadata.redirect_uris),
        "target_link_uri": metadata.target_link_uri,
        "jwks_url": metadata.jwks_uri,
        "public_key_pem": "",
        "deep_linking_url": (
            (deep_linking.target_link_uri or metadata.target_link_uri) if deep_linking else ""
        ),
        "custom_parameters": dict(metadata.custom_parameters),
        "client_metadata": metadata.stored(),
    }
    if existing is None:
        new_tool = Tool.objects.create(
            slug=_dynamic_slug(metadata.domain),
            name=metadata.client_name,
            description=metadata.description,
            kind=ToolKind.OTHER,
            vendor=vendor,
        )
        return Registration.objects.create(
            tool=new_tool,
            allowed_services=asked,
            status=RegistrationStatus.PENDING,
            is_active=False,
            **fields,
        )
    before = grants.asked(existing)
    if existing.status == RegistrationStatus.APPROVED:
        fields["allowed_services"] = [s for s in existing.allowed_services if s in asked]
        if not existing.deep_linking_url:  # deep linking was not granted: it stays off
            fields["deep_linking_url"] = ""
    else:
        # Each board decides (``BoardApproval``); a board's approval keeps the tool active.
        fields["allowed_services"] = asked
        fields["status"] = RegistrationStatus.PENDING
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.save()
    reopen_reviews(existing, before=before, actor=actor)
    Tool.objects.filter(pk=existing.tool_id).update(
        name=metadata.client_name, description=metadata.description
    )
    return existing
