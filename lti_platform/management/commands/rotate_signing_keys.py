"""Rotate the platform's signing keys (see docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lti_platform.keys import RotationTooSoonError, ensure_keys, rotate_keys


class Command(BaseCommand):
    help = (
        "Promote the published next key to signing, retire the current key (it stays in the "
        "JWKS for LTI_RETIRED_KEY_GRACE seconds) and publish a new next key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--init", action="store_true", help="only create keys when there is no active key"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="rotate even if the next key was published less than LTI_JWKS_MAX_AGE ago",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["init"]:
            created = ensure_keys()
            self.stdout.write("created signing keys" if created else "signing keys present")
            return
        try:
            result = rotate_keys(force=options["force"])
        except RotationTooSoonError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"signing with {result.activated}; retired {result.retired}; "
            f"published next {result.published_next}; pruned {result.pruned}"
        )
