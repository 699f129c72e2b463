"""Register the demo tools with the portal and write their own configuration."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from lti_platform.protocol.deployment_ids import parse_deployment_id
from roster.models import Org
from tools_registry.models import Deployment, Registration
from tools_registry.services import default_deployment_id, register_tool_from_spec

from . import config

SPEC_DIR = Path(__file__).resolve().parent / "registrations"
XAPI_TOOLS = ("drill", "cbt")  # the tools that send their own statements to /xapi/


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
        _standardize_deployment_ids(spec["tool"]["slug"])
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
        held = config.load_all().get(slug, {}).get("xapi")
        if held:  # the LRS credentials stay (provision_lrs_credentials checks them)
            entry["xapi"] = held
        config.save(slug, entry)
        registrations.append(registration)
    return registrations


def _standardize_deployment_ids(tool_slug: str) -> None:
    """Give the deployments of a demo database made before the standard ids (``13210``, bare
    school codes) their standard id in place, so that they keep their placements and scores."""
    for deployment in Deployment.objects.filter(registration__tool__slug=tool_slug).select_related(
        "org"
    ):
        standard = default_deployment_id(deployment.org)
        if parse_deployment_id(deployment.deployment_id).is_standard or not standard:
            continue
        if not Deployment.objects.filter(
            registration_id=deployment.registration_id, deployment_id=standard
        ).exists():
            deployment.deployment_id = standard
            deployment.save(update_fields=["deployment_id"])


def provision_lrs_credentials(base_url: str, issuer: str) -> dict[str, str]:
    """Give the drill and the CBT test credentials for the portal's LRS endpoint; return each
    tool's key.

    Idempotent: the credentials a tool's configuration already holds are kept while they are
    still active (a board administrator may have deactivated them); otherwise new ones are
    issued, by the board the tool is deployed in, and written to the tool's configuration
    beside its other settings with the portal's xAPI base URL and the tool's own home.
    Call after ``register_demo_tools``.
    """
    from studylog.lrs.auth import issue_credential
    from studylog.models import LrsCredential

    keys = {}
    for slug in XAPI_TOOLS:
        entry = config.load_all()[slug]
        registration = Registration.objects.get(client_id=entry["client_id"])
        held: dict[str, str] = entry.get("xapi") or {}
        credential = LrsCredential.objects.filter(
            key=held.get("key", ""), registration=registration, active=True
        ).first()
        secret = held.get("secret", "")
        if credential is None or not hmac.compare_digest(
            hashlib.sha256(secret.encode()).hexdigest(), credential.secret_sha256
        ):
            credential, secret = issue_credential(
                registration=registration, label="デモツール（seed_demo）"
            )
            LrsCredential.objects.filter(pk=credential.pk).update(board=_board_of(registration))
        entry["xapi"] = {
            "endpoint": issuer + "/xapi/",
            "key": credential.key,
            "secret": secret,
            "home": f"{base_url}/tools/{slug}/",
        }
        config.save(slug, entry)
        keys[slug] = credential.key
    return keys


def _board_of(registration: Registration) -> Org | None:
    """The board a tool is deployed in (its deployment's org, or that school's board)."""
    deployment = registration.deployments.select_related("org").order_by("pk").first()
    return deployment.org.district if deployment is not None else None
