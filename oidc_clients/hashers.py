"""The hash OIDC client secrets are stored with: salted SHA-256.

A slow hash (PBKDF2 at 1,000,000 iterations, about 220 ms of CPU here) protects passwords a
person chose and an attacker can guess. A client secret is 256 random bits the portal made
(``services._new_secret``): nobody can guess it, so a slow hash adds no protection and would
cost a quarter of a core-second at every code exchange — the 8:30 burst of children signing in
to a tool — and give anyone with a client id a cheap way to burn CPU with wrong secrets. This
hasher is listed last in ``PASSWORD_HASHERS``: it verifies the secrets stored with it and never
hashes a person's password (the first hasher does).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash, must_update_salt
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop


class ClientSecretHasher(BasePasswordHasher):
    """Salted SHA-256 for high-entropy machine secrets only; never for a person's password."""

    algorithm = "manabi_client_secret_sha256"

    def encode(self, password: str, salt: str) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("a secret and a salt without '$' are needed")
        digest = hashlib.sha256((salt + password).encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, str]:
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("not a client secret hash")
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        decoded = self.decode(encoded)
        return {
            gettext_noop("algorithm"): decoded["algorithm"],
            gettext_noop("salt"): mask_hash(decoded["salt"], show=2),
            gettext_noop("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return must_update_salt(self.decode(encoded)["salt"], self.salt_entropy)

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass  # no work factor to equalize
