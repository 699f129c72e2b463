"""dbtools.at_rest: which key encrypts, which keys decrypt, and that purposes never cross."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet

from dbtools import at_rest

KEYS = b"platform-key-at-rest"
PASSWORDS = b"lrs-password-at-rest"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _no_list(settings: Any) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = []
    settings.SECRET_KEY_FALLBACKS = []


def test_a_secret_under_the_derived_key_stays_readable_when_a_list_is_introduced(
    settings: Any,
) -> None:
    token = at_rest.encrypt(b"pem", purpose=KEYS)
    assert at_rest.key_state(token, purpose=KEYS) is at_rest.KeyState.CURRENT
    settings.LTI_KEY_ENCRYPTION_KEYS = [NEW_KEY]
    assert at_rest.decrypt(token, purpose=KEYS) == b"pem"
    assert at_rest.key_state(token, purpose=KEYS) is at_rest.KeyState.OLD


def test_the_first_listed_key_encrypts_and_the_others_only_decrypt(settings: Any) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [OLD_KEY]
    under_old = at_rest.encrypt(b"pem", purpose=KEYS)
    settings.LTI_KEY_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    under_new = at_rest.encrypt(b"pem", purpose=KEYS)
    assert at_rest.key_state(under_old, purpose=KEYS) is at_rest.KeyState.OLD
    assert at_rest.key_state(under_new, purpose=KEYS) is at_rest.KeyState.CURRENT
    settings.LTI_KEY_ENCRYPTION_KEYS = [NEW_KEY]
    settings.SECRET_KEY = "another-secret-key"  # the derived fallback cannot help either
    assert at_rest.decrypt(under_new, purpose=KEYS) == b"pem"
    with pytest.raises(at_rest.InvalidToken):
        at_rest.decrypt(under_old, purpose=KEYS)
    assert at_rest.key_state(under_old, purpose=KEYS) is at_rest.KeyState.UNREADABLE


def test_without_a_list_nothing_listed_decrypts(settings: Any) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = [NEW_KEY]
    token = at_rest.encrypt(b"pem", purpose=KEYS)
    settings.LTI_KEY_ENCRYPTION_KEYS = []
    with pytest.raises(at_rest.InvalidToken):
        at_rest.decrypt(token, purpose=KEYS)


def test_reencrypt_keeps_the_secret_and_puts_it_under_the_first_key(settings: Any) -> None:
    token = at_rest.encrypt(b"pem", purpose=KEYS)
    settings.LTI_KEY_ENCRYPTION_KEYS = [NEW_KEY]
    renewed = at_rest.reencrypt(token, purpose=KEYS)
    assert at_rest.key_state(renewed, purpose=KEYS) is at_rest.KeyState.CURRENT
    settings.SECRET_KEY = "another-secret-key"
    assert at_rest.decrypt(renewed, purpose=KEYS) == b"pem"
    with pytest.raises(at_rest.InvalidToken):
        at_rest.reencrypt(at_rest.encrypt(b"pw", purpose=PASSWORDS), purpose=KEYS)


@pytest.mark.parametrize("listed", [[], [NEW_KEY], [NEW_KEY, OLD_KEY]])
def test_a_secret_of_one_purpose_never_decrypts_as_another(
    settings: Any, listed: list[str]
) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = listed
    token = at_rest.encrypt(b"lrs password", purpose=PASSWORDS)
    assert at_rest.decrypt(token, purpose=PASSWORDS) == b"lrs password"
    with pytest.raises(at_rest.InvalidToken):
        at_rest.decrypt(token, purpose=KEYS)
    assert at_rest.key_state(token, purpose=KEYS) is at_rest.KeyState.UNREADABLE


def test_a_token_made_with_a_listed_key_itself_still_decrypts_until_re_encrypted(
    settings: Any,
) -> None:
    # Before per-purpose subkeys, a listed key encrypted every kind itself.
    legacy = Fernet(NEW_KEY.encode()).encrypt(b"pem")
    settings.LTI_KEY_ENCRYPTION_KEYS = [NEW_KEY]
    assert at_rest.decrypt(legacy, purpose=KEYS) == b"pem"
    assert at_rest.key_state(legacy, purpose=KEYS) is at_rest.KeyState.OLD
    renewed = at_rest.reencrypt(legacy, purpose=KEYS)
    with pytest.raises(at_rest.InvalidToken):
        at_rest.decrypt(renewed, purpose=PASSWORDS)  # now bound to its purpose


def test_the_key_derived_from_a_previous_secret_key_decrypts(settings: Any) -> None:
    token = at_rest.encrypt(b"pem", purpose=KEYS)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-rotated-secret-key"
    assert at_rest.decrypt(token, purpose=KEYS) == b"pem"
    assert at_rest.key_state(token, purpose=KEYS) is at_rest.KeyState.OLD


def test_a_malformed_listed_key_is_refused(settings: Any) -> None:
    settings.LTI_KEY_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ValueError, match="Fernet key must be 32 url-safe base64-encoded bytes"):
        at_rest.encrypt(b"pem", purpose=KEYS)
