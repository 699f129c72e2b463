"""Start an LTI Dynamic Registration: print the URL to open in the browser (docs/tools.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_platform.dynamic_registration import (
    TOKEN_LIFETIME,
    RegistrationNotAllowed,
    start_dynamic_registration,
)
from lti_platform.protocol.registration import FieldError
from roster.models import User


class Command(BaseCommand):
    help = (
        "Create a single-use registration token and print the tool's registration URL with "
        "openid_configuration and registration_token, to open in the browser."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tool-url", required=True, help="the tool's registration URL")
        parser.add_argument("--vendor", default="", help="username of the tool's vendor account")

    def handle(self, *args: Any, **options: Any) -> None:
        vendor = None
        if options["vendor"]:
            vendor = User.objects.filter(username=options["vendor"]).first()
            if vendor is None:
                raise CommandError(f"no user {options['vendor']!r}")
        try:
            started = start_dynamic_registration(
                acting_user=None, tool_url=options["tool_url"], vendor=vendor
            )
        except (RegistrationNotAllowed, FieldError) as exc:
            raise CommandError(str(exc)) from exc
        minutes = int(TOKEN_LIFETIME.total_seconds() // 60)
        self.stderr.write(f"Open this URL within {minutes} minutes (single use):")
        self.stdout.write(started.url)
