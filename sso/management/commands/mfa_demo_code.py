"""Print a demo administrator's current authenticator code (the demo's published secret)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sso.mfa_demo import DEMO_TOTP_SECRETS, demo_code


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo administrator (sakura-admin, …)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", choices=sorted(DEMO_TOTP_SECRETS))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.stdout.write(demo_code(options["username"]))
        except KeyError as e:  # pragma: no cover  (argparse's choices refuse it first)
            raise CommandError("not a demo administrator") from e
