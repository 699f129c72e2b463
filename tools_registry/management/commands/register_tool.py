"""Register and deploy a tool from a JSON spec (see docs/tools.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_platform.protocol.deployment_ids import DeploymentIdError, parse_deployment_id
from tools_registry.errors import ToolSpecError
from tools_registry.models import Registration
from tools_registry.services import default_deployment_id, register_tool_from_spec


class Command(BaseCommand):
    help = "Register a tool, its deployments and placements from a JSON file (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("spec", type=Path, help="path to the tool's JSON spec")
        parser.add_argument(
            "--base-url", default="", help="replaces {base_url} in the spec (default: issuer)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["spec"]
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        try:
            registration = register_tool_from_spec(
                spec, base_url=options["base_url"] or settings.LTI_ISSUER
            )
        except ToolSpecError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self._warn_legacy_deployment_ids(registration)
        issuer = settings.LTI_ISSUER
        self.stdout.write(
            json.dumps(
                {
                    "tool": registration.tool.slug,
                    "issuer": issuer,
                    "client_id": registration.client_id,
                    "deployment_ids": list(
                        registration.deployments.values_list("deployment_id", flat=True)
                    ),
                    "auth_login_url": issuer + "/lti/authorize",
                    "key_set_url": issuer + "/lti/jwks",
                },
                ensure_ascii=False,
                indent=2,
            )
        )

    def _warn_legacy_deployment_ids(self, registration: Registration) -> None:
        """Warn about each deployment id not in the standard model's form: still accepted, but
        tools that check the form refuse its launches."""
        for deployment in registration.deployments.select_related("org").order_by("pk"):
            if _is_standard(deployment.deployment_id):
                continue
            suggested = default_deployment_id(deployment.org)
            hint = f"; use {suggested!r} (or omit deployment_id)" if _is_standard(suggested) else ""
            self.stderr.write(
                f"warning: deployment_id {deployment.deployment_id!r} ({deployment.org.name}) "
                "is not in the 学習eポータル標準モデル form (S_ + 学校コード, "
                "B_ + 地方公共団体コード, P_ + 都道府県コード): tools that check it refuse "
                f"every launch{hint}"
            )


def _is_standard(deployment_id: str) -> bool:
    try:
        return parse_deployment_id(deployment_id).is_standard
    except DeploymentIdError:  # an id written before the rule (the admin): legacy too
        return False
