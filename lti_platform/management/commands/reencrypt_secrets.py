"""Re-encrypt the secrets kept at rest under the first key (see docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dbtools.reencrypt import UnreadableSecretsError, check_secrets, reencrypt_secrets

# Exit statuses besides 0 (every secret under the first key, or now re-encrypted).
OLD_SECRETS = 1  # --check: some secrets are still under an older key
UNREADABLE = 2  # a secret no configured key decrypts; nothing was written


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret stored encrypted (platform signing keys, LRS passwords, IdP "
        "client secrets, MFA secrets) with the first MANABI_KEY_ENCRYPTION_KEYS key (or the "
        "key derived from the secret key without the list), in one transaction. Run it after "
        "adding a new key first; then the old key can be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help=(
                "write nothing; report the secrets not yet under the first key and exit with "
                f"status {OLD_SECRETS} if there are any"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checking = options["check"]
        try:
            reports = check_secrets() if checking else reencrypt_secrets()
        except UnreadableSecretsError as exc:
            raise CommandError(f"{exc}; nothing was written", returncode=UNREADABLE) from exc
        verb = "under an older key" if checking else "re-encrypted"
        for report in reports:
            self.stdout.write(f"{report.kind}: {report.secrets} secret(s), {report.old} {verb}")
        old = sum(report.old for report in reports)
        if not checking:
            self.stdout.write(f"re-encrypted {old} secret(s) with the first key")
        elif old:
            raise CommandError(
                f"{old} secret(s) are not under the first key; run manage.py reencrypt_secrets",
                returncode=OLD_SECRETS,
            )
        else:
            self.stdout.write("every secret is under the first key")
