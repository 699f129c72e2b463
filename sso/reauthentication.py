"""Reauthentication of accounts that sign in only through an upstream IdP.

allauth asks for the password again before a sensitive change (enrolling or removing a second
factor, ``reauthentication_required``). An account without a usable password — one that signs
in only through its board's IdP — has none to type, and allauth answered 403, so an
administrator of that kind could never enrol the MFA the portal requires of them.

For such an account (no usable password, linked to an upstream identity) an upstream sign-in
less than ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` ago (allauth's setting, 300 s) counts as the
reauthentication: the IdP has just checked who is there (the portal asks OpenID Connect and
Entra ID IdPs for ``prompt=login``; SAML IdPs and Google decide themselves). Later, allauth's
reauthentication page (``account_reauthenticate``) tells them to sign out and sign in again
through the IdP. ``sso.adapter.RosterAccountAdapter`` asks here.
"""

from __future__ import annotations

import time

from allauth.account import app_settings
from allauth.account.internal.flows.login import get_authentication_records
from allauth.socialaccount.models import SocialAccount
from django.http import HttpRequest

UPSTREAM_METHOD = "socialaccount"  # what allauth records for a sign-in through a provider


def signs_in_upstream_only(user: object) -> bool:
    """A signed-in account without a usable password that has an upstream identity."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_usable_password():  # type: ignore[attr-defined]
        return False
    return SocialAccount.objects.filter(user_id=user.pk).exists()  # type: ignore[attr-defined]


def upstream_sign_in_is_recent(request: HttpRequest | None, *, now: float | None = None) -> bool:
    """Whether this session's latest upstream sign-in is within the reauthentication window,
    for an account that signs in upstream only (anyone else: False)."""
    if request is None or not signs_in_upstream_only(request.user):
        return False
    records = [
        r
        for r in get_authentication_records(request, request.user)
        if r.get("method") == UPSTREAM_METHOD
    ]
    if not records:
        return False
    now = time.time() if now is None else now
    return now - float(records[-1]["at"]) < app_settings.REAUTHENTICATION_TIMEOUT
