"""Client secrets are stored salted SHA-256; people's passwords never are."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from oidc_clients.hashers import ClientSecretHasher


def test_a_secret_hash_verifies_only_its_secret() -> None:
    encoded = make_password("s3cret-256-bits", hasher=ClientSecretHasher.algorithm)
    algorithm, salt, digest = encoded.split("$")
    assert algorithm == "manabi_client_secret_sha256"
    assert len(salt) >= 22 and len(digest) == 64
    assert check_password("s3cret-256-bits", encoded)
    assert not check_password("s3cret-256-bitz", encoded)
    assert make_password("s3cret-256-bits", hasher=ClientSecretHasher.algorithm) != encoded


def test_a_persons_password_is_hashed_by_the_first_hasher_not_this_one() -> None:
    assert identify_hasher(make_password("manabi-demo")).algorithm != ClientSecretHasher.algorithm
