"""Whose statements a tool may send: the learners and teachers of the classes it is placed in.

A statement's actor must be an Agent identified by an ``account`` whose ``name`` is the
e-portal UUID the tool received as the launch's ``sub`` (any ``homePage``: tools name their own
account home). The person must be an active member (``roster.membership``) of a class where the
tool is placed (``tools_registry.visibility``) or has a live assignment. Anyone else — another
school's child, a person unknown here, an e-mail — is refused with a 400 naming the actor;
the answer does not say whether the person exists.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assignments.models import Assignment
from roster import membership
from roster.models import User
from tools_registry import visibility
from tools_registry.models import Registration

from ..capture import Where, where
from ..xapi.errors import StatementInvalid

CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Actor:
    user_pk: int
    place: Where  # the class the statement is filed under (the homeroom first)


class _Cache(threading.local):
    def __init__(self) -> None:
        self.entries: dict[tuple[int, uuid.UUID], tuple[float, Actor | None]] = {}


_cache = _Cache()


def clear_cache() -> None:
    _cache.entries.clear()


def _refuse(path: str, why: str) -> StatementInvalid:
    return StatementInvalid(f"{path}: {why}", path)


def eportal_uuid_of(actor: Any, path: str = "actor") -> uuid.UUID:
    if not isinstance(actor, Mapping) or actor.get("objectType", "Agent") != "Agent":
        raise _refuse(path, "must be one person (an Agent), not a Group")
    account = actor.get("account")
    if not isinstance(account, Mapping) or not isinstance(account.get("name"), str):
        raise _refuse(
            path,
            "must be identified by an account whose name is the person's e-portal UUID "
            "(the LTI launch's sub); e-mail, openid and mbox_sha1sum are not accepted here",
        )
    try:
        return uuid.UUID(account["name"])
    except ValueError as exc:
        raise _refuse(
            path + ".account.name", "must be the person's e-portal UUID (the LTI launch's sub)"
        ) from exc


def _lookup(registration: Registration, key: uuid.UUID) -> Actor | None:
    user = User.objects.filter(eportal_uuid=key, is_active=True).first()
    if user is None:
        return None
    enrollments = list(membership.enrollments_of(user))
    if not enrollments:
        return None
    classes = [e.school_class for e in enrollments]
    placed = {
        k.pk
        for p in visibility.candidate_placements(classes).filter(
            deployment__registration=registration
        )
        for k in classes
        if visibility.placed_in(p, k)
    }
    assigned = set(
        Assignment.objects.filter(
            school_class__in=classes,
            deployment__registration=registration,
            deployment__is_active=True,
            deleted_at__isnull=True,
        ).values_list("school_class_id", flat=True)
    )
    allowed = [k for k in classes if k.pk in placed | assigned]
    if not allowed:
        return None
    allowed.sort(key=lambda k: (k.pk != user.home_class_id, k.pk))
    return Actor(user.pk, where(allowed[0].pk))


def actor_for(registration: Registration, actor: Any, path: str = "actor") -> Actor:
    """The person a tool's statement is about, or StatementInvalid (400)."""
    key = eportal_uuid_of(actor, path)
    now = time.monotonic()
    hit = _cache.entries.get((registration.pk, key))
    if hit is not None and hit[0] > now:
        found = hit[1]
    else:
        found = _lookup(registration, key)
        if len(_cache.entries) > 20_000:
            _cache.entries.clear()
        _cache.entries[(registration.pk, key)] = (now + CACHE_SECONDS, found)
    if found is None:
        raise _refuse(
            path,
            "is not a learner or teacher of a class where this tool is placed "
            f"(account.name {key})",
        )
    return found
