"""Register and deploy a tool from a JSON spec (see docs/tools.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tools_registry.errors import ToolSpecError
from tools_registry.services import register_tool_from_spec


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
