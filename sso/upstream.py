"""Upstream sign-in through allauth's socialaccount: the identity provider of a login, the
identity it asserted, and the page that refuses it.

``sso.adapter.RosterSocialAccountAdapter`` (allauth's one extension point) calls these: the
portal's own rules — an ``IdentityProvider`` row for every app, enabled, the kind's checks
and the roster match (``sso.matching``) — run inside allauth's flow, before any session or
``SocialAccount`` row exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from portal import age
from roster.models import User

from . import matching, signin_log
from .models import FailureReason, IdentityProvider, IdpKind
from .protocol import claims as claim_rules

OIDC_PROVIDER = "openid_connect"
# What a linked OpenID Connect account keeps of the ID token (allauth keeps all of it
# otherwise: names and addresses the portal does not need).
KEPT_CLAIMS = ("iss", "sub", "aud", "hd", "tid", "oid")


class UpstreamRefused(Exception):
    """An upstream sign-in refused: ``reason`` for the log, ``idp`` when one is known."""

    def __init__(
        self, reason: FailureReason, *, idp: IdentityProvider | None = None, detail: str = ""
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.idp = idp
        self.detail = detail


def idp_of_app(app: Any) -> IdentityProvider:
    """The portal's configuration of an allauth app; an app without one is not usable."""
    try:
        return IdentityProvider.objects.select_related("org", "org__parent", "app").get(
            app_id=app.pk
        )
    except IdentityProvider.DoesNotExist:
        raise UpstreamRefused(FailureReason.DISABLED, detail="not configured") from None


def oidc_claims(extra_data: Mapping[str, Any]) -> dict[str, Any]:
    """The userinfo and ID-token claims together; the (signed) ID token's win."""
    merged: dict[str, Any] = {}
    for part in ("userinfo", "id_token"):
        value = extra_data.get(part)
        if isinstance(value, Mapping):
            merged.update(value)
    return merged


def identity_of(
    idp: IdentityProvider, sociallogin: Any, claims: Mapping[str, Any]
) -> matching.UpstreamIdentity:
    """The ``UpstreamIdentity`` of a social login, whatever the protocol."""
    if idp.kind == IdpKind.SAML:
        addresses = list(getattr(sociallogin, "email_addresses", []) or [])
        first = addresses[0] if addresses else None
        return matching.UpstreamIdentity(
            subject=str(sociallogin.account.uid),
            claims=claims,
            email=first.email if first else "",
            email_verified=bool(first and first.verified),
        )
    email = claims.get("email")
    return matching.UpstreamIdentity(
        subject=str(sociallogin.account.uid),
        claims=claims,
        email=email if isinstance(email, str) else "",
        email_verified=claim_rules.is_true(claims.get("email_verified")),
    )


def key_account(idp: IdentityProvider, sociallogin: Any) -> dict[str, Any]:
    """Key the account as the kind says and keep only the claims needed; return all claims.

    Entra ID accounts are ``tid:oid`` (never the e-mail, which a tenant's admin can change).
    Called before allauth looks the account up, so the lookup uses this key.
    """
    extra = sociallogin.account.extra_data or {}
    if sociallogin.account.provider != idp.provider_id or idp.kind == IdpKind.SAML:
        return dict(extra)
    claims = oidc_claims(extra)
    if idp.kind == IdpKind.ENTRA:
        try:
            sociallogin.account.uid = claim_rules.entra_subject(claims)
        except claim_rules.ClaimRefused as refused:
            raise UpstreamRefused(
                FailureReason(refused.reason), idp=idp, detail=refused.detail
            ) from None
    kept = {name: claims[name] for name in KEPT_CLAIMS if name in claims}
    if idp.match_claim and idp.match_claim in claims:
        kept[idp.match_claim] = claims[idp.match_claim]
    sociallogin.account.extra_data = {"id_token": kept}
    return claims


def admit(idp: IdentityProvider, sociallogin: Any, claims: Mapping[str, Any]) -> User:
    """The roster user this login signs in as, or ``UpstreamRefused`` (recorded by the caller).

    A new identity is matched and linked; a linked one is checked again (the provider still
    on, the kind's checks, the user still of the organisation, active, of an admitted role).
    """
    identity = identity_of(idp, sociallogin, claims)
    try:
        if sociallogin.is_existing:
            if not idp.enabled:
                raise matching.MatchRefused(FailureReason.DISABLED)
            matching.check_restrictions(idp, identity)
            return matching.check_user(idp, sociallogin.user)
        user = matching.match_user(idp, identity)
    except matching.MatchRefused as refused:
        raise UpstreamRefused(refused.reason, idp=idp, detail=refused.detail) from None
    # One upstream identity per user and provider: a second identity naming a user already
    # linked (another account claiming the same username or address) is not let in.
    if SocialAccount.objects.filter(user=user, provider=idp.provider_id).exists():
        raise UpstreamRefused(FailureReason.LINKED_ELSEWHERE, idp=idp)
    return user


def record(
    refused: UpstreamRefused, sociallogin: Any = None, claims: Mapping[str, Any] | None = None
) -> None:
    """Log a refusal for the provider's administrators (nothing when no provider is known)."""
    if refused.idp is None:
        return
    subject = str(sociallogin.account.uid) if sociallogin is not None else ""
    email = (claims or {}).get("email")
    signin_log.record_failure(
        refused.idp,
        refused.reason,
        subject=subject,
        email=email if isinstance(email, str) else "",
        detail=refused.detail,
    )


def refusal_page(request: HttpRequest, refused: UpstreamRefused) -> HttpResponse:
    """A page a first-grader can read: it did not work, show this to your teacher.

    Nobody is signed in yet, so the child's grade is not known: the page is in kana with
    furigana (``portal.age``'s choice for a page first-graders use before sign-in; English
    stays English), unless the provider admits staff only. ``portal.age.ScreenStyleMiddleware``
    renders the furigana, as for every page answered in ``ja-hira``.
    """
    idp = refused.idp
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    if signed_in or idp is None or idp.allow_students:
        asked = translation.get_language()
        language = age.language_for(
            age.screen_style(user), asked, signed_in=signed_in, kana_first=True
        )
        if language != asked:
            translation.activate(language)
            request.LANGUAGE_CODE = language
    return render(
        request,
        "sso/signin_refused.html",
        {
            "reason": refused.reason,
            "org": idp.org if idp is not None else None,
            "idp": idp,
            "staff_only": idp is not None and not idp.allow_students,
        },
        status=HTTPStatus.FORBIDDEN,
    )
