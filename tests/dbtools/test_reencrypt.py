"""``manage.py reencrypt_secrets``: every secret stored at rest moves to the first key in one
transaction, ``--check`` counts, and a secret no key decrypts stops the run with nothing written.

One secret of each kind the apps declare (``encrypted_fields`` on their AppConfig): the
migration's two platform signing keys, an LRS password, an IdP client secret, a TOTP secret
and a recovery-code seed.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt as mfa_decrypt
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from dbtools import at_rest
from dbtools.reencrypt import encrypted_fields
from lti_platform.keys import decrypt_private_key
from lti_platform.models import PlatformKey
from sso.models import IdentityProvider
from studylog import forwarder
from studylog.models import LrsEndpoint
from tests.factories import DistrictFactory, UserFactory
from tests.sso.idps import make_idp

pytestmark = pytest.mark.django_db

FIRST_KEY = Fernet.generate_key().decode()
SECOND_KEY = Fernet.generate_key().decode()
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def all_under_older_key() -> str:
    return (
        "lti_platform.PlatformKey.private_key_encrypted: 2 secret(s), 2 under an older key\n"
        "studylog.LrsEndpoint.password_encrypted: 1 secret(s), 1 under an older key\n"
        "sso.IdentityProvider.client_secret_at_rest: 1 secret(s), 1 under an older key\n"
        "mfa.Authenticator.data: 2 secret(s), 2 under an older key\n"
    )


@pytest.fixture
def secrets(settings: Any) -> dict[str, Any]:
    """One secret of each kind, stored under the key derived from SECRET_KEY (no list)."""
    settings.LTI_KEY_ENCRYPTION_KEYS = []
    board = DistrictFactory.create()
    lrs = LrsEndpoint(board=board, name="まなび市 LRS", url="https://lrs.example.jp/xapi/")
    forwarder.set_password(lrs, "lrs-password")
    lrs.save()
    make_idp(board, secret="idp-client-secret")
    user = UserFactory.create()
    TOTP.activate(user, TOTP_SECRET)
    RecoveryCodes.activate(user)
    return readable()


def readable() -> dict[str, Any]:
    """Every secret, decrypted by its owner's own code."""
    totp = Authenticator.objects.get(type=Authenticator.Type.TOTP)
    codes = Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES)
    return {
        "platform keys": [
            decrypt_private_key(k.private_key_encrypted) for k in PlatformKey.objects.order_by("pk")
        ],
        "lrs": forwarder.decrypt_password(LrsEndpoint.objects.get().password_encrypted),
        "idp": IdentityProvider.objects.get().client_secret(),
        "totp": mfa_decrypt(totp.data["secret"]),
        "seed": mfa_decrypt(codes.data["seed"]),
    }


def stored() -> dict[str, dict[Any, Any]]:
    """The stored value of every declared encrypted field, by kind and row."""
    snapshot: dict[str, dict[Any, Any]] = {}
    for spec in encrypted_fields():
        rows = spec.model()._base_manager.filter(**spec.rows).values_list("pk", spec.field)
        snapshot[spec.kind] = {
            pk: bytes(value) if isinstance(value, memoryview) else value for pk, value in rows
        }
    return snapshot


def run(*args: str) -> str:
    out = StringIO()
    call_command("reencrypt_secrets", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        run(*args)
    return caught.value


def test_every_app_declares_its_encrypted_fields_once() -> None:
    assert [spec.kind for spec in encrypted_fields()] == [
        "lti_platform.PlatformKey.private_key_encrypted",
        "studylog.LrsEndpoint.password_encrypted",
        "sso.IdentityProvider.client_secret_at_rest",
        "mfa.Authenticator.data",
    ]


def test_introducing_the_list_later_keeps_every_secret_and_the_command_moves_them(
    settings: Any, secrets: dict[str, Any]
) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [FIRST_KEY]
    assert readable() == secrets
    before = stored()
    error = refused("--check")
    assert (error.returncode, str(error)) == (
        1,
        "6 secret(s) are not under the first key; run manage.py reencrypt_secrets",
    )
    assert stored() == before  # --check writes nothing

    assert run() == (
        all_under_older_key().replace("under an older key", "re-encrypted")
        + "re-encrypted 6 secret(s) with the first key\n"
    )
    assert run("--check") == (
        all_under_older_key()
        .replace(", 2 under an older key", ", 0 under an older key")
        .replace(", 1 under an older key", ", 0 under an older key")
        + "every secret is under the first key\n"
    )
    # No longer under the derived key: a new SECRET_KEY does not lose them.
    settings.SECRET_KEY = "a-new-secret-key-for-the-portal"
    assert readable() == secrets


def test_rotation_add_the_new_key_first_re_encrypt_then_remove_the_old_one(
    settings: Any, secrets: dict[str, Any]
) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [FIRST_KEY]
    run()
    settings.LTI_KEY_ENCRYPTION_KEYS = [SECOND_KEY, FIRST_KEY]
    assert readable() == secrets
    assert refused("--check").returncode == 1
    run()
    settings.LTI_KEY_ENCRYPTION_KEYS = [SECOND_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-portal"
    assert readable() == secrets
    assert run("--check").endswith("every secret is under the first key\n")


def test_a_second_run_writes_nothing(settings: Any, secrets: dict[str, Any]) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [FIRST_KEY]
    run()
    after_first = stored()
    assert run().endswith("re-encrypted 0 secret(s) with the first key\n")
    assert stored() == after_first


def test_a_secret_no_key_decrypts_stops_the_run_and_nothing_is_written(
    settings: Any, secrets: dict[str, Any]
) -> None:
    # Another kind's token in the IdP's column: the purposes do not cross.
    idp = IdentityProvider.objects.get()
    foreign = at_rest.encrypt(b"lrs-password", purpose=forwarder.PASSWORD_PURPOSE)
    IdentityProvider.objects.filter(pk=idp.pk).update(client_secret_at_rest=foreign.decode())
    settings.LTI_KEY_ENCRYPTION_KEYS = [FIRST_KEY]
    before = stored()
    message = (
        "no configured key decrypts the secrets of 1 row(s): "
        f"sso.IdentityProvider.client_secret_at_rest of row {idp.pk}; nothing was written"
    )
    for args in [(), ("--check",)]:
        error = refused(*args)
        assert (error.returncode, str(error)) == (2, message)
        assert stored() == before
    # The other secrets were left as they were, under the derived key.
    lrs = LrsEndpoint.objects.get()
    assert forwarder.decrypt_password(lrs.password_encrypted) == "lrs-password"
    state = at_rest.key_state(lrs.password_encrypted, purpose=forwarder.PASSWORD_PURPOSE)
    assert state is at_rest.KeyState.OLD


def test_a_removed_key_makes_its_secrets_unreadable_and_the_command_says_which(
    settings: Any, secrets: dict[str, Any]
) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [FIRST_KEY]
    run()
    settings.LTI_KEY_ENCRYPTION_KEYS = [SECOND_KEY]  # FIRST_KEY dropped before re-encrypting
    before = stored()
    error = refused()
    rows = [f"{kind} of row {pk}" for kind, values in before.items() for pk in sorted(values)]
    assert (error.returncode, str(error)) == (
        2,
        f"no configured key decrypts the secrets of 6 row(s): {', '.join(rows)}; "
        "nothing was written",
    )
    assert stored() == before
