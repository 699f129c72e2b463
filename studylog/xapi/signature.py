"""Signed statements (xAPI 1.0.3 Data §2.6): checking that a signature is well formed.

A signed statement carries a JWS (compact serialization) as an attachment of usageType
``http://adlnet.gov/expapi/attachments/signature`` and contentType ``application/octet-stream``.
The LRS MUST refuse a malformed signature with 400: it decodes the JWS, checks that the
algorithm is RS256, RS384 or RS512, that the payload is the statement "logically equivalent" to
the one received (ignoring what the LRS may set: ``id``, ``authority``, ``stored``,
``timestamp``, ``version``; the payload is the statement before the signature was attached, so
the signature attachment is left out too), and, when the header carries an X.509 certificate
(``x5c``), that the signature verifies against it. Without ``x5c`` there is no key to verify
against: the specification makes the check a way to catch mistakes, not an authentication.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography import x509

from .errors import StatementInvalid
from .validation import normalise_context_activities

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
ALGORITHMS = ("RS256", "RS384", "RS512")
_LRS_SET = ("id", "authority", "stored", "timestamp", "version")


def _without_signature(statement: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in normalise_context_activities(statement).items() if k not in _LRS_SET}
    attachments = [
        a
        for a in out.get("attachments", ())
        if not (isinstance(a, Mapping) and a.get("usageType") == SIGNATURE_USAGE)
    ]
    if attachments:
        out["attachments"] = attachments
    else:
        out.pop("attachments", None)
    return out


def check_signature(statement: Mapping[str, Any], token: bytes, path: str) -> None:
    """Raise StatementInvalid (400) unless ``token`` is a well-formed signature of
    ``statement``; ``path`` names the signature attachment in the reason."""

    def refuse(why: str) -> StatementInvalid:
        return StatementInvalid(f"{path}: the signature {why}", path)

    try:
        text = token.decode("ascii").strip()
        header = jwt.get_unverified_header(text)
        unverified = jwt.api_jws.decode_complete(text, options={"verify_signature": False})
    except (UnicodeDecodeError, RecursionError, jwt.PyJWTError) as exc:
        raise refuse(f"is not a JWS in compact serialization ({exc})") from exc
    if not isinstance(header, dict):
        raise refuse("header is not a JSON object")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise refuse(f"must use RS256, RS384 or RS512, got {algorithm!r}")
    try:
        payload = json.loads(unverified["payload"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise refuse("payload is not a JSON statement") from exc
    if not isinstance(payload, dict) or _without_signature(payload) != _without_signature(
        statement
    ):
        raise refuse(
            "payload is not the statement received (ignoring id, authority, stored, "
            "timestamp, version and the signature attachment)"
        )
    chain = header.get("x5c")
    if chain is None:
        return
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
        jwt.api_jws.decode(text, certificate.public_key(), algorithms=[algorithm])  # type: ignore[arg-type]
    except (binascii.Error, ValueError, TypeError, IndexError, KeyError) as exc:
        raise refuse(f"header's x5c is not a base64 DER X.509 certificate ({exc})") from exc
    except jwt.PyJWTError as exc:
        raise refuse(f"does not verify against the x5c certificate ({exc})") from exc
