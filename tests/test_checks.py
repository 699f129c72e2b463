"""System checks with their ids: what ``manage.py check`` and ``check --deploy`` report."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.core.checks import Tags, Warning, run_checks

from lti_platform.checks import check_key_encryption_key

W010 = Warning(
    "The secrets kept in the database (LTI signing keys, LRS passwords, IdP client secrets, MFA "
    "secrets) are encrypted at rest with a key derived from SECRET_KEY (with the default secret "
    "key file, the data directory alone decrypts them).",
    hint=(
        "Set MANABI_KEY_ENCRYPTION_KEYS to a Fernet key kept outside the data directory and its "
        'backups (generate one with `python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"`), then run `manage.py reencrypt_secrets` to '
        "put the secrets already stored under it."
    ),
    id="lti_platform.W010",
)


def ids(messages: list[Any]) -> set[str]:
    return {m.id for m in messages}


def test_deploy_check_warns_when_the_key_encryption_key_is_derived(settings: Any) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = []
    assert check_key_encryption_key() == [W010]
    assert "lti_platform.W010" in ids(
        run_checks(tags=[Tags.security], include_deployment_checks=True)
    )
    # Only with --deploy: a development checkout is not nagged.
    assert "lti_platform.W010" not in ids(
        run_checks(tags=[Tags.security], include_deployment_checks=False)
    )


def test_deploy_check_is_quiet_with_a_configured_key(settings: Any) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert check_key_encryption_key() == []
    assert "lti_platform.W010" not in ids(
        run_checks(tags=[Tags.security], include_deployment_checks=True)
    )
