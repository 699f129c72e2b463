"""Load the demo school, users and tools (idempotent) and print the demo sign-ins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from demo_tools.setup import register_demo_tools
from lti_platform.keys import ensure_keys
from roster.demo import DEMO_PASSWORD, create_demo_roster


class Command(BaseCommand):
    help = "Create the demo board of education, schools, users and the three demo LTI tools."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="", help="where the demo tools are served")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_keys()
        sign_ins = create_demo_roster()
        register_demo_tools(options["base_url"] or settings.LTI_ISSUER, settings.LTI_ISSUER)
        self.stdout.write(f"\nデモ用サインイン（パスワードはすべて {DEMO_PASSWORD}）:")
        for s in sign_ins:
            self.stdout.write(f"  {s.username:<22} {s.label}")
