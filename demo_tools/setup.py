"""Register the demo tools with the portal and write their own configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools_registry.models import Registration
from tools_registry.services import register_tool_from_spec

from . import config

SPEC_DIR = Path(__file__).resolve().parent / "registrations"


def register_demo_tools(base_url: str, issuer: str) -> list[Registration]:
    """Register drill, textbook and CBT test from their JSON specs; configure the tools.

    The drill and the CBT test fetch the platform's JWKS URL; the textbook is configured with
    a static copy of the platform's public keys, as some vendors do.
    """
    from lti_platform.keys import key_ring

    registrations = []
    for slug in config.DEMO_TOOLS:
        spec: dict[str, Any] = json.loads((SPEC_DIR / f"{slug}.json").read_text(encoding="utf-8"))
        spec["registration"]["public_key_pem"] = config.tool_public_key_pem(slug)
        registration = register_tool_from_spec(spec, base_url=base_url)
        entry: dict[str, Any] = {
            "issuer": issuer,
            "client_id": registration.client_id,
            "deployment_ids": list(
                registration.deployments.values_list("deployment_id", flat=True)
            ),
        }
        if slug == "textbook":
            entry["key_set"] = key_ring.published_jwks()
        else:
            entry["key_set_url"] = issuer + "/lti/jwks"
        config.save(slug, entry)
        registrations.append(registration)
    return registrations
