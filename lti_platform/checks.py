"""System checks of the LTI platform."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError


@register("lti_platform")
def check_signing_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """lti_platform.E001: there must be an active signing key (once the table exists)."""
    from .models import KeyStatus, PlatformKey

    try:
        has_key = PlatformKey.objects.filter(status=KeyStatus.ACTIVE).exists()
    except DatabaseError:
        return []  # not migrated yet; migrate creates the first keys
    if has_key:
        return []
    return [
        Error(
            "There is no active LTI signing key.",
            hint="Run `python manage.py rotate_signing_keys --init`.",
            id="lti_platform.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_key_encryption_key(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """lti_platform.W010 (``check --deploy``): no MANABI_KEY_ENCRYPTION_KEYS, so the secrets at
    rest (``dbtools.at_rest``: signing keys, LRS passwords, IdP client secrets, MFA secrets) are
    encrypted with a key derived from SECRET_KEY — by default ``secret_key`` in the data
    directory, beside the database: whoever copies the directory or a backup of it can decrypt
    them and, with the keys, sign launches as the platform."""
    if settings.LTI_KEY_ENCRYPTION_KEYS:
        return []
    return [
        Warning(
            "The secrets kept in the database (LTI signing keys, LRS passwords, IdP client "
            "secrets, MFA secrets) are encrypted at rest with a key derived from SECRET_KEY "
            "(with the default secret key file, the data directory alone decrypts them).",
            hint=(
                "Set MANABI_KEY_ENCRYPTION_KEYS to a Fernet key kept outside the data directory "
                'and its backups (generate one with `python -c "from cryptography.fernet import '
                'Fernet; print(Fernet.generate_key().decode())"`), then run `manage.py '
                "reencrypt_secrets` to put the secrets already stored under it."
            ),
            id="lti_platform.W010",
        )
    ]
