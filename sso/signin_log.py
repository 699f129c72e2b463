"""The sign-in failure log of upstream identity providers: write it here, read it per org.

Anyone can bring a callback with a stale state, so the log is bounded: at most
``SSO_FAILURE_LOG_PER_MINUTE`` rows per provider and minute are written (the refusal itself
is answered all the same), and rows older than ``SSO_FAILURE_LOG_DAYS`` go when the next one
of that provider is written.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
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
) -> SignInFailure | None:
    """Record a refused sign-in: the subject as a digest, the e-mail as its domain only.

    None when the provider's minute is full (nothing written)."""
    now = timezone.now()
    per_minute = int(getattr(settings, "SSO_FAILURE_LOG_PER_MINUTE", 300))
    recent = SignInFailure.objects.filter(idp=idp, at__gt=now - datetime.timedelta(minutes=1))
    if recent.count() >= per_minute:
        return None
    days = int(getattr(settings, "SSO_FAILURE_LOG_DAYS", 90))
    SignInFailure.objects.filter(idp=idp, at__lt=now - datetime.timedelta(days=days)).delete()
    return SignInFailure.objects.create(
        idp=idp,
        at=now,
        reason=reason,
        subject_digest=subject_digest(idp, subject),
        email_domain=email_domain(email)[:255],
        detail=detail[:300],
    )


def recent_failures(idps: QuerySet[IdentityProvider], limit: int = 100) -> QuerySet[SignInFailure]:
    """The newest failures of these providers (the caller scopes them to an administered org)."""
    return SignInFailure.objects.filter(idp__in=idps).select_related("idp").order_by("-at")[:limit]
