"""The kind-specific checks of an upstream identity's claims, and the subject each kind keys on.

Google: the ``hd`` claim names the Workspace domain of the account; asking Google for ``hd``
in the authorization request only chooses the account picker's domain, so the ID token's
``hd`` is what we check (https://developers.google.com/identity/openid-connect/openid-connect
"hd parameter"). A consumer account (gmail.com) has no ``hd``.

Microsoft Entra ID: ``tid`` is the tenant, ``oid`` the person's immutable id in that tenant;
together they identify a person across applications. ``email`` and ``preferred_username``
are mutable and not verified, so they never key an account
(https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class ClaimRefused(Exception):
    """The claims fail a rule: ``reason`` is a ``FailureReason`` value; ``detail`` no person."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def normalise_domain(domain: str) -> str:
    return domain.strip().strip(".").casefold()


def email_domain(email: str) -> str:
    """The domain of an address (after the last ``@``), normalised; empty without one."""
    local, at, domain = email.rpartition("@")
    return normalise_domain(domain) if at and local else ""


def check_google_hd(claims: Mapping[str, Any], allowed_domains: Iterable[str]) -> None:
    """Refuse unless ``hd`` is one of the allowed Workspace domains (and an allowed one exists)."""
    allowed = {normalise_domain(d) for d in allowed_domains if d.strip()}
    hd = claims.get("hd")
    if not isinstance(hd, str) or not hd:
        raise ClaimRefused("wrong_domain", "hd missing")
    if normalise_domain(hd) not in allowed:
        raise ClaimRefused("wrong_domain", f"hd={hd[:100]}")


def check_entra_tid(claims: Mapping[str, Any], tenant_id: str) -> None:
    """Refuse unless ``tid`` is the configured tenant (a GUID, compared case-insensitively)."""
    tid = claims.get("tid")
    if not isinstance(tid, str) or not tid:
        raise ClaimRefused("wrong_tenant", "tid missing")
    if not tenant_id or tid.strip().casefold() != tenant_id.strip().casefold():
        raise ClaimRefused("wrong_tenant", f"tid={tid[:64]}")


def entra_subject(claims: Mapping[str, Any]) -> str:
    """``tid:oid``, the key of an Entra ID person (never the e-mail)."""
    tid, oid = claims.get("tid"), claims.get("oid")
    if not isinstance(tid, str) or not tid or not isinstance(oid, str) or not oid:
        raise ClaimRefused("bad_response", "tid or oid missing")
    return f"{tid.casefold()}:{oid.casefold()}"


def claim_value(claims: Mapping[str, Any], name: str) -> str | None:
    """One string value of a claim or attribute; SAML attributes come as lists of one.

    None when absent, empty, not a string, or several different values (no guessing which).
    """
    value = claims.get(name)
    if isinstance(value, list | tuple):
        values = {v for v in value if isinstance(v, str) and v}
        if len(values) != 1:
            return None
        value = values.pop()
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def is_true(value: Any) -> bool:
    """``email_verified`` as IdPs send it: a JSON boolean, or (some) the string "true"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
