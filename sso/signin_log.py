"""The sign-in failure log of upstream identity providers: write it here, read it per org."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.crypto import salted_hmac

from .models import FailureReason, IdentityProvider, SignInFailure
from .protocol.claims import email_domain

_SALT = "manabi.sso.signin_log.subject"


def subject_digest(idp: IdentityProvider, subject: str) -> str:
    """A keyed digest of an upstream subject: the same person shows as the same value."""
    if not subject:
        return ""
    return salted_hmac(_SALT, f"{idp.pk}\x00{subject}", algorithm="sha256").hexdigest()


def record_failure(
    idp: IdentityProvider,
    reason: FailureReason,
    *,
    subject: str = "",
    email: str = "",
    detail: str = "",
) -> SignInFailure:
    """Record a refused sign-in: the subject as a digest, the e-mail as its domain only."""
    return SignInFailure.objects.create(
        idp=idp,
        reason=reason,
        subject_digest=subject_digest(idp, subject),
        email_domain=email_domain(email)[:255],
        detail=detail[:300],
    )


def recent_failures(idps: QuerySet[IdentityProvider], limit: int = 100) -> QuerySet[SignInFailure]:
    """The newest failures of these providers (the caller scopes them to an administered org)."""
    return SignInFailure.objects.filter(idp__in=idps).select_related("idp").order_by("-at")[:limit]
