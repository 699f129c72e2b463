"""One-time upstream assertions (SAML ``ID``, an ID token's ``jti`` or ``nonce``).

``consume(idp=…, assertion_id=…, expires_at=…)`` inserts a unique row: the first caller wins
in every worker process, a second is told it is a replay. The row is kept until the assertion
would have expired anyway (``prune``).
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdentityProvider, UsedAssertion


def consume(*, idp: IdentityProvider, assertion_id: str, expires_at: datetime.datetime) -> bool:
    """True the first time ``assertion_id`` is seen for ``idp`` (and records it); else False."""
    if not assertion_id or len(assertion_id) > 255:
        return False
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(idp=idp, assertion_id=assertion_id, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def prune(now: datetime.datetime | None = None) -> int:
    """Delete rows whose assertions have expired; returns how many."""
    deleted, _ = UsedAssertion.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
