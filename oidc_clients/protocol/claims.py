"""The claims an OIDC client receives (OpenID Connect Core 1.0 §5): ``sub``, the standard
profile and e-mail claims the board's privacy level allows, and the portal's roster claim.

A claim appears only when three things allow it: the client asked for its scope (§5.4), the
board's privacy level for the client allows it, and the roster has a value. The roster claim
(school, grade, role) is sent at every level, as the LTI launch sends its context and roles at
``id_only``: it names no person.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

# A collision-resistant name (Core §5.1.2) for the portal's own claim.
ROSTER_CLAIM = "urn:manabi-hub:claims:roster"
# Kana names as language-tagged claims (Core §5.2): the roster keeps them in hiragana.
KANA_TAG = "ja-Hira"

SCOPES = ("openid", "profile", "email")
PROFILE_CLAIMS = (
    "name",
    "family_name",
    "given_name",
    f"name#{KANA_TAG}",
    f"family_name#{KANA_TAG}",
    f"given_name#{KANA_TAG}",
)
EMAIL_CLAIMS = ("email", "email_verified")
CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    *PROFILE_CLAIMS,
    *EMAIL_CLAIMS,
    ROSTER_CLAIM,
)


@dataclass(frozen=True)
class Person:
    """What the roster says about a person (privacy decides what is sent)."""

    family_name: str
    given_name: str
    kana_family_name: str
    kana_given_name: str
    email: str
    email_verified: bool


@dataclass(frozen=True)
class Org:
    id: str  # sourcedId
    name: str
    code: str  # 学校コード or the board's code; "" when unknown


@dataclass(frozen=True)
class Roster:
    """Where the person is: the board, their school (None for the board's own staff), their
    grade code (students) and roster role."""

    board: Org
    school: Org | None
    grade: str
    role: str


@dataclass(frozen=True)
class Privacy:
    share_name: bool
    share_email: bool


def full_name(family: str, given: str) -> str:
    """Japanese order, family name first, joined by a full-width space (as the portal shows)."""
    return "\u3000".join(n for n in (family, given) if n)


def _org(org: Org) -> dict[str, str]:
    value = {"id": org.id, "name": org.name}
    if org.code:
        value["code"] = org.code
    return value


def roster_claim(roster: Roster) -> dict[str, Any]:
    claim: dict[str, Any] = {"board": _org(roster.board), "role": roster.role}
    if roster.school is not None:
        claim["school"] = _org(roster.school)
    if roster.grade:
        claim["grade"] = roster.grade
    return claim


def user_claims(
    *,
    subject: str,
    person: Person,
    roster: Roster | None,
    scopes: Collection[str],
    privacy: Privacy,
) -> dict[str, Any]:
    """The claims of an ID token or a UserInfo answer: never more than the privacy allows."""
    claims: dict[str, Any] = {"sub": subject}
    if "profile" in scopes and privacy.share_name:
        names = {
            "name": full_name(person.family_name, person.given_name),
            "family_name": person.family_name,
            "given_name": person.given_name,
            f"name#{KANA_TAG}": full_name(person.kana_family_name, person.kana_given_name),
            f"family_name#{KANA_TAG}": person.kana_family_name,
            f"given_name#{KANA_TAG}": person.kana_given_name,
        }
        claims.update({k: v for k, v in names.items() if v})
    if "email" in scopes and privacy.share_email and person.email:
        claims["email"] = person.email
        claims["email_verified"] = person.email_verified
    if roster is not None:
        claims[ROSTER_CLAIM] = roster_claim(roster)
    return claims


def pairwise_subject(salt: bytes, local_id: str) -> str:
    """A pairwise subject identifier (Core §8.1) in UUID form: HMAC-SHA256 of the e-portal
    UUID under the client's own salt, so two clients cannot correlate their users and the
    value survives secret rotations (it does not depend on the secret key)."""
    raw = bytearray(hmac.new(salt, local_id.encode(), hashlib.sha256).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8, "custom" (RFC 9562 §5.8)
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 9562 variant
    return str(uuid.UUID(bytes=bytes(raw)))
