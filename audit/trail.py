"""Record administrative changes (call inside the change's own transaction).

``record`` writes one ``AuditEvent`` with the acting user, the action, the target, the
organisation whose administrators may read it, and the values before and after (JSON; never a
secret: pass only what an administrator may see). ``events_for`` lists an organisation's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from roster.models import Org, User

from .models import AuditEvent

SECRET_KEYS = frozenset({"password", "secret", "token", "private_key", "client_secret"})


class NotInTransaction(RuntimeError):
    """An audit row must commit or roll back with the change it records."""


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("(secret)" if k in SECRET_KEYS else v) for k, v in values.items()}


def record(
    *,
    actor: User | None,
    action: str,
    target: Any,
    org: Org | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    target_type: str = "",
) -> AuditEvent:
    """Record one change in the current transaction (raises NotInTransaction outside one)."""
    if not connection.in_atomic_block:
        raise NotInTransaction(f"audit.record({action!r}) must run inside transaction.atomic()")
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_label=(actor.get_username() if actor is not None else ""),
        action=action,
        target_type=target_type or type(target).__name__.lower(),
        target_id=str(getattr(target, "pk", "") or ""),
        target_label=str(target)[:300],
        org=org,
        before=_clean(before),
        after=_clean(after),
    )


def events_for(org: Org) -> QuerySet[AuditEvent]:
    """An organisation's audit events, newest first (a board's include its schools')."""
    return AuditEvent.objects.filter(org__in=[org.pk, *org.children.values_list("pk", flat=True)])
