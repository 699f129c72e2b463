"""Register and deploy a tool from a declarative spec (JSON), so boards can version it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from lti_platform.protocol.claims import RESERVED_CUSTOM
from roster.models import Org, SchoolClass

from .errors import ToolSpecError
from .models import (
    DEFAULT_TILE_COLOR,
    TILE_COLOR_PATTERN,
    Deployment,
    Placement,
    PrivacyLevel,
    Registration,
    Service,
    Tool,
    ToolKind,
)
from .visibility import deployment_covers


def _url(value: Any, field: str, *, required: bool = True) -> str:
    if not value:
        if required:
            raise ToolSpecError(f"{field}: required")
        return ""
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in str(value):
        raise ToolSpecError(f"{field}: not an http(s) URL: {value!r}")
    if parts.fragment:
        raise ToolSpecError(f"{field}: must not contain a fragment")
    return str(value)


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
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ToolSpecError(f"{field}: an object of strings is required")
    reserved = sorted(set(value) & RESERVED_CUSTOM)
    if reserved:
        raise ToolSpecError(
            f"{field}: {', '.join(reserved)} is set by the platform and cannot be configured"
        )


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
    for i, dep in enumerate(spec.get("deployments", [])):
        field = f"deployments[{i}]"
        org = _org(dep.get("org", ""), field + ".org")
        deployment_id = dep.get("deployment_id") or org.identifier
        if not deployment_id:
            raise ToolSpecError(f"{field}.deployment_id: required when the org has no code")
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
