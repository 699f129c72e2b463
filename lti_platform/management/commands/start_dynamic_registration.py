"""Start an LTI Dynamic Registration: print the URL to open in the browser (docs/tools.md).

Audited like the web flow (``tool.registration_started``): who (``--operator``'s account, or
"platform operator" for whoever runs the command), the tool URL, the vendor, the expiry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit import trail
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
        parser.add_argument(
            "--operator",
            default="",
            help="username of the platform operator running this (recorded in the audit trail)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        vendor = None
        if options["vendor"]:
            vendor = User.objects.filter(username=options["vendor"]).first()
            if vendor is None:
                raise CommandError(f"no user {options['vendor']!r}")
        operator = None
        if options["operator"]:
            operator = User.objects.filter(
                username=options["operator"], is_active=True, is_superuser=True
            ).first()
            if operator is None:
                raise CommandError(f"no active platform operator {options['operator']!r}")
        try:
            with transaction.atomic():
                started = start_dynamic_registration(
                    acting_user=operator, tool_url=options["tool_url"], vendor=vendor
                )
                trail.record(
                    actor=operator,
                    action="tool.registration_started",
                    target=vendor if vendor is not None else started.token,
                    target_type="vendor" if vendor is not None else "registration_token",
                    org=None,
                    after={
                        "tool_url": started.token.tool_url,
                        "expires_at": str(started.token.expires_at),
                        "vendor": vendor.username if vendor is not None else None,
                        "by": operator.username if operator is not None else "platform operator",
                        "via": "manage.py start_dynamic_registration",
                    },
                )
        except (RegistrationNotAllowed, FieldError) as exc:
            raise CommandError(str(exc)) from exc
        minutes = int(TOKEN_LIFETIME.total_seconds() // 60)
        self.stderr.write(f"Open this URL within {minutes} minutes (single use):")
        self.stdout.write(started.url)
