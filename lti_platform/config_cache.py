"""Per-process cache of launch and service configuration: registrations, placements,
deployments and their grants, classes, line items and Bearer token rows.

Launches and score POSTs read the same few rows thousands of times a minute (a class of 35
launching at 8:30), so each worker process keeps them in memory. Every write to those tables —
``save()``, ``queryset.update()``, raw SQL, the admin, another process — bumps one counter row in
the database (triggers: ``lti_platform.generation``). The cache reads that counter, one small
SELECT, at its first use in each request, and outside requests (commands, worker threads,
websocket consumers) at most once every ``GENERATION_CHECK_SECONDS``; a different value clears
the whole cache. So the bound is: **a change committed before a request starts is seen by that
request, in every process; code outside requests sees it within one second.**

``LTI_CONFIG_CACHE_SECONDS`` stays as the lifetime of an entry (a backstop; 0 turns the cache
off). "Not found" is kept at most ``NEGATIVE_SECONDS``, and for Bearer tokens not at all (tokens
are inserted without bumping the counter). Enrollments (who is in the class) are never cached:
they are checked against the database on every launch. A transaction that writes these tables
and then reads them through the cache may put its uncommitted rows in it; if it rolls back,
the counter goes back too, and the next read of it by any thread clears them.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection

from roster.models import Org, SchoolClass
from tools_registry import grants
from tools_registry.models import Deployment, Placement, Registration

from . import generation
from .models import AccessToken, LineItem

GENERATION_CHECK_SECONDS = 1.0  # outside requests, read the counter at most this often
NEGATIVE_SECONDS = 1.0  # keep a "not found" at most this long (and never past the lifetime)
MAX_ENTRIES = 50_000  # a runaway key space resets the cache

T = TypeVar("T")
# A Bearer token's (registration id, scopes, expiry).
TokenRow = tuple[int, list[str], datetime.datetime]


class _ThreadState(threading.local):
    due_at = 0.0  # when this thread reads the counter next (0: at its next cache use)
    generation: int | None = None  # the value this thread read last


def read_generation() -> int:
    """The counter, by hand-written SQL (this runs on every request that uses the cache)."""
    with connection.cursor() as cursor:
        cursor.execute(generation.READ_SQL)
        row = cursor.fetchone()
    return int(row[0]) if row is not None else -1  # no row: a flushed test database


class ConfigCache:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # a seam for tests
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._generation: int | None = None  # the counter value the entries belong to
        self._thread = _ThreadState()

    def clear(self) -> None:
        """Forget every entry; this thread reads the counter again at its next use."""
        with self._lock:
            self._entries.clear()
            self._generation = None
        self._thread.due_at = 0.0

    def request_started(self, **_: Any) -> None:
        """``request_started``: read the counter once more, at this request's first cache use."""
        self._thread.due_at = 0.0

    def _sync(self, now: float) -> _ThreadState:
        state = self._thread
        if now >= state.due_at:
            # Read under the lock, so reads are ordered: a thread that read an older value
            # cannot set the cache back to it after another thread saw a newer one.
            with self._lock:
                value = read_generation()
                if value != self._generation:  # "!=": a rolled-back write lowers it again
                    self._entries.clear()
                    self._generation = value
            state.generation = value
            state.due_at = now + GENERATION_CHECK_SECONDS
        return state

    def _get(self, key: tuple[Any, ...], load: Callable[[], T], *, negative: bool = True) -> T:
        lifetime = float(settings.LTI_CONFIG_CACHE_SECONDS)
        if lifetime <= 0:
            return load()
        now = self.clock()
        state = self._sync(now)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            hit: T = entry[1]
            return hit
        value = load()  # after the counter was read: a write after that read clears it again
        if value is None:
            if not negative:
                return value
            lifetime = min(lifetime, NEGATIVE_SECONDS)
        with self._lock:
            # Kept only if loaded at the generation the cache holds: another thread may have
            # seen a newer counter (and cleared) while this one was loading.
            if state.generation == self._generation:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now + lifetime, value)
        return value

    def access_token(self, token_hash: str) -> TokenRow | None:
        """A Bearer token's (registration id, scopes, expiry); unknown tokens are not kept.

        Expiry and the registration are checked by the caller on every use."""

        def load() -> TokenRow | None:
            return (
                AccessToken.objects.filter(token_hash=token_hash)
                .values_list("registration_id", "scopes", "expires_at")
                .first()
            )

        return self._get(("token", token_hash), load, negative=False)

    def registration(self, client_id: str) -> Registration | None:
        """The active registration with this client_id."""

        def load() -> Registration | None:
            return Registration.objects.filter(client_id=client_id, is_active=True).first()

        result: Registration | None = self._get(("registration", client_id), load)
        return result

    def placement(self, resource_link_id: uuid.UUID) -> Placement | None:
        """A placement with its deployment, registration, tool, school and district."""

        def load() -> Placement | None:
            return (
                Placement.objects.filter(resource_link_id=resource_link_id)
                .select_related("deployment__registration__tool", "school")
                .first()
            )

        result: Placement | None = self._get(("placement", resource_link_id), load)
        return result

    def registration_by_pk(self, pk: int) -> Registration | None:
        """The active registration with this primary key."""

        def load() -> Registration | None:
            return Registration.objects.filter(pk=pk, is_active=True).first()

        result: Registration | None = self._get(("registration_pk", pk), load)
        return result

    def deployment(self, pk: int) -> Deployment | None:
        """A deployment (active or not) with its org."""

        def load() -> Deployment | None:
            return Deployment.objects.filter(pk=pk).select_related("org").first()

        result: Deployment | None = self._get(("deployment", pk), load)
        return result

    def grant(
        self,
        deployment: Deployment,
        registration: Registration | None = None,
        school: Org | None = None,
    ) -> grants.Grant:
        """A deployment's grant (``tools_registry.grants``: its board's decision within the
        registration's request and the deployment's overlay)."""

        def load() -> grants.Grant:
            return grants.compute_grant(deployment, registration, school)

        result: grants.Grant = self._get(("grant", deployment.pk), load)
        return result

    def placements_of(self, deployment_id: int) -> list[Placement]:
        """Every placement of a deployment, with its deployment and registration (the scope
        rule of the services: tools_registry.visibility.deployment_placed_in)."""

        def load() -> list[Placement]:
            return list(
                Placement.objects.filter(deployment_id=deployment_id).select_related(
                    "deployment__registration"
                )
            )

        result: list[Placement] = self._get(("placements_of", deployment_id), load)
        return result

    def school_class(self, sourced_id: uuid.UUID) -> SchoolClass | None:
        """A class with its school (the school's board is ``school.parent_id``)."""

        def load() -> SchoolClass | None:
            return (
                SchoolClass.objects.filter(sourced_id=sourced_id).select_related("school").first()
            )

        result: SchoolClass | None = self._get(("class", sourced_id), load)
        return result

    def line_item(self, deployment_id: int, class_id: int, item_id: int) -> LineItem | None:
        """A line item of one deployment in one class."""

        def load() -> LineItem | None:
            return LineItem.objects.filter(
                pk=item_id, deployment_id=deployment_id, school_class_id=class_id
            ).first()

        result: LineItem | None = self._get(("item", deployment_id, class_id, item_id), load)
        return result

    def launch_line_item(self, deployment_id: int, placement_id: int, class_id: int) -> int | None:
        """The id of the only line item of a resource link in a class, if exactly one.

        "None or several" is an answer about rows that exist, not a miss: it is kept as long
        as an id (0 in the cache), since every write to line items bumps the counter. A
        launch without a line item (most of them) would otherwise query again every second
        per class and process (``NEGATIVE_SECONDS``)."""

        def load() -> int:
            ids = list(
                LineItem.objects.filter(
                    deployment_id=deployment_id, placement_id=placement_id, school_class_id=class_id
                ).values_list("pk", flat=True)[:2]
            )
            return ids[0] if len(ids) == 1 else 0

        result: int = self._get(("lineitem", deployment_id, placement_id, class_id), load)
        return result or None


config_cache = ConfigCache()
