"""JOSE helpers: RSA keys, RFC 7638 thumbprints, JWKS documents and RS256 signing."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ALGORITHM = "RS256"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def generate_private_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_key_to_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("only RSA signing keys are supported")
    return key


def public_jwk_fields(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}


def thumbprint(jwk_fields: Mapping[str, str]) -> str:
    """Return the RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key."""
    required = {k: jwk_fields[k] for k in ("e", "kty", "n")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode("ascii")
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    """Return the public JWK with ``kid`` (RFC 7638 thumbprint), ``alg`` and ``use``."""
    fields = public_jwk_fields(key)
    return {**fields, "kid": thumbprint(fields), "alg": ALGORITHM, "use": "sig"}


def jwks(keys: Iterable[Mapping[str, str]]) -> dict[str, list[dict[str, str]]]:
    return {"keys": [dict(k) for k in keys]}


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key object with its kid; build once per process and reuse."""

    kid: str
    private_key: rsa.RSAPrivateKey

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(
            dict(claims), self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid}
        )
