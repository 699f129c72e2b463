"""Which roster user an upstream identity is: the one owner of the rule.

There is no self sign-up: an upstream identity either names an existing, active roster user
of the identity provider's organisation (a board: the board and its schools; a school: that
school) with a role the provider admits, or it is refused with a ``FailureReason``. A person
of another board or school never matches, whatever the claims say.

The kind's own restrictions come first (Google's ``hd``, Entra ID's ``tid``), then the
provider's rule (``MatchRule``):

- ``sourced_id`` / ``username``: the claim (OIDC) or attribute (SAML) ``match_claim`` holds
  the user's sourcedId or username;
- ``email``: the identity's e-mail, verified by the IdP, in one of ``allowed_domains``,
  equals exactly one user's address.

An identity already linked (allauth's ``SocialAccount``) is checked again with
``check_user`` on every sign-in: a user who left the organisation, was deactivated or whose
role the provider no longer admits is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from roster.models import Org, OrgType, RosterRole, User

from .models import FailureReason, IdentityProvider, IdpKind, MatchRule
from .protocol import claims as claim_rules

STAFF_ROLES = frozenset(
    {RosterRole.TEACHER, RosterRole.ADMINISTRATOR, RosterRole.DISTRICT_ADMINISTRATOR}
)


@dataclass(frozen=True)
class UpstreamIdentity:
    """What an IdP said about a person, whatever the protocol.

    ``subject``: the IdP's stable key for the person (OIDC ``sub``; Entra ``tid:oid``; SAML
    NameID). ``claims``: the ID token / userinfo claims or the SAML attributes (lists).
    """

    subject: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    email: str = ""
    email_verified: bool = False


class MatchRefused(Exception):
    """The identity is not let in; ``reason`` is what the administrators' page shows."""

    def __init__(self, reason: FailureReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


def check_restrictions(idp: IdentityProvider, identity: UpstreamIdentity) -> None:
    """The kind's own checks: Google's ``hd`` among the domains, Entra ID's ``tid`` the tenant."""
    try:
        if idp.kind == IdpKind.GOOGLE:
            claim_rules.check_google_hd(identity.claims, idp.allowed_domains)
        elif idp.kind == IdpKind.ENTRA:
            claim_rules.check_entra_tid(identity.claims, idp.tenant_id)
    except claim_rules.ClaimRefused as refused:
        raise MatchRefused(FailureReason(refused.reason), refused.detail) from None


def org_scope_q(org: Org, prefix: str = "org") -> Q:
    """People of ``org``: a board's own and its schools', a school's own."""
    if org.type == OrgType.DISTRICT:
        return Q(**{f"{prefix}_id": org.pk}) | Q(**{f"{prefix}__parent_id": org.pk})
    return Q(**{f"{prefix}_id": org.pk})


def _in_scope(idp: IdentityProvider, user: User) -> bool:
    if user.org_id is None:
        return False
    if user.org_id == idp.org_id:
        return True
    return bool(idp.org.type == OrgType.DISTRICT and user.org and user.org.parent_id == idp.org_id)


def check_user(idp: IdentityProvider, user: User) -> User:
    """Refuse a user the provider may not sign in: elsewhere, inactive, or a role it excludes.

    Operators (superusers, Django staff) and vendors never sign in upstream.
    """
    if not _in_scope(idp, user):
        raise MatchRefused(FailureReason.OTHER_ORG)
    if not user.is_active:
        raise MatchRefused(FailureReason.INACTIVE)
    if user.is_superuser or user.is_staff:
        raise MatchRefused(FailureReason.ROLE_NOT_ALLOWED, "operator")
    if user.role == RosterRole.STUDENT:
        allowed = idp.allow_students
    elif user.role in STAFF_ROLES:
        allowed = idp.allow_staff
    else:
        allowed = False
    if not allowed:
        raise MatchRefused(FailureReason.ROLE_NOT_ALLOWED, f"role={user.role}")
    return user


def _candidates(idp: IdentityProvider, identity: UpstreamIdentity) -> list[User]:
    """Every roster user (anywhere) the rule's value names; at most two are read."""
    users = User.objects.select_related("org")
    if idp.match_rule == MatchRule.EMAIL:
        if not identity.email_verified:
            raise MatchRefused(FailureReason.EMAIL_UNVERIFIED)
        domain = claim_rules.email_domain(identity.email)
        allowed = {claim_rules.normalise_domain(d) for d in idp.allowed_domains}
        if not domain or domain not in allowed:
            raise MatchRefused(FailureReason.WRONG_DOMAIN, f"email domain={domain[:100]}")
        return list(users.filter(email__iexact=identity.email.strip())[:2])
    value = claim_rules.claim_value(identity.claims, idp.match_claim) if idp.match_claim else None
    if value is None:
        raise MatchRefused(FailureReason.NO_MATCH_CLAIM, f"claim={idp.match_claim[:100]}")
    if idp.match_rule == MatchRule.SOURCED_ID:
        try:
            sourced_id = uuid.UUID(value)
        except ValueError:
            raise MatchRefused(FailureReason.UNMATCHED, "not a sourcedId") from None
        return list(users.filter(sourced_id=sourced_id)[:2])
    return list(users.filter(username=value)[:2])


def match_user(idp: IdentityProvider, identity: UpstreamIdentity) -> User:
    """The one roster user this identity is, or ``MatchRefused`` saying why not."""
    if not idp.enabled:
        raise MatchRefused(FailureReason.DISABLED)
    check_restrictions(idp, identity)
    found = _candidates(idp, identity)
    if not found:
        raise MatchRefused(FailureReason.UNMATCHED)
    in_scope = [user for user in found if _in_scope(idp, user)]
    if not in_scope:
        raise MatchRefused(FailureReason.OTHER_ORG)
    if len(found) > 1:
        raise MatchRefused(FailureReason.AMBIGUOUS)
    return check_user(idp, in_scope[0])
